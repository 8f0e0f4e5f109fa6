package k3d

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
	return clusters.ClusterPlan{
		Details: []string{
			fmt.Sprintf("k3d cluster %s (k3d Go library, Docker), containers labelled %s=<run id>", c.Name, RunIDLabel),
			"node image: " + c.Image,
			fmt.Sprintf("k3d helper images: %s (load balancer), %s (tools); every image is pulled before anything is created", c.Images()[1], c.Images()[2]),
			fmt.Sprintf("nodes: 1 server, %d agents; waits until all %d are Ready", c.Agents, 1+c.Agents),
			"ports: " + strings.Join(c.Ports, ", ") + " (ingress " + ingressURL(c.Ports) + ")",
			"kubeconfig: in the run's work folder; the cluster is deleted by its exact name on teardown (kept with --keep)",
		},
		HelmPlatform: true,
	}, nil
}
