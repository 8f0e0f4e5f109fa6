package runner

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
	"github.com/scalebench/scalebench/workloads"
)

// cpuCluster records the utilizations it is asked to hold.
type cpuCluster struct {
	fakeCluster
	mu    sync.Mutex
	calls []float64
	sel   string
}

func (c *cpuCluster) SetCPUUtilization(ns, sel string, pct float64) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls, c.sel = append(c.calls, pct), ns+" "+sel
	return nil
}

func cpuRun(t *testing.T, cl any) *run {
	t.Helper()
	doc := `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: p}
spec:
  namespace: ns
  workload: {name: app, image: x, resources: {limits: {cpu: 500m}, requests: {cpu: 100m}}}
  autoscaler: {type: hpa, maxReplicas: 4, cpuUtilization: 50}
  load: {type: cpu, cpu: {profile: [{utilization: 10%, for: 1s}, {utilization: 200%, for: 1s}, {utilization: 10%, for: 1s}]}}
`
	s, err := scenario.Parse([]byte(doc), "t")
	if err != nil {
		t.Fatal(err)
	}
	r := &run{s: s, rec: timeline.NewRecorder(), set: &workloads.Set{PodSelector: "app=app"}}
	switch c := cl.(type) {
	case *cpuCluster:
		r.opts.Cluster = c
	case *fakeCluster:
		r.opts.Cluster = c
	}
	return r
}

// The profile's steps reach the cluster in order; the load stop is the start
// of the last run of steps below the target; stop returns the pods to idle.
func TestCPULoadSteps(t *testing.T) {
	c := &cpuCluster{}
	r := cpuRun(t, c)
	start := time.Now()
	stop, err := r.cpuLoad(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 1900*time.Millisecond || el > 2500*time.Millisecond {
		t.Errorf("cpuLoad returned after %s, want at the load stop (2 s: the last step is below the target)", el)
	}
	stop()
	c.mu.Lock()
	calls, sel := slices.Clone(c.calls), c.sel
	c.mu.Unlock()
	if len(calls) < 3 || !slices.Equal(calls[:2], []float64{10, 200}) || calls[len(calls)-1] != 0 || sel != "ns app=app" {
		t.Errorf("calls %v on %q, want 10, 200, (10,) then 0 on ns app=app", calls, sel)
	}
	var names []string
	for _, e := range r.rec.Events() {
		if e.Marker != nil {
			names = append(names, e.Marker.Name+" "+e.Marker.Detail)
		}
	}
	joined := strings.Join(names, "; ")
	for _, want := range []string{"load-start cpu profile of each pod's CPU request: 10% for 1s, 200% for 1s, 10% for 1s", "cpu-step 10%", "cpu-step 200%", "load-stop cpu profile below the target from here (at 2s of 3s)"} {
		if !strings.Contains(joined, want) {
			t.Errorf("markers %q lack %q", joined, want)
		}
	}
}

// A cluster that cannot drive CPU fails the run, saying so.
func TestCPULoadNeedsDriver(t *testing.T) {
	r := cpuRun(t, &fakeCluster{})
	stop, err := r.cpuLoad(context.Background())
	stop()
	if err == nil || KindOf(err) != results.ErrorHarness || !strings.Contains(err.Error(), "this cluster cannot drive a pod's CPU directly") {
		t.Errorf("err %v", err)
	}
}
