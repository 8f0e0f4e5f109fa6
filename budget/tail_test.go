package budget

import (
	"strings"
	"testing"
	"time"

	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/scenario"
)

// tailScenario is a keda-cpu scenario shaped like the keda-cpu manifests
// fixture: 1..5 replicas at 50 % of a 100m request, a 30 s scale-down
// window, under a CPU profile whose last step is tail.
func tailScenario(t *testing.T, tail string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Parse([]byte(`apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: tail}
spec:
  workload: {name: app, image: x, resources: {limits: {cpu: 500m}, requests: {cpu: 100m}}}
  autoscaler:
    type: keda-cpu
    minReplicas: 1
    maxReplicas: 5
    cpuUtilization: 50
    behavior: {scaleDown: {stabilizationWindowSeconds: 30}}
  load:
    type: cpu
    cpu:
      profile:
        - {utilization: 20%, for: 30s}
        - {utilization: 180%, for: 90s}
        - `+tail+`
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// The keda-cpu fixture's tail: 10 % of the request with 5 replicas at a
// 50 % target is ceil(5 × 0.2) = 1 exactly at its level, but a reading a
// little above it (the emulated pod's own 1m on top of its 10m) asks for
// ceil(1.1) = 2, and keeps asking for it while the tail lasts: the HPA
// steps 5 → 2, then 2 → 1 only once that 2 has left the 30 s scale-down
// window. The model used to read the tail as nothing: at worst 5 → 2 from
// a partly busy scrape and 2 → 1 one sync later, 58.1 s, so the derived
// expectation was 74 s, and the run came back at 1 in 74.6 s.
func TestTailOnAnIntegerBoundary(t *testing.T) {
	s := tailScenario(t, "{utilization: 10%, for: 60s}")
	b, err := For(*s)
	if err != nil {
		t.Fatal(err)
	}
	ss := b.ScaleDownSteps
	if got := stepsOf(ss); got != "5→2→1" {
		t.Fatalf("slowest scale-down %s, want 5→2→1; steps %+v", got, ss)
	}
	if ss[1].AtSeconds-ss[0].AtSeconds != 30 {
		t.Errorf("steps %+v: want the second one window (30 s) after the first", ss)
	}
	if !strings.Contains(ss[0].Why, "desired 2 = ceil(5 × 0.22) from the profile's 10% after the load end, read 10% above it") {
		t.Errorf("first step's why %q", ss[0].Why)
	}
	if b.BackToMin.MaxSeconds < 74.6 {
		t.Errorf("back-to-min budget %.1f s, below the 74.6 s a run measured", b.BackToMin.MaxSeconds)
	}
	var sum float64
	for _, tm := range b.BackToMin.Terms {
		sum += tm.Seconds
	}
	if d := sum - b.BackToMin.MaxSeconds; d > 0.01 || d < -0.01 {
		t.Errorf("terms sum to %.2f, budget %.2f", sum, b.BackToMin.MaxSeconds)
	}
	// The old reading (the tail as nothing) is the idle tail's: it derives
	// the 74 s the run missed; the tail read as it is derives more.
	idle := tailScenario(t, "{utilization: 0%, for: 60s}")
	if _, err := Derive(idle); err != nil {
		t.Fatal(err)
	}
	if got := idle.Spec.Expectations.ScaleDown.Within.Duration; got != 74*time.Second {
		t.Errorf("idle tail: scaleDown within %s, want 74s (58.1 s + 15 s margin)", got)
	}
	if _, err := Derive(s); err != nil {
		t.Fatal(err)
	}
	if got := s.Spec.Expectations.ScaleDown.Within.Duration; got <= 75*time.Second || got > 2*time.Minute {
		t.Errorf("10%% tail: scaleDown within %s, want above the 74.6 s measured, below 2m", got)
	}
	// Alignment by alignment: read at its level the tail never asks for
	// more than the minimum; read at the band's top it asks for 2 until it
	// ends, so every run ends 2 → 1, at least one sync later than at the
	// level.
	m := mustModel(t, tailScenario(t, "{utilization: 10%, for: 60s}"))
	for _, a := range m.alignments(false) {
		nom := m.simDown(a[0], a[1], a[2], readingNominal)
		for _, st := range nom.steps {
			if strings.Contains(st.Why, "after the load end") {
				t.Fatalf("alignment %v at the level: step %+v from the tail", a, st)
			}
		}
		r := m.simDown(a[0], a[1], a[2], readingHigh)
		n := len(r.steps)
		if n < 2 || r.steps[n-1].From != 2 || r.reached < nom.reached+15*sec {
			t.Fatalf("alignment %v: above the level %+v (at %d ms), at it %+v (at %d ms): want … → 2 → 1 at least a sync later", a, r.steps, r.reached, nom.steps, nom.reached)
		}
	}
	var sb strings.Builder
	if err := b.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{KnobCPUProfileTail + ", percent of the request = 10% for 1m0s, then idle (scenario)", "tail reading band = ±10% of each tail level"} {
		if !strings.Contains(sb.String(), want) {
			t.Errorf("text lacks %q:\n%s", want, sb.String())
		}
	}
}

func mustModel(t *testing.T, s *scenario.Scenario) *model {
	t.Helper()
	sp, err := SpecOf(*s)
	if err != nil {
		t.Fatal(err)
	}
	m, err := newModel(sp, DefaultCluster())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// A tail away from a boundary asks for the minimum whatever the band: 4
// replicas at 60 % reading 10 % ask for ceil(4 × 0.17 × 1.1) = 1. It adds
// only its share of the partly busy scrape at the load end.
func TestTailAwayFromABoundary(t *testing.T) {
	var budgets []float64
	for _, tail := range []string{"{utilization: 10%, for: 60s}", "{utilization: 0%, for: 60s}"} {
		s := tailScenario(t, tail)
		s.Spec.Autoscaler.MaxReplicas = 4
		s.Spec.Autoscaler.CPUUtilization = ptr.To[int32](60)
		b, err := For(*s)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range b.ScaleDownSteps {
			if strings.Contains(st.Why, "after the load end") {
				t.Errorf("%s: step %+v from the tail", tail, st)
			}
		}
		budgets = append(budgets, b.BackToMin.MaxSeconds)
	}
	if d := budgets[0] - budgets[1]; d < 0 || d > 1 {
		t.Errorf("back-to-min budgets %v: want the 10%% tail's within 1 s above the idle one's", budgets)
	}
}

// A tail within the tolerance of the target holds the count until it ends:
// 45 % at a 50 % target is 0.9, |1 − 0.9| ≤ 0.1; the HPA scales down only
// once the pods are idle, and the budget says the tail is why.
func TestTailHoldsTheCount(t *testing.T) {
	s := tailScenario(t, "{utilization: 45%, for: 2m}")
	b, err := For(*s)
	if err != nil {
		t.Fatal(err)
	}
	if b.BackToMin == nil || b.BackToMin.MinSeconds < 120 {
		t.Fatalf("back to min %+v, want not before the tail's end (120 s)", b.BackToMin)
	}
	if b.BackToMin.Dominant != KnobCPUProfileTail {
		t.Errorf("dominated by %q, want %q; terms %v", b.BackToMin.Dominant, KnobCPUProfileTail, b.BackToMin.Terms)
	}
}

// The tail needs a CPU metric and sane steps.
func TestTailErrors(t *testing.T) {
	sp := cpuSpec("100m", "500m", 50)
	sp.Tail = []TailStep{{Utilization: -1, For: time.Minute}}
	if _, err := ForSpec(sp, DefaultCluster()); err == nil || err.Error() != "budget: invalid autoscaler hpa: tail step 0: -1% for 1m0s: want a non-negative utilization for a positive duration" {
		t.Errorf("err %v", err)
	}
	ext := Spec{Autoscaler: "keda-sqs", Metric: MetricExternal, MinReplicas: 1, MaxReplicas: 2, Tail: []TailStep{{Utilization: 10, For: time.Minute}}}
	if _, err := ForSpec(ext, DefaultCluster()); err == nil || !strings.Contains(err.Error(), "needs a CPU metric") {
		t.Errorf("err %v", err)
	}
}
