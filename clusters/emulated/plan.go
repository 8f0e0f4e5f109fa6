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
	// The nodes PlanNodes chose (bench plan sizes them first), else the defaults.
	shape, nodes, source := p.nodePlan()
	parts := partsFor(opts.Autoscalers)
	note := fmt.Sprintf("spin-operator %s", v.SpinOperator)
	if parts.keda {
		note += fmt.Sprintf(", KEDA %s", v.KEDA)
	}
	if parts.httpAddOn {
		note += fmt.Sprintf(" and the KEDA HTTP add-on %s", v.HTTPAddOn)
	}
	note += " run as local processes with their real CRDs, APIService and webhooks (no Helm, no cert-manager)"
	if !parts.keda || !parts.httpAddOn {
		note += "; only the parts these scenarios' autoscalers need are built and started"
	}
	return clusters.ClusterPlan{
		Details: []string{
			fmt.Sprintf("control plane: kube-apiserver, kube-controller-manager, kube-scheduler %s, etcd %s, metrics-server %s (local processes built from Go module sources, cached)", v.Kubernetes, v.Etcd, v.MetricsServer),
			fmt.Sprintf("nodes: %d KWOK nodes of %s (kwok %s; %s), no kubelet, no containers", len(nodes), shape, v.Kwok, source),
			fmt.Sprintf("ingress: the emulated data plane on %s", addr),
			"kubeconfig: in the run's work folder (bench run prints it when --keep is set)",
		},
		HelmPlatform: false,
		PlatformNote: note,
	}, nil
}
