package emulated_test

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/timeline"
)

// hpaRules are what the HPA controller's documented arithmetic needs.
type hpaRules struct {
	min, max  int32
	target    float64 // percent of the CPU request
	tolerance float64
}

// hpaViolations checks every status of the HPA object in the timeline
// against the controller's documented arithmetic without a behavior:
// desired = ceil(current × utilization ÷ target), unchanged within the
// tolerance, clamped to min..max, a scale-up at most max(2 × current, 4)
// per sync, a scale-down held back (never below the computed count) by the
// downscale stabilization window. The status reports utilization as a whole
// percent, so each bound is taken over ±0.5 % of it.
func hpaViolations(evs []timeline.Event, hpa string, r hpaRules) (checked int, violations []string) {
	clamp := func(v int32) int32 { return min(max(v, r.min), r.max) }
	for _, e := range evs {
		a := e.Autoscaler
		if a == nil || !strings.HasSuffix(e.Object, "/"+hpa) || a.Current <= 0 || !strings.HasPrefix(a.Metric, "cpu ") {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimPrefix(a.Metric, "cpu "), "%"), 64)
		if err != nil {
			continue
		}
		c := a.Current
		raw := func(u float64) int32 {
			if math.Abs(u/r.target-1) <= r.tolerance {
				return c
			}
			return int32(math.Ceil(float64(c)*u/r.target - 1e-9))
		}
		lim := max(2*c, 4)
		lo, hi := clamp(min(raw(n-0.5), lim)), clamp(min(raw(n+0.5), lim))
		var ok bool
		switch {
		case lo > c: // a scale-up: exactly the arithmetic
			ok = a.Desired >= lo && a.Desired <= hi
		case hi < c: // a scale-down: the window may hold it up to current
			ok = a.Desired >= lo && a.Desired <= c
		default:
			ok = a.Desired >= min(lo, c) && a.Desired <= max(hi, c)
		}
		checked++
		if !ok {
			violations = append(violations, fmt.Sprintf("at %.1f s: current %d, %s of a %.0f%% target: desired %d, want %d..%d",
				e.At.Seconds(), c, a.Metric, r.target, a.Desired, lo, hi))
		}
	}
	return checked, violations
}

// The checker fails on statuses that break the arithmetic.
func TestHPAViolations(t *testing.T) {
	r := hpaRules{min: 2, max: 3, target: 60, tolerance: 0.1}
	ev := func(cur, des int32, metric string) timeline.Event {
		return timeline.Event{Kind: timeline.KindAutoscaler, Object: "HorizontalPodAutoscaler/ns/h", Autoscaler: &timeline.AutoscalerStatus{Current: cur, Desired: des, Metric: metric}}
	}
	good := []timeline.Event{ev(2, 2, "cpu 20%"), ev(2, 2, "cpu 63%"), ev(2, 3, "cpu 100%"), ev(3, 3, "cpu 100%"), ev(3, 3, "cpu 10%"), ev(3, 2, "cpu 10%")}
	if n, v := hpaViolations(good, "h", r); n != 6 || len(v) != 0 {
		t.Errorf("checked %d, violations %q; want 6 and none", n, v)
	}
	bad := []timeline.Event{ev(2, 2, "cpu 100%"), ev(2, 3, "cpu 20%"), ev(3, 1, "cpu 10%"), ev(2, 3, "cpu 62%")}
	if _, v := hpaViolations(bad, "h", r); len(v) != 4 {
		t.Errorf("violations %q; want all 4 statuses", v)
	}
	wide := hpaRules{min: 1, max: 20, target: 50, tolerance: 0.1}
	if _, v := hpaViolations([]timeline.Event{ev(1, 4, "cpu 500%"), ev(4, 8, "cpu 500%"), ev(4, 10, "cpu 500%")}, "h", wide); len(v) != 1 {
		t.Errorf("legacy scale-up limit: violations %q; want only 4 → 10 (more than max(2 × 4, 4))", v)
	}
}

