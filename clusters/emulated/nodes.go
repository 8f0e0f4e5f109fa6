package emulated

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
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

// clusterNodes mirrors the docs' k3d cluster: one server and two agents.
func clusterNodes() []nodeSpec {
	return []nodeSpec{
		{Name: "scalebench-server-0", Server: true, PodCIDR: "10.42.0.0/24"},
		{Name: "scalebench-agent-0", PodCIDR: "10.42.1.0/24"},
		{Name: "scalebench-agent-1", PodCIDR: "10.42.2.0/24"},
	}
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
func createNodes(ctx context.Context, cs kubernetes.Interface, shape NodeShape, runID string) error {
	for _, n := range clusterNodes() {
		_, err := cs.CoreV1().Nodes().Create(ctx, nodeObject(n, shape, runID), metav1.CreateOptions{FieldManager: fieldManager})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create node %q: %w", n.Name, err)
		}
	}
	return nil
}

// nodesReady reports whether every emulated node is Ready, and a summary.
func nodesReady(ctx context.Context, cs kubernetes.Interface) (bool, string, error) {
	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return false, "list nodes: " + err.Error(), nil
	}
	want := map[string]bool{}
	for _, n := range clusterNodes() {
		want[n.Name] = false
	}
	var states []string
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
		states = append(states, fmt.Sprintf("%s ready=%t", n.Name, ready))
	}
	sort.Strings(states)
	for _, r := range want {
		if !r {
			return false, "nodes: " + strings.Join(states, ", "), nil
		}
	}
	return true, "nodes: " + strings.Join(states, ", "), nil
}
