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
	names := seriesNames(c)
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

// A rate profile is drawn on the throughput axis as the scheduled rate (a
// ramp as a slope) and tabulated step by step with the achieved rate; SQS
// arrivals, without per-second samples, get their own axis.
func TestRateProfileChartAndMarkdown(t *testing.T) {
	missed := func(n int64) *int64 { return &n }
	s := results.Scenario{Name: "r", Autoscaler: "hpa", Steps: []results.Step{{AtSeconds: 50, From: 1, To: 3}, {AtSeconds: 200, From: 3, To: 1}},
		Profile: []results.ProfileStep{
			{Unit: "requests", StartSeconds: 10, EndSeconds: 40, FromPerSecond: 5, ToPerSecond: 5, Scheduled: 150, Sent: 150, Missed: missed(0)},
			{Unit: "requests", StartSeconds: 40, EndSeconds: 100, FromPerSecond: 5, ToPerSecond: 50, Ramp: true, Scheduled: 1650, Sent: 1600, Missed: missed(50)},
			{Unit: "requests", StartSeconds: 100, EndSeconds: 120, Scheduled: 0, Sent: 0, Missed: missed(0)},
		}}
	s.Timeline = []timeline.Event{
		{At: sec(0), Kind: timeline.KindDeployment, Object: "d", Deployment: &timeline.Replicas{Spec: 1, Ready: 1}},
		{At: sec(10), Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: timeline.MarkerLoadStart}},
		{At: sec(11), Kind: timeline.KindLoad, Load: &timeline.LoadSample{Requests: 5}},
		{At: sec(12), Kind: timeline.KindLoad, Load: &timeline.LoadSample{Requests: 5}},
	}
	pts, unit := profilePoints(s.Profile)
	if want := []point{{10, 5}, {40, 5}, {40, 5}, {100, 50}, {100, 0}, {120, 0}, {120, 0}}; !reflect.DeepEqual(pts, want) || unit != "requests" {
		t.Errorf("profile points %v %q, want %v requests", pts, unit, want)
	}
	c := buildChart(s)
	names := seriesNames(c)
	if !slices.Contains(names, "scheduled requests/s (profile)") || !slices.Contains(names, "requests/s") {
		t.Errorf("series %q lack the scheduled profile beside the achieved requests/s", names)
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	mdWriter{w: w}.rateProfile(s)
	w.Flush()
	for _, want := range []string{
		"| 1 | 10.0 | 40.0 | 5/s | 150 | 150 | 5/s | 0 |  |",
		"| 2 | 40.0 | 100.0 | ramp 5/s → 50/s | 1650 | 1600 | 26.67/s | 50 | 1 → 3 at 50.0 s |",
		"| 3 | 100.0 | 120.0 | pause | 0 | 0 | 0/s | 0 | (to the run's end) 3 → 1 at 200.0 s |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q:\n%s", want, b.String())
		}
	}

	// SQS: no per-second samples, so the profile gets its own axis with
	// the achieved rate per step; no missed column value.
	q := results.Scenario{Name: "q", Autoscaler: "keda-sqs", Profile: []results.ProfileStep{
		{Unit: "messages", StartSeconds: 5, EndSeconds: 35, FromPerSecond: 20, ToPerSecond: 20, Scheduled: 600, Sent: 600},
	}}
	qc := buildChart(q)
	if qc.Empty || len(qc.Right) != 1 || qc.Right[0].Label != "messages/s" {
		t.Errorf("SQS profile chart: empty %v, axes %+v; want one messages/s axis", qc.Empty, qc.Right)
	}
	b.Reset()
	w = bufio.NewWriter(&b)
	mdWriter{w: w}.rateProfile(q)
	w.Flush()
	if want := "| 1 | 5.0 | 35.0 | 20/s | 600 | 600 | 20/s | – |  |"; !strings.Contains(b.String(), want) {
		t.Errorf("markdown lacks %q:\n%s", want, b.String())
	}
	b.Reset()
	w = bufio.NewWriter(&b)
	mdWriter{w: w}.rateProfile(results.Scenario{})
	w.Flush()
	if b.Len() != 0 {
		t.Errorf("a run without a profile got a profile table: %q", b.String())
	}
}

// seriesNames are the names of a chart's series, in drawing order.
func seriesNames(c chartModel) []string {
	var names []string
	for _, sr := range c.Series {
		names = append(names, sr.Name)
	}
	return names
}
