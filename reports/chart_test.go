package reports

import (
	"bufio"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/timeline"
)

func TestNiceStep(t *testing.T) {
	for _, tc := range []struct {
		raw   float64
		steps []float64
		want  float64
	}{
		{0.7, nil, 1}, {1.1, nil, 2}, {2, nil, 2}, {3, nil, 5}, {45, nil, 50}, {0.013, nil, 0.02},
		{26.2, []float64{1, 2, 5, 10, 15, 20, 30, 60}, 30},
		{130, []float64{1, 2, 5, 10, 15, 20, 30, 60}, 180},
	} {
		if got := niceStep(tc.raw, tc.steps); got != tc.want {
			t.Errorf("niceStep(%v) = %v, want %v", tc.raw, got, tc.want)
		}
	}
}

func TestSegmentsBreakOnGaps(t *testing.T) {
	pts := []point{{1, 1}, {2, 1}, {3, 1}, {10, 1}, {11, 1}}
	got := segments(pts)
	if len(got) != 2 || len(got[0]) != 3 || len(got[1]) != 2 {
		t.Errorf("segments = %v, want a break between 3 s and 10 s", got)
	}
}

func TestStepline(t *testing.T) {
	id := func(v float64) float64 { return v }
	got := stepline([]point{{0, 1}, {5, 1}, {10, 4}}, 20, id, id)
	if want := "0,1 10,1 10,4 20,4"; got != want {
		t.Errorf("stepline = %q, want %q", got, want)
	}
}

func TestLayoutMarkersStacksAndDrops(t *testing.T) {
	ms := make([]rawMarker, 6)
	for i := range ms {
		ms[i] = rawMarker{T: float64(i) * 0.1, Label: "close together"}
	}
	out, rows := layoutMarkers(ms, func(t float64) float64 { return 100 + t }, 30)
	if rows != laneRows {
		t.Errorf("rows = %d, want %d", rows, laneRows)
	}
	labelled := 0
	for _, m := range out {
		if m.Label != "" {
			labelled++
		}
	}
	if labelled != laneRows || len(out) != len(ms) {
		t.Errorf("%d of %d markers labelled, want %d labelled and every line kept", labelled, len(out), laneRows)
	}
}

func TestChartSeries(t *testing.T) {
	r := fixtures()
	hpa := buildChart(r["hpa"].Scenarios[0])
	sqs := buildChart(r["sqs"].Scenarios[0])
	classes := func(c chartModel) []string {
		var out []string
		for _, s := range c.Series {
			out = append(out, s.Class)
		}
		return out
	}
	if got, want := classes(hpa), []string{clsRate, clsErrors, clsP99, clsSpec, clsReady, clsDesired}; !reflect.DeepEqual(got, want) {
		t.Errorf("HPA chart series %v, want %v", got, want)
	}
	if got, want := classes(sqs), []string{clsQueue, clsSpec, clsReady, clsDesired}; !reflect.DeepEqual(got, want) {
		t.Errorf("SQS chart series %v, want %v", got, want)
	}
	kinds := map[string]int{}
	for _, m := range sqs.Markers {
		kinds[m.Class]++
	}
	if kinds[clsMarkKEDA] != 2 || kinds[clsMarkStep] != 3 || kinds[clsMarkLoad] != 2 {
		t.Errorf("SQS markers by class %v, want 2 KEDA events, 3 steps, load start and queue drained", kinds)
	}
	if c := buildChart(results.Scenario{Name: "empty"}); !c.Empty {
		t.Error("a scenario without a timeline should get the empty chart")
	}
}

func TestScaledDeploymentFollowsSteps(t *testing.T) {
	dep := func(at float64, obj string, spec int32) timeline.Event {
		return timeline.Event{At: sec(at), Kind: timeline.KindDeployment, Object: obj, Deployment: &timeline.Replicas{Spec: spec}}
	}
	const app, proxy = "Deployment/default/app", "Deployment/keda/interceptor"
	s := results.Scenario{
		Steps: []results.Step{{AtSeconds: 3, From: 0, To: 1}},
		Timeline: []timeline.Event{
			dep(0, proxy, 3), dep(0, app, 0), dep(1, proxy, 3), dep(2, proxy, 3), dep(3, app, 1), dep(4, proxy, 3),
		},
	}
	if got := scaledDeployment(s); got != app {
		t.Errorf("charted %q, want the Deployment the steps describe (%q)", got, app)
	}
	s.Steps = nil
	if got := scaledDeployment(s); got != proxy {
		t.Errorf("without steps charted %q, want the busiest (%q)", got, proxy)
	}
}

// A CPU profile is drawn as a step area on its own axis, with the HPA's
// reading of it, and listed under the replica steps in the Markdown.
func TestCPUProfileChartAndMarkdown(t *testing.T) {
	s := results.Scenario{Name: "p", Autoscaler: "hpa", Steps: []results.Step{{AtSeconds: 100, From: 2, To: 3}}}
	ev := func(at float64, e timeline.Event) timeline.Event {
		e.At = time.Duration(at * float64(time.Second))
		return e
	}
	s.Timeline = []timeline.Event{
		ev(0, timeline.Event{Kind: timeline.KindDeployment, Object: "d", Deployment: &timeline.Replicas{Spec: 2, Ready: 2}}),
		ev(10, timeline.Event{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: timeline.MarkerLoadStart}}),
		ev(10, timeline.Event{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: timeline.MarkerCPUStep, Detail: "20%"}}),
		ev(70, timeline.Event{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: timeline.MarkerCPUStep, Detail: "180%"}}),
		ev(95, timeline.Event{Kind: timeline.KindAutoscaler, Object: "h", Autoscaler: &timeline.AutoscalerStatus{Current: 2, Desired: 3, Metric: "cpu 100%"}}),
		ev(100, timeline.Event{Kind: timeline.KindDeployment, Object: "d", Deployment: &timeline.Replicas{Spec: 3, Ready: 3}}),
		ev(250, timeline.Event{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: timeline.MarkerCPUStep, Detail: "10%"}}),
	}
	d := collect(s)
	if want := []point{{10, 20}, {70, 180}, {250, 10}}; !reflect.DeepEqual(d.CPU, want) {
		t.Errorf("profile points %v, want %v", d.CPU, want)
	}
	if want := []point{{95, 100}}; !reflect.DeepEqual(d.HPACPU, want) {
		t.Errorf("HPA readings %v, want %v", d.HPACPU, want)
	}
	c := buildChart(s)
	var names []string
	for _, sr := range c.Series {
		names = append(names, sr.Name)
	}
	if !slices.Contains(names, "CPU profile (% of each pod's request)") || !slices.Contains(names, "HPA's CPU utilization") {
		t.Errorf("series %q lack the profile or the HPA's reading", names)
	}
	if len(c.Right) == 0 || c.Right[0].Label != "CPU utilization (% of request)" {
		t.Errorf("right axes %+v, want the CPU axis first", c.Right)
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	mdWriter{w: w}.cpuProfile(s)
	w.Flush()
	for _, want := range []string{"| 70.0 | 180% | profile step |", "| 95.0 | 180% | HPA reads cpu 100% (current 2, desired 3) |", "| 100.0 | 180% | replicas 2 → 3 |", "| 250.0 | 10% | profile step |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}
	var none strings.Builder
	nw := bufio.NewWriter(&none)
	mdWriter{w: nw}.cpuProfile(results.Scenario{Timeline: s.Timeline[:1]})
	nw.Flush()
	if none.Len() != 0 {
		t.Errorf("a run without a CPU profile got a profile table: %q", none.String())
	}
}