// TestScaffoldHPAUnderCPUProfile runs the scaffold-hpa fixture (spin kube
// scaffold --autoscaler hpa: SpinApp, HPA 2..3 at 60 % of a 500m request)
// as it is under a CPU profile on the emulated cluster, and checks every
// HPA decision against the controller's arithmetic and the observed steps
// against the ones its budget predicts. The cluster runs the HPA with a
// 30 s downscale stabilization (kube-controller-manager's flag; the budget
// uses the value in force) so the return to min fits a test.
func TestScaffoldHPAUnderCPUProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: an emulated cluster and a 2-minute CPU profile (~4 min)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them): %s", strings.Join(missing, ", "))
	}
	fixture, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "manifests", "scaffold-hpa"))
	if err != nil {
		t.Fatal(err)
	}
	doc := `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: scaffold-hpa-cpu}
spec:
  namespace: scaffold-cpu
  workload: {manifests: ` + fixture + `}
  load:
    type: cpu
    cpu: {profile: [{utilization: 20%, for: 30s}, {utilization: 180%, for: 60s}, {utilization: 10%, for: 30s}]}
`
	s := resolveDoc(t, doc)

	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	start := time.Now()
	p := &emulated.Provider{IngressAddr: "127.0.0.1:0", HPA: emulated.HPASettings{DownscaleStabilization: 30 * time.Second}}
	runID := runner.NewRunID()
	c, err := p.Create(ctx, clusters.Options{Name: "manifests", RunID: runID, WorkDir: t.TempDir()})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	defer func() {
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete: %v", err)
		}
	}()
	res := runner.Run(ctx, runner.Options{Cluster: c, RunID: runID, Progress: logWriter{t}}, s)
	t.Logf("MEASURED wall time %s (cluster and run); steps %v", time.Since(start).Round(time.Second), res.Steps)
	if res.Error != "" {
		t.Fatalf("%s error: %s", res.ErrorKind, res.Error)
	}
	for _, ch := range res.Checks {
		if !ch.Passed && !ch.Skipped {
			t.Errorf("check %q failed: %s", ch.Name, ch.Detail)
		}
	}

	// Every decision of the user's HPA follows the arithmetic.
	for _, e := range res.Timeline {
		if a := e.Autoscaler; a != nil {
			t.Logf("HPA status at %.1f s: current %d, desired %d, %s", e.Seconds(), a.Current, a.Desired, a.Metric)
		}
	}
	n, v := hpaViolations(res.Timeline, "cpu-load-gen-autoscaler", hpaRules{min: 2, max: 3, target: 60, tolerance: 0.1})
	if n < 3 {
		t.Errorf("only %d HPA statuses with a CPU reading checked", n)
	}
	for _, x := range v {
		t.Errorf("HPA decision off the arithmetic: %s", x)
	}

	// The observed steps are the predicted ones, within the budget.
	b := res.Budget
	if b == nil {
		t.Fatalf("no budget: %s", res.BudgetAbsent)
	}
	loadStart, loadStop := marker(res, timeline.MarkerLoadStart), marker(res, timeline.MarkerLoadStop)
	want := append(toSteps(b.Steps, loadStart, "start"), toSteps(b.ScaleDownSteps, loadStop, "end")...)
	// Steps before the load (the HPA raising the one pod the SpinApp
	// starts with to minReplicas) are not the profile's.
	var steps []results.Step
	for _, st := range res.Steps {
		if st.AtSeconds >= loadStart {
			steps = append(steps, st)
		}
	}
	var got, pred []string
	for _, st := range steps {
		got = append(got, fmt.Sprintf("%d→%d", st.From, st.To))
	}
	for _, st := range want {
		pred = append(pred, fmt.Sprintf("%d→%d", st.From, st.To))
	}
	if fmt.Sprint(got) != fmt.Sprint(pred) {
		t.Fatalf("observed steps %v, predicted %v", got, pred)
	}
	for i, st := range steps {
		at := st.AtSeconds - want[i].base
		lo, hi := b.FirstScaleUp.MinSeconds, b.ReachMax.MaxSeconds
		if i > 0 {
			lo, hi = b.BackToMin.MinSeconds, b.BackToMin.MaxSeconds
		}
		// One sync of slack each way: watch latency and a busy machine.
		if at < lo-2 || at > hi+15 {
			t.Errorf("step %d → %d at %.1f s from the load %s, predicted %.1f–%.1f s", st.From, st.To, at, want[i].from, lo, hi)
		}
		t.Logf("step %d → %d: observed %.1f s, predicted %.1f–%.1f s (from the load %s)", st.From, st.To, at, lo, hi, want[i].from)
	}
}

type budgetStep struct {
	from     string
	base     float64
	From, To int32
}

// toSteps places predicted steps, counted from the load start or end
// (at base s of the run), for comparison with the observed ones.
func toSteps(ss []budget.Step, base float64, from string) []budgetStep {
	var out []budgetStep
	for _, s := range ss {
		out = append(out, budgetStep{from: from, base: base, From: s.From, To: s.To})
	}
	return out
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func marker(res results.Scenario, name string) float64 {
	for _, e := range res.Timeline {
		if e.Marker != nil && e.Marker.Name == name {
			return e.Seconds()
		}
	}
	return math.NaN()
}
