package emulated_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/manifests"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

// Three copies of a short keda-http scenario at once (spec.apps): each app
// has its own InterceptorRoute and ScaledObject, is cold-started and loaded
// through the interceptor by its own Host, and scales from and back to zero;
// the report has each app's result and the distributions across the three.
func TestThreeAppsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: an emulated cluster and three keda-http apps at once (~100 s)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them): %s", strings.Join(missing, ", "))
	}
	doc := `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: three-apps}
spec:
  namespace: apps3
  apps: {count: 3}
  workload:
    name: hello
    image: ghcr.io/spinkube/containerd-shim-spin/examples/spin-rust-hello:v0.13.0
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: 100m, memory: 64Mi}
    emulation: {model: hello, startupLatency: 1s, latency: 5ms}
  autoscaler:
    type: keda-http
    minReplicas: 0
    maxReplicas: 4
    hosts: [hello.example]
    scaledownPeriod: 10
    scalingMetric:
      concurrency: {targetValue: 5}
  load:
    type: http
    http: {connections: 20, timeout: 10s, duration: 30s, host: hello.example, coldStarts: 1}
  expectations:
    scaleUp: {replicas: 2, within: 45s}
    scaleDown: {replicas: 0, within: 60s}
    coldStart: {max: 10s}
    maxErrorRate: 0
`
	s := resolveDoc(t, doc)

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	start := time.Now()
	p := &emulated.Provider{IngressAddr: "127.0.0.1:0"}
	runID := runner.NewRunID()
	c, err := p.Create(ctx, clusters.Options{Name: "apps", RunID: runID, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer func() {
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()
	res := runner.Run(ctx, runner.Options{Cluster: c, RunID: runID, Progress: logWriter{t}}, s)
	t.Logf("MEASURED wall time %s (cluster and run)", time.Since(start).Round(time.Second))
	if res.Error != "" {
		t.Fatalf("%s error: %s", res.ErrorKind, res.Error)
	}
	a := res.Apps
	if a == nil || a.Count != 3 || len(a.Results) != 3 {
		t.Fatalf("apps %+v", a)
	}
	for i, app := range a.Results {
		want := "three-apps-" + string(rune('1'+i))
		if app.Name != want {
			t.Errorf("app %d named %q, want %q", i+1, app.Name, want)
		}
		for _, ch := range app.Checks {
			if !ch.Passed && !ch.Skipped {
				t.Errorf("app %s: check %q failed: %s", app.Name, ch.Name, ch.Detail)
			}
		}
		// Each app's timeline is its own: its ScaledObject's activation,
		// not another app's.
		so := "ScaledObject/apps3/hello-" + string(rune('1'+i))
		own, other := 0, 0
		for _, e := range app.Timeline {
			if e.KubeEvent == nil || !strings.HasPrefix(e.Object, "ScaledObject/") {
				continue
			}
			if e.Object == so {
				own++
			} else {
				other++
			}
		}
		if own == 0 || other > 0 {
			t.Errorf("app %s: %d events of its ScaledObject %s, %d of the other apps' (want some and none)", app.Name, own, so, other)
		}
		if app.Metrics.ColdStartSeconds == nil || app.Metrics.FirstScaleUpSeconds == nil {
			t.Errorf("app %s: cold start %v, first scale-up %v (absent: %v)", app.Name, app.Metrics.ColdStartSeconds, app.Metrics.FirstScaleUpSeconds, app.Metrics.Absent)
		}
		t.Logf("app %s: passed %v, cold start %s s, first scale-up %s s, other apps' ScaledObject events seen %d", app.Name, app.Passed,
			fmtp(app.Metrics.ColdStartSeconds), fmtp(app.Metrics.FirstScaleUpSeconds), other)
	}
	for _, key := range []string{"coldStartSeconds", "firstScaleUpSeconds", "firstReadySeconds", "scaleDownSeconds"} {
		d := a.Metrics[key]
		if d == nil || d.N != 3 || d.Min > d.P50 || d.P50 > d.P95 || d.P95 > d.Max {
			t.Errorf("%s across the apps: %+v", key, d)
			continue
		}
		t.Logf("MEASURED %s across 3 apps: p50 %.3f, p95 %.3f, max %.3f", key, d.P50, d.P95, d.Max)
	}
	// The autoscalers' own lag, read from their metrics: KEDA's scale loop
	// of the three ScaledObjects, the HPA controller's queue.
	l := res.AutoscalerLag
	if l == nil || l.KEDAScaleLoopLatencySeconds == nil || l.HPAWorkqueueDepth == nil || l.HPAWorkqueueAdds == nil {
		t.Errorf("autoscaler lag %+v", l)
	} else {
		k := l.KEDAScaleLoopLatencySeconds
		t.Logf("MEASURED KEDA scale-loop latency: p50 %.4f, p95 %.4f, max %.4f s (%d readings); HPA workqueue depth max %g, adds %d, wait mean %s s, absent %v",
			k.P50, k.P95, k.Max, k.N, l.HPAWorkqueueDepth.Max, *l.HPAWorkqueueAdds, fmtp(l.HPAWorkqueueWaitMeanSeconds), l.Absent)
	}
	for _, app := range a.Results {
		if app.AutoscalerLag == nil || app.AutoscalerLag.KEDAScaleLoopLatencySeconds == nil {
			t.Errorf("app %s: no KEDA scale-loop latency of its own: %+v", app.Name, app.AutoscalerLag)
		}
	}
	if !res.Passed || a.Passed != 3 {
		t.Errorf("verdict %v, %d/3 apps passed, failed %v", res.Passed, a.Passed, a.Failed)
	}

	// The report round-trips with its apps, and the Markdown names them.
	var js, md bytes.Buffer
	rep := runnerReport(runID, res)
	if err := reports.WriteJSON(&js, rep); err != nil {
		t.Fatal(err)
	}
	back, err := reports.ReadJSON(&js)
	if err != nil || back.Scenarios[0].Apps == nil || len(back.Scenarios[0].Apps.Results) != 3 {
		t.Fatalf("report.json read back: %v", err)
	}
	if err := reports.WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Across 3 apps", "three-apps-1", "three-apps-3", "| firstScaleUpSeconds | 3/3 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}

	// Every app's objects, and the shared executor, are gone; so is the
	// namespace the run created.
	cl, err := kube.NewClients(c.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	if err := kube.Poll(ctx, time.Second, "namespace apps3 to go", func(ctx context.Context) (bool, string, error) {
		ns, err := cl.Kube.CoreV1().Namespaces().Get(ctx, "apps3", metav1.GetOptions{})
		if err != nil {
			return true, "", nil
		}
		return ns.DeletionTimestamp != nil, "phase " + string(ns.Status.Phase), nil
	}); err != nil {
		t.Error(err)
	}
}

func fmtp(p *float64) string { return results.FormatSeconds(p) }

func runnerReport(runID string, s results.Scenario) results.Report {
	return results.Report{SchemaVersion: results.SchemaVersion, RunID: runID, Scenarios: []results.Scenario{s}}
}

// resolveDoc reads a scenario document as bench run reads a file.
func resolveDoc(t *testing.T, doc string) *scenario.Scenario {
	t.Helper()
	path := filepath.Join(t.TempDir(), "scenario.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := manifests.Resolve(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
