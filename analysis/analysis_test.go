package analysis

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// tl builds synthetic timelines: times are seconds from the run start.
type tl struct {
	evs      []timeline.Event
	workload string
}

func at(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

func (b *tl) deploy(t float64, spec, ready int32) *tl {
	b.evs = append(b.evs, timeline.Event{At: at(t), Kind: timeline.KindDeployment, Object: "Deployment/default/" + b.name(),
		Deployment: &timeline.Replicas{Spec: spec, Current: max(spec, ready), Updated: spec, Ready: ready, Available: ready}})
	return b
}

func (b *tl) name() string {
	if b.workload == "" {
		return "cpu-load-gen"
	}
	return b.workload
}

func (b *tl) hpa(t float64, current, desired int32) *tl {
	b.evs = append(b.evs, timeline.Event{At: at(t), Kind: timeline.KindAutoscaler, Object: "HorizontalPodAutoscaler/default/cpu-load-gen",
		Autoscaler: &timeline.AutoscalerStatus{Current: current, Desired: desired}})
	return b
}

func (b *tl) mark(t float64, name string) *tl {
	b.evs = append(b.evs, timeline.Event{At: at(t), Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: name}})
	return b
}

func (b *tl) kube(t float64, reason string) *tl {
	b.evs = append(b.evs, timeline.Event{At: at(t), Kind: timeline.KindKubeEvent, Object: "ScaledObject/default/so", KubeEvent: &timeline.KubeEvent{Reason: reason}})
	return b
}

// upSteps records an autoscaler scale-up every 15 s: decision at t, Deployment
// spec 0.2 s later, every new pod Ready 1.5 s after the decision.
func (b *tl) upSteps(t float64, counts ...int32) *tl {
	for i := 1; i < len(counts); i++ {
		b.hpa(t, counts[i-1], counts[i]).deploy(t+0.2, counts[i], counts[i-1]).deploy(t+1.5, counts[i], counts[i])
		t += 15
	}
	return b
}

func builtin(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func f(v float64) *float64 { return &v }
func i32(v int32) *int32   { return &v }
func i64(v int64) *int64   { return &v }
func in(v int) *int        { return &v }

func assertMetrics(t *testing.T, got, want results.Metrics) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("metrics\n got %s\nwant %s", g, w)
	}
}

func assertChecks(t *testing.T, got []results.Check, want map[string]bool) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d checks, want %d: %+v", len(got), len(want), got)
	}
	for _, c := range got {
		w, ok := want[c.Name]
		if !ok {
			t.Errorf("unexpected check %q", c.Name)
			continue
		}
		if c.Passed != w {
			t.Errorf("check %q passed=%v, want %v: %s", c.Name, c.Passed, w, c.Detail)
		}
		if !strings.Contains(c.Detail, "expected") || !strings.Contains(c.Detail, "observed") {
			t.Errorf("check %q detail must say what was expected and observed: %q", c.Name, c.Detail)
		}
	}
}

// The HPA seed: 1 → 4 → 8 → 10, fifteen seconds apart, after ~75 s of
// metrics warm-up; default 300 s scale-down stabilization.
func hpaSeed() *tl {
	b := &tl{}
	b.deploy(0, 1, 1).hpa(1, 1, 1).mark(5, timeline.MarkerLoadStart)
	b.upSteps(80, 1, 4, 8, 10)
	b.mark(185, timeline.MarkerLoadStop)
	b.hpa(500, 10, 1).deploy(500.2, 1, 10).deploy(501, 1, 1).hpa(510, 1, 1)
	return b
}

func TestHPASeedTimeline(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	got := Analyze(Input{Scenario: s, Events: hpaSeed().evs, Load: &LoadTotals{Requests: 1800, Errors: 12, P50LatencySeconds: 2.4, P99LatencySeconds: 4.9}})
	assertMetrics(t, got.Metrics, results.Metrics{
		DecisionSeconds:     f(75),
		FirstScaleUpSeconds: f(75.2),
		FirstReadySeconds:   f(76.5),
		TimeToPeakSeconds:   f(106.5),
		ScaleDownSeconds:    f(316),
		// 1×76.5 + 4×15 + 8×15 + 10×389.5 + 1×9
		ReplicaSeconds:    f(4160.5),
		PeakReplicas:      i32(10),
		Requests:          i64(1800),
		Errors:            i64(12),
		P50LatencySeconds: f(2.4),
		P99LatencySeconds: f(4.9),
		Flaps:             in(1),
	})
	wantSteps := []results.Step{{AtSeconds: 80.2, From: 1, To: 4}, {AtSeconds: 95.2, From: 4, To: 8}, {AtSeconds: 110.2, From: 8, To: 10}, {AtSeconds: 500.2, From: 10, To: 1}}
	if !reflect.DeepEqual(got.Steps, wantSteps) {
		t.Errorf("steps %+v, want %+v", got.Steps, wantSteps)
	}
	assertChecks(t, got.Checks, map[string]bool{CheckScaleUp: true, CheckPeakAtMost: true, CheckStepInterval: true, CheckScaleDown: true})
	if !got.Passed {
		t.Error("want passed")
	}
	if got.Checks[0].Detail != "expected ≥ 10 ready replicas within 3m0s of load start; observed 10 at 106.5 s" {
		t.Errorf("scale-up detail %q", got.Checks[0].Detail)
	}
}

