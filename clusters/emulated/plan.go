package emulated

import (
	"fmt"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated/components"
)

var _ clusters.Planner = (*Provider)(nil)

// PlanCluster describes the cluster Create would start, without building or
// starting anything.
func (p *Provider) PlanCluster(opts clusters.Options) (clusters.ClusterPlan, error) {
	v := components.DefaultVersions()
	if p.Builder != nil {
		v = p.Builder.Versions
	}
	v = resolvedVersions(v)
	addr := opts.IngressAddr
	if addr == "" {
		addr = p.IngressAddr
	}
	if addr == "" {
		addr = "127.0.0.1:8081"
	}
	return clusters.ClusterPlan{
		Details: []string{
			fmt.Sprintf("control plane: kube-apiserver, kube-controller-manager, kube-scheduler %s, etcd %s, metrics-server %s (local processes built from Go module sources, cached)", v.Kubernetes, v.Etcd, v.MetricsServer),
			fmt.Sprintf("nodes: 3 KWOK nodes (kwok %s), no kubelet, no containers", v.Kwok),
			fmt.Sprintf("ingress: the emulated data plane on %s", addr),
			"kubeconfig: in the run's work folder (bench run prints it when --keep is set)",
		},
		HelmPlatform: false,
		PlatformNote: fmt.Sprintf("KEDA %s, spin-operator %s and the KEDA HTTP add-on %s run as local processes with their real CRDs, APIService and webhooks (no Helm, no cert-manager)", v.KEDA, v.SpinOperator, v.HTTPAddOn),
	}, nil
}
