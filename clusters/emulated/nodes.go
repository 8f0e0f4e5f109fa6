package emulated

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
)

// NodeShape is the size of every emulated node.
type NodeShape struct {
	CPU    resource.Quantity
	Memory resource.Quantity
	Pods   int64
}

// DefaultNodeShape fits the docs' workloads with room to spare: 20 replicas
// of 100m/400Mi need 2 CPU and 8 GiB on one node.
var DefaultNodeShape = NodeShape{
	CPU:    resource.MustParse("32"),
	Memory: resource.MustParse("256Gi"),
	Pods:   250,
}

// SetNodeCPU sets the CPU capacity of every node ("4", "3500m"): what the
// scheduler sees as allocatable and what the node's pods share in the data
// plane. The other NodeShape fields keep their values (defaults when unset).
func (p *Provider) SetNodeCPU(v string) error {
	q, err := resource.ParseQuantity(v)
	if err != nil || q.Sign() <= 0 || q.MilliValue() < 1 {
		return fmt.Errorf("node CPU %q: want a positive CPU quantity such as 4 or 3500m", v)
	}
	if p.NodeShape.CPU.IsZero() && p.NodeShape.Memory.IsZero() && p.NodeShape.Pods == 0 {
		p.NodeShape = DefaultNodeShape
	}
	p.NodeShape.CPU = q
	return nil
}

// nodeSpec names one emulated node.
type nodeSpec struct {
	Name    string
	Server  bool
	PodCIDR string
}

// DefaultNodeCount mirrors the docs' k3d cluster: one server and two agents.
const DefaultNodeCount = 3

// MaxNodes and MaxPodsPerNode bound what the emulated cluster creates: each
// node gets its own pod CIDR (a /24 while a node holds at most 250 pods and
// there are at most 250 nodes, as 10.42.<k>.0/24, else a /22 from 10.64.0.0/10).
const (
	MaxNodes       = 1000
	MaxPodsPerNode = 1000
)

// clusterNodes names count nodes: one server, the rest agents (count < 1
// means DefaultNodeCount).
func clusterNodes(count int, podsPerNode int64) []nodeSpec {
	if count < 1 {
		count = DefaultNodeCount
	}
	out := make([]nodeSpec, 0, count)
	for k := range count {
		n := nodeSpec{Name: fmt.Sprintf("scalebench-agent-%d", k-1), PodCIDR: nodeCIDR(k, count, podsPerNode)}
		if k == 0 {
			n.Name, n.Server = "scalebench-server-0", true
		}
		out = append(out, n)
	}
	return out
}

// nodeCIDR is node k's pod CIDR: 10.42.k.0/24 as before (the HTTP add-on's
// emulated endpoints sit at 10.42.250.x, outside every node's), or, for more
// than 250 nodes or pods per node, a /22 (1022 addresses) from 10.64.0.0/10.
func nodeCIDR(k, count int, podsPerNode int64) string {
	if count <= 250 && podsPerNode <= 250 {
		return fmt.Sprintf("10.42.%d.0/24", k)
	}
	return fmt.Sprintf("10.%d.%d.0/22", 64+k/64, (k%64)*4)
}

// NodePlan is the emulated cluster's nodes: how many, each one's shape, and
// how both were chosen (the report states it).
type NodePlan struct {
	Count  int
	Shape  NodeShape
	Source string
}

// nodeHeadroom is the share of node capacity added to what the scenarios'
// replicas request, for pods still terminating while new ones start.
const nodeHeadroom = 0.25

// PlanNodes sizes the nodes for the run's scenarios (clusters.NodePlanner):
// a scenario's spec.cluster.nodes sets the count and any of the per-node
// cpu, memory and pods; otherwise the count is the default 3 or, when the
// scenarios' maximum replicas × their pods' requests (summed over the
// scenarios: they may run together) plus 25 % headroom do not fit, as many
// as fit them in the tightest of cpu, memory and pods.
func (p *Provider) PlanNodes(needs []clusters.NodeNeed) error {
	shape := p.NodeShape
	if shape.CPU.IsZero() && shape.Memory.IsZero() && shape.Pods == 0 {
		shape = DefaultNodeShape
	}
	plan, err := planNodes(shape, needs)
	if err != nil {
		return err
	}
	p.NodeShape, p.Nodes, p.nodeSource = plan.Shape, plan.Count, plan.Source
	return nil
}

