package emulated

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
)

// TestNodesAsNeeded: a scenario's 50 replicas of 100m/400Mi in nodes of 10
// pods need 7 nodes (50 × 1.25 ÷ 10); the cluster creates exactly those,
// with that capacity, states them in its knobs, and the 50 replicas reach
// Ready spread over them, never more than 10 on a node.
func TestNodesAsNeeded(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts an emulated cluster (~40 s)")
	}
	requireCachedBinaries(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	p := &Provider{IngressAddr: "127.0.0.1:0"}
	if err := p.PlanNodes([]clusters.NodeNeed{{Scenario: "fifty", MaxReplicas: 50, CPURequest: "100m", MemoryRequest: "400Mi", Pods: 10}}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := p.CreateCluster(ctx, clusters.Options{Name: "nodes", RunID: "nodes-" + time.Now().Format("150405"), WorkDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer func() {
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()
	knobs := c.Environment().Knobs
	t.Logf("nodes %s (%s), %s", knobs["nodes"], knobs["nodes.source"], knobs["node.allocatable"])
	if knobs["nodes"] != "7 (1 server, 6 agents)" || knobs["node.allocatable"] != "cpu=32 memory=256Gi pods=10" {
		t.Errorf("knobs nodes %q allocatable %q; want 7 nodes of 10 pods", knobs["nodes"], knobs["node.allocatable"])
	}
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 7 {
		t.Fatalf("%d nodes in the API server, want 7", len(nodes.Items))
	}
	for _, n := range nodes.Items {
		if pods := n.Status.Allocatable.Pods().Value(); pods != 10 {
			t.Errorf("node %s allocatable pods %d, want 10", n.Name, pods)
		}
	}
	ns := "fifty"
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitSA(t, ctx, cs, ns)
	mustCreateDeploymentWith(t, ctx, cs, ns, "fifty", 50, map[string]string{"scalebench.dev/model": "hello"})
	waitReadyReplicas(t, ctx, cs, ns, "fifty", 50, 3*time.Minute)
	perNode := map[string]int{}
	err = kube.Poll(ctx, 200*time.Millisecond, "50 Ready pods listed", func(ctx context.Context) (bool, string, error) {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=fifty"})
		if err != nil {
			return false, err.Error(), nil
		}
		clear(perNode)
		ready := 0
		for _, p := range pods.Items {
			perNode[p.Spec.NodeName]++
			for _, c := range p.Status.Conditions {
				if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
					ready++
				}
			}
		}
		return ready == 50, fmt.Sprintf("%d Ready of %d", ready, len(pods.Items)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("pods per node: %v", perNode)
	if len(perNode) < 5 {
		t.Errorf("50 pods on %d nodes; 10 a node needs at least 5", len(perNode))
	}
	for n, k := range perNode {
		if k > 10 {
			t.Errorf("node %s holds %d pods, allocatable 10", n, k)
		}
	}
	// The data plane serves them: an instance per Ready pod.
	if err := kube.Poll(ctx, 200*time.Millisecond, "50 data-plane instances", func(context.Context) (bool, string, error) {
		n := len(c.DataPlane().Instances())
		return n == 50, fmt.Sprintf("%d instances", n), nil
	}); err != nil {
		t.Error(err)
	}
}
