package analysis

import (
	"testing"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// The scale-down expectation derived for a CPU profile whose tail sits on
// an integer boundary (10 % of the request with 5 replicas at a 50 %
// target: ceil(5 × 0.2) = 1 at its level, 2 a little above it) passes the
// 5 → 2 → 1 the HPA takes, including the 74.6 s a run measured when the
// model read the tail as nothing (and derived 74 s), and still fails a
// scale-down slower than the budget and its margin.
func TestDerivedScaleDownOfACPUProfileTail(t *testing.T) {
	s, err := scenario.Parse([]byte(`apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: tail}
spec:
  workload: {name: cpu-load-gen, image: x, resources: {limits: {cpu: 500m}, requests: {cpu: 100m}}}
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
        - {utilization: 10%, for: 60s}
`), "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := budget.Derive(s); err != nil {
		t.Fatal(err)
	}
	within := s.Spec.Expectations.ScaleDown.Within.Seconds()
	// Load start at 10 s, 5 Ready by 90 s, load end (the 10 % step) at
	// 130 s; back at 1 after `back` seconds, through 2.
	timelineBack := func(back float64) []timeline.Event {
		b := &tl{hpaName: "keda-hpa-cpu-load-gen"}
		b.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart)
		b.upSteps(60, 1, 4, 5)
		b.mark(130, timeline.MarkerLoadStop)
		b.hpa(130+back-30, 5, 2).deploy(130+back-30+0.2, 2, 2)
		b.hpa(130+back, 2, 1).deploy(130+back+0.2, 1, 1)
		return b.evs
	}
	for _, tc := range []struct {
		name string
		back float64
		want string
	}{
		{"measured when the tail was read as nothing", 74.6, pass},
		{"the slowest predicted", 86.3, pass},
		{"slower than budget and margin", within + 5, fail},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Analyze(Input{Scenario: s, Events: timelineBack(tc.back)})
			if c := check(t, got, CheckScaleDown); c.State() != tc.want {
				t.Errorf("back at 1 %.1f s after the load end, expected within %.0f s: check %s (%s), want %s", tc.back, within, c.State(), c.Detail, tc.want)
			}
		})
	}
}