// nodePlan is the nodes Create starts: the shape, the nodes and how they
// were chosen (PlanNodes, the caller's Nodes and NodeShape, or the defaults).
func (p *Provider) nodePlan() (NodeShape, []nodeSpec, string) {
	shape := p.NodeShape
	if shape.CPU.IsZero() && shape.Memory.IsZero() && shape.Pods == 0 {
		shape = DefaultNodeShape
	}
	source := p.nodeSource
	if source == "" {
		source = "set by the caller"
		if p.Nodes < 1 {
			source = fmt.Sprintf("default (%d: 1 server, 2 agents)", DefaultNodeCount)
		}
	}
	return shape, clusterNodes(p.Nodes, shape.Pods), source
}

func planNodes(shape NodeShape, needs []clusters.NodeNeed) (NodePlan, error) {
	plan := NodePlan{Count: DefaultNodeCount, Shape: shape}
	var explicit []string
	for _, n := range needs {
		set := false
		if n.CPU != "" {
			q, err := resource.ParseQuantity(n.CPU)
			if err != nil || q.MilliValue() < 1 {
				return plan, fmt.Errorf("scenario %s: spec.cluster.nodes.cpu %q: want a positive CPU quantity such as 32 or 3500m", n.Scenario, n.CPU)
			}
			plan.Shape.CPU, set = q, true
		}
		if n.Memory != "" {
			q, err := resource.ParseQuantity(n.Memory)
			if err != nil || q.Sign() <= 0 {
				return plan, fmt.Errorf("scenario %s: spec.cluster.nodes.memory %q: want a positive memory quantity such as 256Gi", n.Scenario, n.Memory)
			}
			plan.Shape.Memory, set = q, true
		}
		if n.Pods > 0 {
			plan.Shape.Pods, set = int64(n.Pods), true
		}
		if n.Count > 0 {
			plan.Count, set = n.Count, true
		}
		if set {
			explicit = append(explicit, n.Scenario)
		}
	}
	var replicas int64
	var cpuMilli, memBytes int64
	var from []string
	for _, n := range needs {
		if n.MaxReplicas <= 0 {
			continue
		}
		r := int64(n.MaxReplicas)
		replicas += r
		if n.CPURequest != "" {
			if q, err := resource.ParseQuantity(n.CPURequest); err == nil {
				cpuMilli += r * q.MilliValue()
			}
		}
		if n.MemoryRequest != "" {
			if q, err := resource.ParseQuantity(n.MemoryRequest); err == nil {
				memBytes += r * q.Value()
			}
		}
		from = append(from, fmt.Sprintf("%s: %d × (cpu %s, memory %s)", n.Scenario, n.MaxReplicas, orNone(n.CPURequest), orNone(n.MemoryRequest)))
	}
	need := func(total, per int64) int {
		if per <= 0 || total <= 0 {
			return 0
		}
		withRoom := float64(total) * (1 + nodeHeadroom)
		return int(math.Ceil(withRoom / float64(per)))
	}
	derived := max(need(replicas, plan.Shape.Pods), need(cpuMilli, plan.Shape.CPU.MilliValue()), need(memBytes, plan.Shape.Memory.Value()))
	hasCount := false
	for _, n := range needs {
		hasCount = hasCount || n.Count > 0
	}
	switch {
	case hasCount:
		plan.Source = "spec.cluster.nodes of " + strings.Join(explicit, ", ")
		if derived > plan.Count {
			return plan, fmt.Errorf("spec.cluster.nodes.count %d: the scenarios' maximum replicas need %d nodes of %s (%s, plus %.0f %% headroom); raise the count or leave it out to derive it",
				plan.Count, derived, plan.Shape.String(), strings.Join(from, "; "), nodeHeadroom*100)
		}
	case derived > DefaultNodeCount:
		plan.Count = derived
		plan.Source = fmt.Sprintf("derived: the scenarios' maximum replicas × their pods' requests (%s) plus %.0f %% headroom, in nodes of %s", strings.Join(from, "; "), nodeHeadroom*100, plan.Shape.String())
	default:
		plan.Source = fmt.Sprintf("default (%d: 1 server, 2 agents; the scenarios' maximum replicas fit)", DefaultNodeCount)
	}
	if len(explicit) > 0 && !hasCount {
		plan.Source += "; node shape from spec.cluster.nodes of " + strings.Join(explicit, ", ")
	}
	if plan.Count > MaxNodes {
		return plan, fmt.Errorf("emulated nodes: %d needed, at most %d (%s): give each node more capacity in spec.cluster.nodes", plan.Count, MaxNodes, plan.Source)
	}
	if plan.Shape.Pods > MaxPodsPerNode {
		return plan, fmt.Errorf("spec.cluster.nodes.pods %d: at most %d", plan.Shape.Pods, MaxPodsPerNode)
	}
	return plan, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// String is "cpu=32 memory=256Gi pods=250".
func (s NodeShape) String() string {
	return fmt.Sprintf("cpu=%s memory=%s pods=%d", s.CPU.String(), s.Memory.String(), s.Pods)
}

// nodeObject builds a KWOK node: reachable by metrics-server on loopback
// (kwok's kubelet endpoint serves every node there), with the resource-metrics
// path kwok serves, no taints, and generous allocatable resources.
func nodeObject(n nodeSpec, shape NodeShape, runID string) *corev1.Node {
	labels := map[string]string{
		"kubernetes.io/hostname": n.Name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
		"type":                   "kwok",
	}
	if n.Server {
		labels["node-role.kubernetes.io/control-plane"] = "true"
		labels["node-role.kubernetes.io/master"] = "true"
	}
	if runID != "" {
		labels[LabelRunID] = runID
	}
	res := corev1.ResourceList{
		corev1.ResourceCPU:    shape.CPU,
		corev1.ResourceMemory: shape.Memory,
		corev1.ResourcePods:   *resource.NewQuantity(shape.Pods, resource.DecimalSI),
	}
	return &corev1.Node{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Node"},
		ObjectMeta: metav1.ObjectMeta{
			Name:   n.Name,
			Labels: labels,
			Annotations: map[string]string{
				"kwok.x-k8s.io/node":                   "fake",
				"metrics.k8s.io/resource-metrics-path": "/metrics/nodes/" + n.Name + "/metrics/resource",
			},
		},
		Spec: corev1.NodeSpec{
			PodCIDR:  n.PodCIDR,
			PodCIDRs: []string{n.PodCIDR},
		},
		Status: corev1.NodeStatus{
			Allocatable: res,
			Capacity:    res,
			Addresses: []corev1.NodeAddress{
				{Type: corev1.NodeInternalIP, Address: "127.0.0.1"},
				{Type: corev1.NodeHostName, Address: n.Name},
			},
			NodeInfo: corev1.NodeSystemInfo{
				Architecture:    "amd64",
				OperatingSystem: "linux",
			},
		},
	}
}

// createNodes creates the nodes (status included: a node's status is set on
// create). Existing nodes are left alone.
func createNodes(ctx context.Context, cs kubernetes.Interface, nodes []nodeSpec, shape NodeShape, runID string) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, n := range nodes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			_, err := cs.CoreV1().Nodes().Create(ctx, nodeObject(n, shape, runID), metav1.CreateOptions{FieldManager: fieldManager})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				errs[i] = fmt.Errorf("create node %q: %w", n.Name, err)
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// nodesReady reports whether every emulated node is Ready, and a summary.
func nodesReady(ctx context.Context, cs kubernetes.Interface, nodes []nodeSpec) (bool, string, error) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, "list nodes: " + err.Error(), nil
	}
	want := map[string]bool{}
	for _, n := range nodes {
		want[n.Name] = false
	}
	var states []string
	notReady := 0
	for _, n := range list.Items {
		ready := false
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				ready = true
			}
		}
		if _, ok := want[n.Name]; ok {
			want[n.Name] = ready
		}
		if len(nodes) <= 10 || !ready {
			states = append(states, fmt.Sprintf("%s ready=%t", n.Name, ready))
		}
	}
	sort.Strings(states)
	if len(states) > 10 {
		states = append(states[:10], fmt.Sprintf("… %d more", len(states)-10))
	}
	for _, r := range want {
		if !r {
			notReady++
		}
	}
	summary := fmt.Sprintf("nodes: %d of %d Ready", len(nodes)-notReady, len(nodes))
	if len(states) > 0 {
		summary += ": " + strings.Join(states, ", ")
	}
	return notReady == 0, summary, nil
}