// The KEDA CPU seed: 1 → 2 → 4 → 8 → 16 → 20 fifteen seconds apart.
func kedaCPUSeed() *tl {
	b := &tl{}
	b.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart)
	b.upSteps(70, 1, 2, 4, 8, 16, 20)
	b.mark(190, timeline.MarkerLoadStop)
	b.hpa(505, 20, 1).deploy(505.2, 1, 20).deploy(506, 1, 1)
	return b
}

func TestKEDACPUSeedTimeline(t *testing.T) {
	s := builtin(t, "keda-cpu")
	got := Analyze(Input{Scenario: s, Events: kedaCPUSeed().evs})
	assertMetrics(t, got.Metrics, results.Metrics{
		DecisionSeconds:     f(60),
		FirstScaleUpSeconds: f(60.2),
		FirstReadySeconds:   f(61.5),
		TimeToPeakSeconds:   f(121.5),
		ScaleDownSeconds:    f(316),
		// 1×61.5 + 2×15 + 4×15 + 8×15 + 16×15 + 20×374.5 (131.5 → 506).
		ReplicaSeconds: f(8001.5),
		PeakReplicas:   i32(20),
		Flaps:          in(1),
	})
	if len(got.Steps) != 6 || got.Steps[4] != (results.Step{AtSeconds: 130.2, From: 16, To: 20}) {
		t.Errorf("steps %+v", got.Steps)
	}
	assertChecks(t, got.Checks, map[string]bool{CheckScaleUp: true, CheckPeakAtMost: true, CheckStepInterval: true, CheckScaleDown: true})
}

func TestViolationsSayWhatWasExpectedAndObserved(t *testing.T) {
	s := builtin(t, "keda-cpu")
	// Too slow (reaches 20 only at 200 s), steps too close, never back to 1.
	b := &tl{}
	b.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart)
	b.upSteps(150, 1, 2, 4, 8, 16)
	b.hpa(205, 16, 20).deploy(205.2, 20, 16).deploy(210, 20, 20)
	b.mark(190, timeline.MarkerLoadStop).hpa(400, 20, 20)
	got := Analyze(Input{Scenario: s, Events: b.evs})
	assertChecks(t, got.Checks, map[string]bool{CheckScaleUp: false, CheckPeakAtMost: true, CheckStepInterval: false, CheckScaleDown: false})
	want := map[string]string{
		CheckScaleUp:      "expected ≥ 20 ready replicas within 3m0s of load start; observed only at 200.0 s (20.0 s late)",
		CheckStepInterval: "expected scale-up steps ≥ 15s apart (tolerance 1s); observed 16→20 at 205.2 s only 10.0 s after the previous step",
		CheckScaleDown:    "expected 1 replicas within 7m0s of the load end; observed 20 spec / 20 ready when the run ended 210.0 s after it",
	}
	for _, c := range got.Checks {
		if w, ok := want[c.Name]; ok && c.Detail != w {
			t.Errorf("%s detail\n got %q\nwant %q", c.Name, c.Detail, w)
		}
	}
	if got.Passed || got.Metrics.ScaleDownSeconds != nil {
		t.Errorf("want failed and no scaleDownSeconds, got passed=%v %v", got.Passed, got.Metrics.ScaleDownSeconds)
	}
}

