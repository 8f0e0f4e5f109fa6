package emulated_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/loadjob"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

// TestLoadJobOnEmulatedCluster runs a scenario whose load is placed in the
// cluster: the load Job is applied through the real API server, its two
// pods (emulated: the data plane runs their bench loadgen in process) wait
// for the start barrier, the bench reads their JSON lines through pods/log
// (the API server asks kwok's kubelet endpoint), merges them, and deletes
// the Job and its pods.
func TestLoadJobOnEmulatedCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: an emulated cluster and an in-cluster load Job (~2 min)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them): %s", strings.Join(missing, ", "))
	}
	doc := `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: incluster-load}
spec:
  namespace: incluster
  workload:
    name: hello
    image: ghcr.io/spinkube/containerd-shim-spin/examples/spin-rust-hello:v0.13.0
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 500m, memory: 128Mi}}
    emulation: {model: hello}
  autoscaler: {type: hpa, minReplicas: 1, maxReplicas: 2, cpuUtilization: 90}
  load:
    type: http
    placement: cluster
    cluster: {parallelism: 2, startDelay: 15s}
    http: {connections: 4, rate: 40, duration: 8s, timeout: 5s}
  expectations:
    scaleDown: {replicas: 1, within: 30s}
`
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := scenario.Resolve(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	runID := runner.NewRunID()
	c, err := (&emulated.Provider{IngressAddr: "127.0.0.1:0"}).Create(ctx, clusters.Options{Name: "loadjob", RunID: runID, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer func() {
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()
	ready := time.Since(start)
	res := runner.Run(ctx, runner.Options{Cluster: c, RunID: runID, Progress: logWriter{t}}, s)
	t.Logf("MEASURED cluster ready in %s, run in %s", ready.Round(time.Second), (time.Since(start) - ready).Round(time.Second))
	if res.Error != "" {
		t.Fatalf("%s error: %s", res.ErrorKind, res.Error)
	}
	m := res.Metrics
	if m.LoadPlacement != scenario.PlacementCluster || m.LoadPods == nil || *m.LoadPods != 2 || !strings.Contains(m.LoadPlacementNote, "emulated") {
		t.Errorf("report's placement %q, pods %v, note %q; want cluster, 2, emulated", m.LoadPlacement, m.LoadPods, m.LoadPlacementNote)
	}
	if m.Requests == nil || *m.Requests < 100 {
		t.Fatalf("requests %v, want about 320 (40/s for 8 s)", m.Requests)
	}
	// The merged totals are the pods' own totals summed.
	var sum int64
	for pod, n := range m.LoadPodRequests {
		if n == 0 {
			t.Errorf("pod %s sent no request", pod)
		}
		sum += n
	}
	if len(m.LoadPodRequests) != 2 || sum != *m.Requests {
		t.Errorf("pods' totals %v (sum %d), merged requests %d", m.LoadPodRequests, sum, *m.Requests)
	}
	var inSeconds int
	for _, e := range res.Timeline {
		if e.Load != nil {
			inSeconds += e.Load.Requests
		}
	}
	if int64(inSeconds) != *m.Requests {
		t.Errorf("the timeline's load seconds hold %d requests, the totals %d", inSeconds, *m.Requests)
	}
	// Teardown: no load Job or pod is left.
	cs := kubernetes.NewForConfigOrDie(c.RESTConfig())
	jobs, err := cs.BatchV1().Jobs(s.Spec.Namespace).List(ctx, metav1.ListOptions{LabelSelector: loadjob.LabelName + "=" + loadjob.Name})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := cs.CoreV1().Pods(s.Spec.Namespace).List(ctx, metav1.ListOptions{LabelSelector: loadjob.LabelName + "=" + loadjob.Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs.Items) != 0 || len(pods.Items) != 0 {
		t.Errorf("left behind: %d load Jobs, %d load pods", len(jobs.Items), len(pods.Items))
	}
}
