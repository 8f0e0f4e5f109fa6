package kind

import (
	"fmt"
	"strings"

	"github.com/scalebench/scalebench/clusters"
)

var _ clusters.Planner = (*Provider)(nil)

// PlanCluster describes the cluster Create would make, from the settings
// alone, without contacting Docker.
func (p *Provider) PlanCluster(opts clusters.Options) (clusters.ClusterPlan, error) {
	c := ConfigFor(opts)
	if err := c.Validate(); err != nil {
		return clusters.ClusterPlan{}, err
	}
	shim := "in the node image (containerd runtime \"spin\" registered by a containerdConfigPatches entry)"
	if c.NeedsNodeInstaller() {
		shim = fmt.Sprintf("installed on every node by the SpinKube node installer %s:%s (DaemonSet %s/%s)", NodeInstallerRepo, c.ShimVersion, InstallerNamespace, InstallerName)
	}
	return clusters.ClusterPlan{
		Details: []string{
			fmt.Sprintf("kind cluster %s (kind Go library, Docker), nodes labelled %s=<run id>", c.Name, RunIDLabel),
			"node image: " + c.Image(),
			fmt.Sprintf("nodes: 1 control plane, %d workers; waits until all %d are Ready", c.Agents, 1+c.Agents),
			"shim " + c.ShimVersion + ": " + shim,
			"ports: " + strings.Join(c.Ports, ", ") + " (ingress " + ingressURL(c.Ports) + ")",
			"kubeconfig: in the run's work folder; the cluster is deleted by its exact name on teardown (kept with --keep)",
		},
		HelmPlatform: true,
	}, nil
}