// The SQS seed: 0 → 8 → 0, 30 s cooldown after the queue drained.
func TestSQSSeedTimeline(t *testing.T) {
	s := builtin(t, "keda-sqs")
	b := &tl{workload: "customer-transformer"}
	b.deploy(0, 0, 0).mark(10, timeline.MarkerLoadStart)
	b.kube(11.5, ReasonKEDAActivated).deploy(11.6, 1, 0).deploy(12.7, 1, 1)
	b.hpa(26.4, 1, 8).deploy(26.6, 8, 1).deploy(27.8, 8, 8)
	b.mark(60, timeline.MarkerQueueDrained)
	b.kube(92, ReasonKEDADeactivated).deploy(92.1, 0, 8).deploy(93, 0, 0).hpa(100, 0, 0)
	got := Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Processed: 1000}})
	assertMetrics(t, got.Metrics, results.Metrics{
		DecisionSeconds:     f(1.5),
		FirstScaleUpSeconds: f(1.6),
		FirstReadySeconds:   f(2.7),
		TimeToPeakSeconds:   f(17.8),
		ScaleDownSeconds:    f(33),
		// 1×15.1 + 8×65.2
		ReplicaSeconds:    f(536.7),
		PeakReplicas:      i32(8),
		MessagesSent:      i64(1000),
		MessagesProcessed: i64(1000),
		MessagesInvalid:   i64(0),
		MessagesLost:      i64(0),
		MessagesInQueue:   i64(0),
		Flaps:             in(1),
	})
	wantSteps := []results.Step{{AtSeconds: 11.6, From: 0, To: 1}, {AtSeconds: 26.6, From: 1, To: 8}, {AtSeconds: 92.1, From: 8, To: 0}}
	if !reflect.DeepEqual(got.Steps, wantSteps) {
		t.Errorf("steps %+v", got.Steps)
	}
	assertChecks(t, got.Checks, map[string]bool{CheckScaleUp: true, CheckPeakAtMost: true, CheckScaleDown: true, CheckActivation: true, CheckMessagesLost: true, CheckMessagesStored: true})

	// Redis stopped mid-run: 300 messages never processed but still in the
	// queue are not lost, and the stored-records check says what is missing.
	got = Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Processed: 700, LeftInQueue: 300}})
	if *got.Metrics.MessagesLost != 0 || got.Passed {
		t.Errorf("lost %d passed %v", *got.Metrics.MessagesLost, got.Passed)
	}
	for _, c := range got.Checks {
		if c.Name == CheckMessagesStored && (c.Passed || c.Detail != "expected exactly one correct record per valid message (1000); observed 700") {
			t.Errorf("stored check: %+v", c)
		}
	}
	// The store down at the end: processed and lost are unknown, the queue
	// still holds messages, and both checks say why.
	got = Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Invalid: 50, LeftInQueue: 420, StoreError: "dial tcp 127.0.0.1:6379: connect: connection refused"}})
	if got.Metrics.MessagesLost != nil || got.Metrics.MessagesProcessed != nil || *got.Metrics.MessagesInQueue != 420 || got.Passed {
		t.Errorf("store down: %+v", got.Metrics)
	}
	for _, c := range got.Checks {
		switch c.Name {
		case CheckMessagesLost:
			if c.Passed || c.Detail != "expected at most 0 messages lost; could not be verified: dial tcp 127.0.0.1:6379: connect: connection refused; observed 420 of 1000 messages still in the queue (not lost)" {
				t.Errorf("lost check: %+v", c)
			}
		case CheckMessagesStored:
			if c.Passed || !strings.Contains(c.Detail, "store unreachable") {
				t.Errorf("stored check: %+v", c)
			}
		}
	}
	// A message neither stored nor in the queue is lost.
	got = Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Processed: 990, LeftInQueue: 5}})
	if *got.Metrics.MessagesLost != 5 {
		t.Errorf("lost %d, want 5", *got.Metrics.MessagesLost)
	}
}

func TestNoLoadStartIsAFailedCheckNotAPass(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	got := Analyze(Input{Scenario: s, Events: (&tl{}).deploy(0, 1, 1).evs})
	if got.Passed || len(got.Checks) != 1 || got.Checks[0].Name != CheckLoadStarted {
		t.Errorf("got %+v", got.Checks)
	}
	if got.Metrics.DecisionSeconds != nil || got.Metrics.PeakReplicas != nil {
		t.Errorf("metrics must be absent: %+v", got.Metrics)
	}
}

func TestColdStartBreakdown(t *testing.T) {
	s := builtin(t, "keda-http")
	b := &tl{workload: "hello"}
	b.deploy(0, 0, 0).mark(5, timeline.MarkerLoadStart)
	b.evs = append(b.evs, timeline.Event{At: at(5.5), Kind: timeline.KindRequest, Request: &timeline.Request{
		Purpose: PurposeColdStart, SentAtSeconds: 5, LatencySeconds: 0.46, Status: 200, Headers: map[string]string{"X-Keda-Http-Cold-Start": "true"}}})
	b.kube(5.1, ReasonKEDAActivated).deploy(5.15, 1, 0).deploy(5.4, 1, 1)
	got := Analyze(Input{Scenario: s, Events: b.evs})
	want := &results.ColdStart{ActivatedSeconds: f(0.1), ScaledSeconds: f(0.15), PodReadySeconds: f(0.4), ResponseSeconds: 0.46, ColdStartHeader: "true", Status: 200}
	if !reflect.DeepEqual(got.Metrics.ColdStart, want) {
		g, _ := json.Marshal(got.Metrics.ColdStart)
		t.Errorf("cold start %s", g)
	}
	if *got.Metrics.ColdStartSeconds != 0.46 {
		t.Errorf("coldStartSeconds %v", *got.Metrics.ColdStartSeconds)
	}
}

func TestSummarize(t *testing.T) {
	s := Summarize([]float64{0.5, 0.3, 0.9, 0.4})
	if s.MeanSeconds != 0.525 || s.P50Seconds != 0.45 || s.MinSeconds != 0.3 || s.MaxSeconds != 0.9 {
		t.Errorf("%+v", s)
	}
}

func TestAggregateOverTrials(t *testing.T) {
	trials := []results.Scenario{
		{Passed: true, Metrics: results.Metrics{ColdStartSeconds: f(0.5), DecisionSeconds: f(10)}},
		{Passed: false, Metrics: results.Metrics{ColdStartSeconds: f(1.5)}},
		{Passed: true, Metrics: results.Metrics{ColdStartSeconds: f(0.7), DecisionSeconds: f(14)}},
	}
	a := Aggregate("keda-http", trials)
	cs := a.Metrics["coldStartSeconds"]
	if a.Trials != 3 || a.Passed != 2 || cs == nil || cs.MeanSeconds != 0.9 || cs.P50Seconds != 0.7 || cs.MaxSeconds != 1.5 || len(cs.Samples) != 3 {
		t.Errorf("%+v %+v", a, cs)
	}
	if d := a.Metrics["decisionSeconds"]; d == nil || d.P50Seconds != 12 || len(d.Samples) != 2 {
		t.Errorf("decision %+v", d)
	}
	if _, ok := a.Metrics["scaleDownSeconds"]; ok {
		t.Error("a metric absent from every trial must be absent")
	}
	// Trials with a series contribute every sample.
	trials[1].Metrics.ColdStartSeries = Summarize([]float64{1.5, 2.5})
	a = Aggregate("keda-http", trials)
	if cs := a.Metrics["coldStartSeconds"]; len(cs.Samples) != 4 || cs.MaxSeconds != 2.5 {
		t.Errorf("pooled series %+v", cs)
	}
}

func TestColdStartSeriesCheck(t *testing.T) {
	s := builtin(t, "keda-http")
	b := &tl{workload: "hello"}
	b.deploy(0, 0, 0)
	for i, lat := range []float64{0.5, 2.5, 12.5} {
		sent := float64(10 + 60*i)
		st := 200
		if i == 2 {
			st = 504
		}
		b.evs = append(b.evs, timeline.Event{At: at(sent + lat), Kind: timeline.KindRequest, Request: &timeline.Request{Purpose: PurposeColdStart, SentAtSeconds: sent, LatencySeconds: lat, Status: st}})
	}
	b.mark(200, timeline.MarkerLoadStart)
	got := Analyze(Input{Scenario: s, Events: b.evs})
	want := map[string]string{
		CheckColdStart:   "expected every first response at zero replicas within 10s; observed 3 cold starts: mean 5.167 s, p50 2.500 s, max 12.500 s",
		CheckColdStartOK: "expected a 2xx response to every cold-start request; observed 1 of 3 failed (at 130.0 s: status 504)",
	}
	for _, c := range got.Checks {
		if w, ok := want[c.Name]; ok {
			if c.Passed || c.Detail != w {
				t.Errorf("%s: passed=%v\n got %q\nwant %q", c.Name, c.Passed, c.Detail, w)
			}
			delete(want, c.Name)
		}
	}
	if len(want) > 0 {
		t.Errorf("missing checks %v", want)
	}
	if cs := got.Metrics.ColdStartSeries; cs == nil || len(cs.Samples) != 3 {
		t.Errorf("series %+v", cs)
	}
}
