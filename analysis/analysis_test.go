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
	hpaName  string
	soName   string
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

// hpa records the status of the scenario's own HPA (b.hpaName, by default
// the hpa scenario's, named after the workload).
func (b *tl) hpa(t float64, current, desired int32) *tl {
	name := b.hpaName
	if name == "" {
		name = b.name()
	}
	return b.hpaOf(name, t, current, desired)
}

func (b *tl) hpaOf(name string, t float64, current, desired int32) *tl {
	b.evs = append(b.evs, timeline.Event{At: at(t), Kind: timeline.KindAutoscaler, Object: "HorizontalPodAutoscaler/default/" + name,
		Autoscaler: &timeline.AutoscalerStatus{Current: current, Desired: desired}})
	return b
}

// load records per-second load samples from t0 on: requests and errors per
// second, each sample at the end of its second.
func (b *tl) load(t0 float64, secs int, requests, errors func(sec int) int) *tl {
	for i := 0; i < secs; i++ {
		b.evs = append(b.evs, timeline.Event{At: at(t0 + float64(i+1)), Kind: timeline.KindLoad, Load: &timeline.LoadSample{Second: i, Requests: requests(i), Errors: errors(i)}})
	}
	return b
}

func constant(n int) func(int) int { return func(int) int { return n } }

func (b *tl) mark(t float64, name string) *tl {
	b.evs = append(b.evs, timeline.Event{At: at(t), Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: name}})
	return b
}

// kube records an Event about the scenario's own ScaledObject (b.soName,
// by default named after the workload as for keda-sqs and keda-http).
func (b *tl) kube(t float64, reason string) *tl {
	name := b.soName
	if name == "" {
		name = b.name()
	}
	return b.kubeOf(name, t, reason)
}

func (b *tl) kubeOf(so string, t float64, reason string) *tl {
	b.evs = append(b.evs, timeline.Event{At: at(t), Kind: timeline.KindKubeEvent, Object: "ScaledObject/default/" + so, KubeEvent: &timeline.KubeEvent{Reason: reason}})
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

// Check states, short.
const (
	pass = results.CheckPassed
	fail = results.CheckFailed
	skip = results.CheckSkipped
)

func assertChecks(t *testing.T, got []results.Check, want map[string]string) {
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
		if c.State() != w {
			t.Errorf("check %q is %s, want %s: %s", c.Name, c.State(), w, c.Detail)
		}
		if !strings.Contains(c.Detail, "expected") || !(strings.Contains(c.Detail, "observed") || strings.Contains(c.Detail, "never")) {
			t.Errorf("check %q detail must say what was expected and observed: %q", c.Name, c.Detail)
		}
		if c.Skipped && (c.Passed || !strings.Contains(c.Detail, "not tested")) {
			t.Errorf("check %q not tested must not pass and must say so: %+v", c.Name, c)
		}
	}
}

func check(t *testing.T, got results.Scenario, name string) results.Check {
	t.Helper()
	for _, c := range got.Checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no check %q in %+v", name, got.Checks)
	return results.Check{}
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
	// 10 requests a second: all fail before the first new replica is ready
	// (second 76 of the load), 9 of 10 succeed up to the peak, all after.
	b := hpaSeed().load(5, 180, constant(10), func(i int) int {
		switch {
		case i < 76:
			return 10
		case i < 106:
			return 1
		}
		return 0
	})
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 1800, Errors: 790, P50LatencySeconds: 2.4, P99LatencySeconds: 5, SuccessP50LatencySeconds: f(1.2), SuccessP99LatencySeconds: f(3.1)}})
	assertMetrics(t, got.Metrics, results.Metrics{
		DecisionSeconds:     f(75),
		FirstScaleUpSeconds: f(75.2),
		FirstReadySeconds:   f(76.5),
		TimeToPeakSeconds:   f(106.5),
		ScaleDownSeconds:    f(316),
		// 1×76.5 + 4×15 + 8×15 + 10×389.5, load start → back at 1 (501 s).
		ReplicaSeconds:           f(4151.5),
		ReplicaSecondsWindow:     &results.Window{FromSeconds: 5, ToSeconds: 501, From: "load start", To: "back at 1 replicas after the load end"},
		PeakReplicas:             i32(10),
		LoadMode:                 LoadClosedLoop,
		Requests:                 i64(1800),
		Errors:                   i64(790),
		SuccessfulRequests:       i64(1010),
		ErrorRate:                f(0.4389),
		GoodputPerSecond:         f(5.611),
		P50LatencySeconds:        f(2.4),
		P99LatencySeconds:        f(5),
		SuccessP50LatencySeconds: f(1.2),
		SuccessP99LatencySeconds: f(3.1),
		Goodput: &results.GoodputPhases{
			// seconds 0..75 of the load: midpoints 5.5..80.5 < 80.2 → 0..74 (75 s), all failed.
			BeforeScaleUp: &results.Phase{FromSeconds: 5, ToSeconds: 80.2, Requests: 750, SuccessfulRequests: 0, GoodputPerSecond: 0},
			// midpoints 80.5..110.5 (seconds 75..105): 0 + 30 × 9 = 270 successes in 31.3 s.
			DuringScaleUp: &results.Phase{FromSeconds: 80.2, ToSeconds: 111.5, Requests: 310, SuccessfulRequests: 270, GoodputPerSecond: 8.626},
			// seconds 106..179: 74 × 10 in 73.5 s (a sample belongs to the phase holding its midpoint).
			AtPeak: &results.Phase{FromSeconds: 111.5, ToSeconds: 185, Requests: 740, SuccessfulRequests: 740, GoodputPerSecond: 10.068},
		},
		Flaps: in(0),
	})
	wantSteps := []results.Step{{AtSeconds: 80.2, From: 1, To: 4}, {AtSeconds: 95.2, From: 4, To: 8}, {AtSeconds: 110.2, From: 8, To: 10}, {AtSeconds: 500.2, From: 10, To: 1}}
	if !reflect.DeepEqual(got.Steps, wantSteps) {
		t.Errorf("steps %+v, want %+v", got.Steps, wantSteps)
	}
	// 44 % of the requests failed: over the default 5 % budget.
	assertChecks(t, got.Checks, map[string]string{CheckServed: pass, CheckErrorRate: fail, CheckScaleUp: pass, CheckHoldsScaleUp: pass, CheckStepInterval: pass, CheckScaleDown: pass})
	if got.Passed {
		t.Error("want failed: the error budget was exceeded")
	}
	if d := check(t, got, CheckScaleUp).Detail; d != "expected ≥ 10 ready replicas within 3m0s of load start; observed 10 at 106.5 s" {
		t.Errorf("scale-up detail %q", d)
	}
	if d := check(t, got, CheckErrorRate).Detail; d != "expected an error rate ≤ 5.00%; observed 43.89% (790 of 1800 requests failed)" {
		t.Errorf("error-rate detail %q", d)
	}
	// With the causes known, the detail names them, most frequent first:
	// the reader sees whether the app (5xx) or the capacity (timeouts) failed.
	byKind := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 1800, Errors: 790, Successes: 1010,
		ErrorsByKind: map[string]int64{"timeout": 40, "http_5xx": 750}, P50LatencySeconds: 2.4, P99LatencySeconds: 5}})
	if d := check(t, byKind, CheckErrorRate).Detail; d != "expected an error rate ≤ 5.00%; observed 43.89% (790 of 1800 requests failed: 750 http_5xx (the app or the ingress answered 5xx), 40 timeout (no response within the timeout))" {
		t.Errorf("error-rate detail with causes %q", d)
	}
	// Within budget, the same timeline passes.
	got = Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 1800, Errors: 12, P50LatencySeconds: 2.4, P99LatencySeconds: 4.9}})
	if !got.Passed {
		t.Errorf("want passed: %+v", got.Checks)
	}
	if got.Metrics.SuccessP50LatencySeconds != nil {
		t.Errorf("success percentiles not measured must be absent, got %v", *got.Metrics.SuccessP50LatencySeconds)
	}
}

// The KEDA CPU seed: 1 → 2 → 4 → 8 → 16 → 20 fifteen seconds apart.
func kedaCPUSeed() *tl {
	b := &tl{hpaName: "keda-hpa-cpu-scaling"}
	b.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart)
	b.upSteps(70, 1, 2, 4, 8, 16, 20)
	b.mark(190, timeline.MarkerLoadStop)
	b.hpa(505, 20, 1).deploy(505.2, 1, 20).deploy(506, 1, 1)
	return b
}

func TestKEDACPUSeedTimeline(t *testing.T) {
	s := builtin(t, "keda-cpu")
	got := Analyze(Input{Scenario: s, Events: kedaCPUSeed().evs, Load: &LoadTotals{Requests: 2000, Errors: 20}})
	assertMetrics(t, got.Metrics, results.Metrics{
		DecisionSeconds:     f(60),
		FirstScaleUpSeconds: f(60.2),
		FirstReadySeconds:   f(61.5),
		TimeToPeakSeconds:   f(121.5),
		ScaleDownSeconds:    f(316),
		// 1×61.5 + 2×15 + 4×15 + 8×15 + 16×15 + 20×374.5 (131.5 → 506).
		ReplicaSeconds:       f(8001.5),
		ReplicaSecondsWindow: &results.Window{FromSeconds: 10, ToSeconds: 506, From: "load start", To: "back at 1 replicas after the load end"},
		PeakReplicas:         i32(20),
		LoadMode:             LoadClosedLoop,
		Requests:             i64(2000),
		Errors:               i64(20),
		SuccessfulRequests:   i64(1980),
		ErrorRate:            f(0.01),
		GoodputPerSecond:     f(11),
		P50LatencySeconds:    f(0),
		P99LatencySeconds:    f(0),
		Flaps:                in(0),
		Absent:               map[string]string{"goodput": "no per-second load samples were recorded"},
	})
	if len(got.Steps) != 6 || got.Steps[4] != (results.Step{AtSeconds: 130.2, From: 16, To: 20}) {
		t.Errorf("steps %+v", got.Steps)
	}
	assertChecks(t, got.Checks, map[string]string{CheckServed: pass, CheckErrorRate: pass, CheckScaleUp: pass, CheckHoldsScaleUp: pass, CheckStepInterval: pass, CheckScaleDown: pass})
}

func TestViolationsSayWhatWasExpectedAndObserved(t *testing.T) {
	s := builtin(t, "keda-cpu")
	// Too slow (reaches 20 only at 200 s), steps too close, never back to 1.
	b := &tl{hpaName: "keda-hpa-cpu-scaling"}
	b.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart)
	b.upSteps(150, 1, 2, 4, 8, 16)
	b.hpa(205, 16, 20).deploy(205.2, 20, 16).deploy(210, 20, 20)
	b.mark(190, timeline.MarkerLoadStop).hpa(400, 20, 20)
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 100, Errors: 1}})
	assertChecks(t, got.Checks, map[string]string{CheckServed: pass, CheckErrorRate: pass, CheckScaleUp: fail, CheckHoldsScaleUp: skip, CheckStepInterval: fail, CheckScaleDown: fail})
	want := map[string]string{
		CheckScaleUp:      "expected ≥ 20 ready replicas within 3m0s of load start; observed only at 200.0 s (20.0 s late)",
		CheckStepInterval: "expected scale-up steps ≥ 15s apart (tolerance 1s); observed 16→20 at 205.2 s only 10.0 s after the previous step",
		CheckScaleDown:    "expected 1 replicas within 7m0s of the load end; observed 20 spec / 20 ready when the run ended 210.0 s after it",
		CheckHoldsScaleUp: "expected spec.replicas to stay ≥ 20 from reaching it until the load ends; not tested: 20 ready replicas were observed only at 200.0 s, after the load ended",
	}
	for _, c := range got.Checks {
		if w, ok := want[c.Name]; ok && c.Detail != w {
			t.Errorf("%s detail\n got %q\nwant %q", c.Name, c.Detail, w)
		}
	}
	if got.Passed || got.Metrics.ScaleDownSeconds != nil {
		t.Errorf("want failed and no scaleDownSeconds, got passed=%v %v", got.Passed, got.Metrics.ScaleDownSeconds)
	}
	if r := got.Metrics.Absent["scaleDownSeconds"]; r != "not back at 1 replicas when observation ended 210.0 s after the load end (20 spec / 20 ready)" {
		t.Errorf("absent reason %q", r)
	}
}

// The SQS seed: 0 → 8 → 0, 30 s cooldown after the queue drained.
func sqsSeed() *tl {
	b := &tl{workload: "customer-transformer", hpaName: "keda-hpa-customer-transformer"}
	b.deploy(0, 0, 0).mark(10, timeline.MarkerLoadStart)
	b.kube(11.5, ReasonKEDAActivated).deploy(11.6, 1, 0).deploy(12.7, 1, 1)
	b.hpa(26.4, 1, 8).deploy(26.6, 8, 1).deploy(27.8, 8, 8)
	b.mark(60, timeline.MarkerQueueDrained)
	b.kube(92, ReasonKEDADeactivated).deploy(92.1, 0, 8).deploy(93, 0, 0).hpa(100, 0, 0)
	return b
}

func TestSQSSeedTimeline(t *testing.T) {
	s := builtin(t, "keda-sqs")
	b := sqsSeed()
	got := Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Processed: 1000}})
	assertMetrics(t, got.Metrics, results.Metrics{
		DecisionSeconds:     f(1.5),
		FirstScaleUpSeconds: f(1.6),
		FirstReadySeconds:   f(2.7),
		TimeToPeakSeconds:   f(17.8),
		ScaleDownSeconds:    f(33),
		// 1×15.1 + 8×65.2, load start → back at 0 (93 s).
		ReplicaSeconds:       f(536.7),
		ReplicaSecondsWindow: &results.Window{FromSeconds: 10, ToSeconds: 93, From: "load start", To: "back at 0 replicas after the load end"},
		PeakReplicas:         i32(8),
		MessagesSent:         i64(1000),
		MessagesProcessed:    i64(1000),
		MessagesInvalid:      i64(0),
		MessagesLost:         i64(0),
		MessagesInQueue:      i64(0),
		Flaps:                in(0),
	})
	wantSteps := []results.Step{{AtSeconds: 11.6, From: 0, To: 1}, {AtSeconds: 26.6, From: 1, To: 8}, {AtSeconds: 92.1, From: 8, To: 0}}
	if !reflect.DeepEqual(got.Steps, wantSteps) {
		t.Errorf("steps %+v", got.Steps)
	}
	// atMost 10 = maxReplicas: not tested.
	assertChecks(t, got.Checks, map[string]string{CheckScaleUp: pass, CheckPeakAtMost: skip, CheckHoldsScaleUp: pass, CheckScaleDown: pass, CheckActivation: pass, CheckMessagesLost: pass, CheckMessagesStored: pass})
	if !got.Passed {
		t.Error("want passed")
	}

	// Redis stopped mid-run: 300 valid messages never stored wait in the
	// main queue: not lost, and the stored-records check says what is missing.
	got = Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Processed: 700, LeftInQueue: 300, ValidWaiting: i64(300)}})
	if *got.Metrics.MessagesLost != 0 || got.Passed {
		t.Errorf("lost %d passed %v", *got.Metrics.MessagesLost, got.Passed)
	}
	if c := check(t, got, CheckMessagesStored); c.Passed || c.Detail != "expected exactly one correct record per valid message (1000); observed 700" {
		t.Errorf("stored check: %+v", c)
	}
	// The store down at the end: processed and lost are unknown, the queue
	// still holds messages, and both checks say why.
	got = Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Invalid: 50, LeftInQueue: 420, StoreError: "dial tcp 127.0.0.1:6379: connect: connection refused"}})
	if got.Metrics.MessagesLost != nil || got.Metrics.MessagesProcessed != nil || *got.Metrics.MessagesInQueue != 420 || got.Passed {
		t.Errorf("store down: %+v", got.Metrics)
	}
	if c := check(t, got, CheckMessagesLost); c.Passed || c.Detail != "expected at most 0 messages lost; could not be verified: the store could not be read: dial tcp 127.0.0.1:6379: connect: connection refused; observed 420 of 1000 messages still in the queues" {
		t.Errorf("lost check: %+v", c)
	}
	if c := check(t, got, CheckMessagesStored); c.Passed || !strings.Contains(c.Detail, "store unreachable") {
		t.Errorf("stored check: %+v", c)
	}
	// The run stopped before the messages were counted (the SQS emulator
	// died): no count is claimed, and each absence says why.
	got = Analyze(Input{Scenario: s, Events: b.evs})
	for _, k := range []string{"messagesSent", "messagesProcessed", "messagesInQueue", "messagesLost"} {
		if got.Metrics.Absent[k] == "" {
			t.Errorf("%s: absent without a reason (absent: %v)", k, got.Metrics.Absent)
		}
	}
	if got.Metrics.MessagesLost != nil || got.Metrics.MessagesSent != nil || got.Passed {
		t.Errorf("messages not counted: %+v", got.Metrics)
	}
}

// messagesLost = valid sent − valid correctly stored − valid still waiting
// in the main queue.
func TestMessagesLost(t *testing.T) {
	s := builtin(t, "keda-sqs")
	evs := sqsSeed().evs
	for _, tc := range []struct {
		name string
		q    MessageTotals
		want *int64
		why  string
	}{
		{"all stored, queues empty", MessageTotals{Sent: 1000, Processed: 1000}, i64(0), ""},
		{"neither stored nor anywhere", MessageTotals{Sent: 1000, Processed: 990}, i64(10), ""},
		// 5 valid messages stored but not yet deleted are still in the main
		// queue: not waiting (their record is there), not lost, and not
		// subtracted twice (the old formula said −5).
		{"stored but not deleted", MessageTotals{Sent: 1000, Processed: 1000, LeftInQueue: 5, InMainQueue: i64(5), ValidWaiting: i64(0)}, i64(0), ""},
		// 20 invalid messages expected in the dead-letter queue, 10 valid
		// ones there too: the valid ones are lost.
		{"valid message dead-lettered", MessageTotals{Sent: 1000, Invalid: 20, Processed: 970, LeftInQueue: 30, InMainQueue: i64(0)}, i64(10), ""},
		// Only the invalid ones left, in the dead-letter queue: nothing lost.
		{"invalid ones dead-lettered", MessageTotals{Sent: 1000, Invalid: 20, Processed: 980, LeftInQueue: 20, InMainQueue: i64(0)}, i64(0), ""},
		{"waiting in the main queue", MessageTotals{Sent: 1000, Invalid: 20, Processed: 900, LeftInQueue: 100, ValidWaiting: i64(80)}, i64(0), ""},
		// Inconsistent counts never make a negative loss.
		{"never negative", MessageTotals{Sent: 100, Processed: 100, ValidWaiting: i64(7)}, i64(0), ""},
		// Every valid message stored: the 50 left (invalid ones not yet
		// dead-lettered) cannot hide a loss.
		{"all valid stored, queues not classified", MessageTotals{Sent: 1000, Invalid: 50, Processed: 950, LeftInQueue: 50}, i64(0), ""},
		{"queues not classified", MessageTotals{Sent: 1000, Invalid: 20, Processed: 950, LeftInQueue: 40}, nil,
			"40 messages are still in the queues and the run did not tell the valid ones waiting in the main queue from invalid, dead-lettered or already-stored ones"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Analyze(Input{Scenario: s, Events: evs, Messages: &tc.q})
			m := got.Metrics
			switch {
			case tc.want == nil && m.MessagesLost != nil:
				t.Errorf("lost %d, want absent", *m.MessagesLost)
			case tc.want != nil && (m.MessagesLost == nil || *m.MessagesLost != *tc.want):
				t.Errorf("lost %v, want %d (absent: %q)", m.MessagesLost, *tc.want, m.Absent["messagesLost"])
			}
			if m.Absent["messagesLost"] != tc.why {
				t.Errorf("absent reason %q, want %q", m.Absent["messagesLost"], tc.why)
			}
			c := check(t, got, CheckMessagesLost)
			if c.Passed != (tc.want != nil && *tc.want == 0) {
				t.Errorf("check %+v", c)
			}
		})
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
		CheckColdStartOK: "expected a successful response (status below 400, in time) to every cold-start request; observed 1 of 3 failed (at 130.0 s: status 504)",
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

// The README's main command once passed both CPU scenarios while 1440 of
// 1440 requests failed: a run that served nothing never passes, whatever
// error budget the scenario sets.
func TestNothingServedNeverPasses(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	one := 1.0 - 1e-9
	s.Spec.Expectations.MaxErrorRate = &one
	got := Analyze(Input{Scenario: s, Events: hpaSeed().evs, Load: &LoadTotals{Requests: 1440, Errors: 1440, Successes: 0, P50LatencySeconds: 5, P99LatencySeconds: 5}})
	if got.Passed {
		t.Fatalf("passed with no request served: %+v", got.Checks)
	}
	c := check(t, got, CheckServed)
	if c.State() != fail || c.Detail != "expected at least one successful request; observed 0 of 1440 requests succeeded" {
		t.Errorf("served check %+v", c)
	}
	m := got.Metrics
	if *m.SuccessfulRequests != 0 || *m.ErrorRate != 1 || *m.GoodputPerSecond != 0 || *m.P99LatencySeconds != 5 {
		t.Errorf("metrics %+v", m)
	}
	if m.SuccessP99LatencySeconds != nil || m.Absent["successP99LatencySeconds"] != "no request succeeded" {
		t.Errorf("success p99 %v, reason %q", m.SuccessP99LatencySeconds, m.Absent["successP99LatencySeconds"])
	}
	// No load results at all fail the same check, saying so.
	got = Analyze(Input{Scenario: s, Events: hpaSeed().evs})
	if c := check(t, got, CheckServed); c.State() != fail || !strings.Contains(c.Detail, "no load results") || got.Passed {
		t.Errorf("no load: %+v", c)
	}
}

func TestErrorRateIsCheckedByDefaultAndOverridable(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	if r := s.Spec.Expectations.MaxErrorRate; r == nil || *r != scenario.DefaultMaxErrorRate {
		t.Fatalf("hpa-cpu maxErrorRate %v, want the default", r)
	}
	load := &LoadTotals{Requests: 100, Errors: 6}
	if got := Analyze(Input{Scenario: s, Events: hpaSeed().evs, Load: load}); got.Passed || check(t, got, CheckErrorRate).Passed {
		t.Error("6 % errors passed the default 5 % budget")
	}
	r := 0.1
	s.Spec.Expectations.MaxErrorRate = &r
	got := Analyze(Input{Scenario: s, Events: hpaSeed().evs, Load: load})
	if c := check(t, got, CheckErrorRate); !c.Passed || c.Detail != "expected an error rate ≤ 10.00%; observed 6.00% (6 of 100 requests failed)" {
		t.Errorf("override: %+v", c)
	}
	if got.Knobs["maxErrorRate"] != "0.1" {
		t.Errorf("knob %q", got.Knobs["maxErrorRate"])
	}
}

func TestGoodputPhasesThatDidNotOccurAreAbsent(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	// Never scaled: the whole load is before any scale-up.
	b := &tl{}
	b.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).load(5, 10, constant(4), constant(1)).mark(15, timeline.MarkerLoadStop)
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 40, Errors: 10}})
	want := &results.GoodputPhases{BeforeScaleUp: &results.Phase{FromSeconds: 5, ToSeconds: 15, Requests: 40, SuccessfulRequests: 30, GoodputPerSecond: 3}}
	if !reflect.DeepEqual(got.Metrics.Goodput, want) {
		t.Errorf("never scaled: %+v", got.Metrics.Goodput)
	}
	// Scaled up, but the peak was reached after the load stopped: no at-peak phase.
	b = &tl{}
	b.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).load(5, 10, constant(4), constant(0))
	b.deploy(9, 3, 1).mark(15, timeline.MarkerLoadStop).deploy(16, 3, 3)
	got = Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 40}})
	g := got.Metrics.Goodput
	if g == nil || g.BeforeScaleUp == nil || g.DuringScaleUp == nil || g.AtPeak != nil || g.DuringScaleUp.ToSeconds != 15 || g.BeforeScaleUp.SuccessfulRequests != 16 {
		t.Errorf("peak after the load: %+v %+v %+v", g, g.BeforeScaleUp, g.DuringScaleUp)
	}
}

func TestFlapsCountOnlyUnintendedReversals(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	flaps := func(b *tl) int {
		t.Helper()
		got := Analyze(Input{Scenario: s, Events: b.evs})
		return *got.Metrics.Flaps
	}
	// A clean 1 → 10 → 1 cycle.
	clean := &tl{}
	clean.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).deploy(30, 10, 10).mark(100, timeline.MarkerLoadStop).deploy(400, 1, 1)
	if n := flaps(clean); n != 0 {
		t.Errorf("clean cycle: %d flaps, want 0", n)
	}
	// 1 → 4 → 2 → 4 under load, then down after: two reversals under load.
	osc := &tl{}
	osc.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).deploy(30, 4, 4).deploy(45, 2, 2).deploy(60, 4, 4).mark(100, timeline.MarkerLoadStop).deploy(400, 1, 1)
	if n := flaps(osc); n != 2 {
		t.Errorf("oscillation under load: %d flaps, want 2", n)
	}
	// Down after the load, then up again while idle: one flap.
	idle := &tl{}
	idle.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).deploy(30, 10, 10).mark(100, timeline.MarkerLoadStop).deploy(200, 5, 5).deploy(220, 8, 8).deploy(400, 1, 1)
	// The last scale-up step lands after the load stopped (metrics lag):
	// still the same cycle.
	lag := &tl{}
	lag.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).deploy(80, 4, 4).deploy(95, 8, 8).mark(105, timeline.MarkerLoadStop).deploy(110, 10, 10).deploy(400, 1, 1)
	if n := flaps(lag); n != 0 {
		t.Errorf("lagging last step: %d flaps, want 0", n)
	}
	if n := flaps(idle); n != 2 {
		// 10→5 idle (intended), 5→8 idle (flap), 8→1 idle after an idle up (flap: up then down again).
		t.Errorf("scale-up while idle: %d flaps, want 2", n)
	}
	// keda-http: ten cold-start cycles 0 → 1 → 0, then the load 0 → 1 → 4 → 0.
	h := builtin(t, "keda-http")
	b := &tl{workload: "hello"}
	b.deploy(0, 0, 0)
	for i := 0; i < 10; i++ {
		sent := float64(10 + 60*i)
		b.evs = append(b.evs, timeline.Event{At: at(sent + 1.2), Kind: timeline.KindRequest, Request: &timeline.Request{Purpose: PurposeColdStart, SentAtSeconds: sent, LatencySeconds: 1.2, Status: 200}})
		b.deploy(sent+0.2, 1, 0).deploy(sent+1.1, 1, 1).deploy(sent+45, 0, 0)
	}
	b.mark(700, timeline.MarkerLoadStart).deploy(700.2, 1, 0).deploy(701, 1, 1).deploy(716, 4, 4).mark(760, timeline.MarkerLoadStop).deploy(800, 0, 0)
	if got := Analyze(Input{Scenario: h, Events: b.evs}); *got.Metrics.Flaps != 0 {
		t.Errorf("keda-http cold-start cycles: %d flaps, want 0", *got.Metrics.Flaps)
	}
}

func TestScaleDownAbsentWhenNeverScaledUp(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	b := &tl{}
	b.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).mark(185, timeline.MarkerLoadStop).hpa(300, 1, 1)
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 100}})
	m := got.Metrics
	if m.ScaleDownSeconds != nil || m.Absent["scaleDownSeconds"] != "the workload never scaled up after the load start, so there was nothing to scale down" {
		t.Errorf("scaleDownSeconds %v, reason %q", m.ScaleDownSeconds, m.Absent["scaleDownSeconds"])
	}
	if m.FirstScaleUpSeconds != nil || m.Absent["firstScaleUpSeconds"] != "spec.replicas never rose above the 1 observed at the load start" {
		t.Errorf("firstScaleUpSeconds %v, reason %q", m.FirstScaleUpSeconds, m.Absent["firstScaleUpSeconds"])
	}
	c := check(t, got, CheckScaleDown)
	if c.State() != skip || c.Detail != "expected 1 replicas within 7m0s of the load end; not tested: the workload never scaled up after the load start (observed 1 spec / 1 ready at the load start, peak 1 ready), so there was nothing to scale down" {
		t.Errorf("scale-down check %+v", c)
	}
	if got.Passed {
		t.Error("passed without scaling up")
	}
}

func TestFirstScaleUpNeedsABaseline(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	// The first replica count arrives after the load start: it must not be
	// read as a scale-up from nothing.
	b := &tl{}
	b.mark(5, timeline.MarkerLoadStart).deploy(6, 1, 1).deploy(80, 4, 4).mark(185, timeline.MarkerLoadStop)
	m := Analyze(Input{Scenario: s, Events: b.evs}).Metrics
	want := "no replica count of the workload was observed before the load start, so a scale-up cannot be told from the initial count"
	if m.FirstScaleUpSeconds != nil || m.TimeToPeakSeconds != nil || m.Absent["firstScaleUpSeconds"] != want || m.Absent["timeToPeakSeconds"] != want {
		t.Errorf("metrics %+v", m)
	}
	if m.PeakReplicas == nil || *m.PeakReplicas != 4 {
		t.Errorf("peak %v", m.PeakReplicas)
	}
}

func TestReplicaSecondsWindowEndsAtTheEndOfObservation(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	b := &tl{}
	b.deploy(0, 1, 1).mark(10, timeline.MarkerLoadStart).deploy(20, 4, 4).mark(50, timeline.MarkerLoadStop).hpa(70, 4, 4)
	m := Analyze(Input{Scenario: s, Events: b.evs}).Metrics
	// 1×10 + 4×50, load start (10) → end of observation (70); nothing before the load counts.
	if *m.ReplicaSeconds != 210 || *m.ReplicaSecondsWindow != (results.Window{FromSeconds: 10, ToSeconds: 70, From: "load start", To: "end of observation"}) {
		t.Errorf("replicaSeconds %v over %+v", *m.ReplicaSeconds, *m.ReplicaSecondsWindow)
	}
	// Events after the workload is back at min do not stretch the window.
	b.deploy(90, 1, 1).hpa(500, 1, 1)
	m = Analyze(Input{Scenario: s, Events: b.evs}).Metrics
	if *m.ReplicaSeconds != 290 || m.ReplicaSecondsWindow.ToSeconds != 90 || m.ReplicaSecondsWindow.To != "back at 1 replicas after the load end" {
		t.Errorf("replicaSeconds %v over %+v", *m.ReplicaSeconds, *m.ReplicaSecondsWindow)
	}
}

func TestDecisionAndActivationCountOnlyTheScenariosOwnAutoscaler(t *testing.T) {
	s := builtin(t, "keda-sqs")
	b := sqsSeed()
	// Another ScaledObject activates and another HPA wants more, earlier.
	b.kubeOf("other", 10.5, ReasonKEDAActivated).hpaOf("keda-hpa-other", 10.7, 1, 5)
	got := Analyze(Input{Scenario: s, Events: b.evs, Messages: &MessageTotals{Sent: 1000, Processed: 1000}})
	if *got.Metrics.DecisionSeconds != 1.5 {
		t.Errorf("decision %v, want 1.5 (the scenario's own activation)", *got.Metrics.DecisionSeconds)
	}
	if c := check(t, got, CheckActivation); c.Detail != "expected KEDA to activate the workload (0→1) within 15s of the load start; observed KEDAScaleTargetActivated at 1.5 s" {
		t.Errorf("activation %+v", c)
	}
	// Only the other objects: no decision, no activation.
	o := &tl{workload: "customer-transformer"}
	o.deploy(0, 0, 0).mark(10, timeline.MarkerLoadStart).kubeOf("other", 10.5, ReasonKEDAActivated).hpaOf("keda-hpa-other", 10.7, 1, 5).mark(60, timeline.MarkerQueueDrained)
	got = Analyze(Input{Scenario: s, Events: o.evs, Messages: &MessageTotals{Sent: 1000, Processed: 1000}})
	if got.Metrics.DecisionSeconds != nil || check(t, got, CheckActivation).Passed {
		t.Errorf("another object's decision counted: %v %+v", got.Metrics.DecisionSeconds, check(t, got, CheckActivation))
	}
	if r := got.Metrics.Absent["decisionSeconds"]; r != "no scale-up decision by HPA keda-hpa-customer-transformer or ScaledObject customer-transformer was observed after the load start" {
		t.Errorf("reason %q", r)
	}
}

func TestChecksThatCannotFailAreNotTested(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	// One scale-up step 1 → 10: no spacing to check.
	b := &tl{}
	b.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).deploy(80, 10, 10).mark(185, timeline.MarkerLoadStop).deploy(500, 1, 1)
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 100}})
	c := check(t, got, CheckStepInterval)
	if c.State() != skip || c.Detail != "expected scale-up steps ≥ 15s apart; not tested: observed 1 scale-up step(s) from a running replica, and spacing needs two" {
		t.Errorf("step check %+v", c)
	}
	if !got.Passed {
		t.Errorf("a check not tested must not fail the scenario: %+v", got.Checks)
	}
	// A scenario whose every check is not tested has no verdict to pass.
	if verdict([]results.Check{{Name: "x", Skipped: true}}) {
		t.Error("only untested checks passed")
	}
}

func TestHoldingTheScaleUpCanFail(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	b := &tl{}
	b.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).upSteps(80, 1, 4, 8, 10).deploy(150, 6, 6).mark(185, timeline.MarkerLoadStop).deploy(500, 1, 1)
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 100}})
	c := check(t, got, CheckHoldsScaleUp)
	if c.State() != fail || c.Detail != "expected spec.replicas to stay ≥ 10 from reaching it until the load ends; observed a drop to 6 at 145.0 s, 35.0 s before the load ended" {
		t.Errorf("hold check %+v", c)
	}
	// Up then down under load: one flap.
	if *got.Metrics.Flaps != 1 {
		t.Errorf("flaps %d, want 1", *got.Metrics.Flaps)
	}
}

func TestMustNotScale(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	s.Spec.Expectations = scenario.Expectations{MaxReplicas: i32(1), MaxErrorRate: s.Spec.Expectations.MaxErrorRate}
	if errs := scenario.Validate(s); len(errs) > 0 {
		t.Fatalf("must-not-scale scenario invalid: %v", errs)
	}
	stay := &tl{}
	stay.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).mark(185, timeline.MarkerLoadStop).hpa(200, 1, 1)
	got := Analyze(Input{Scenario: s, Events: stay.evs, Load: &LoadTotals{Requests: 100}})
	assertChecks(t, got.Checks, map[string]string{CheckServed: pass, CheckErrorRate: pass, CheckMaxReplicas: pass})
	if !got.Passed {
		t.Error("want passed")
	}
	up := &tl{}
	up.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).deploy(80, 3, 1).deploy(81, 3, 3).mark(185, timeline.MarkerLoadStop)
	got = Analyze(Input{Scenario: s, Events: up.evs, Load: &LoadTotals{Requests: 100}})
	if c := check(t, got, CheckMaxReplicas); c.Passed || c.Detail != "expected at most 1 replicas from the load start on; observed 3 spec / 3 ready at 75.0 s" {
		t.Errorf("scaled: %+v", c)
	}
}

func TestScaleUpAlreadyReachedAtTheLoadStart(t *testing.T) {
	s := builtin(t, "keda-http")
	// Two replicas were still up from the cold starts when the load began.
	b := &tl{workload: "hello"}
	b.deploy(0, 2, 2).mark(5, timeline.MarkerLoadStart).mark(65, timeline.MarkerLoadStop).deploy(100, 0, 0)
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 100}})
	if c := check(t, got, CheckScaleUp); !c.Passed || c.Detail != "expected ≥ 2 ready replicas within 1m0s of load start; observed 2 ready already at the load start" {
		t.Errorf("scale-up %+v", c)
	}
}

func TestAggregateLabelsPerTrialPercentiles(t *testing.T) {
	a := Aggregate("hpa-cpu", []results.Scenario{{Metrics: results.Metrics{P99LatencySeconds: f(4)}}, {Metrics: results.Metrics{P99LatencySeconds: f(2)}}})
	p := a.Metrics["p99LatencySeconds"]
	if p == nil || p.MeanSeconds != 3 || !strings.Contains(p.Statistic, "not a pooled p99") {
		t.Errorf("%+v", p)
	}
	if a.Metrics["decisionSeconds"] != nil {
		t.Error("absent metric aggregated")
	}
}

// The scale-up phase's p99 pools the latencies of its seconds' successful
// requests; it is absent when they were not kept (bombardier) or some are
// missing.
func TestScaleUpPhaseP99PoolsItsSeconds(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	b := &tl{}
	// Load seconds 0..9 from 5 s; scale-up at 9 s (seconds 4..), peak ready at 12 s.
	b.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).load(5, 10, constant(4), constant(0))
	b.deploy(9, 3, 1).deploy(12, 3, 3).mark(15, timeline.MarkerLoadStop)
	lat := make([][]float64, 10)
	for i := range lat {
		lat[i] = []float64{0.01, 0.01, 0.01, 0.01}
	}
	lat[5] = []float64{0.01, 0.02, 0.03, 9.0}  // the slow one is inside the scale-up
	lat[9] = []float64{0.01, 0.01, 0.01, 20.0} // at peak, outside it
	got := Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 40, SuccessLatencies: lat}})
	up := got.Metrics.Goodput.DuringScaleUp
	if up == nil || up.SuccessP99LatencySeconds == nil || *up.SuccessP99LatencySeconds != 9 || up.Requests != 12 {
		t.Fatalf("during scale-up %+v", up)
	}
	if p := got.Metrics.Goodput.AtPeak; p == nil || p.SuccessP99LatencySeconds == nil || *p.SuccessP99LatencySeconds != 20 {
		t.Fatalf("at peak %+v", p)
	}
	// Without the latencies, or with some missing, the p99 is absent.
	got = Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 40}})
	if p := got.Metrics.Goodput.DuringScaleUp.SuccessP99LatencySeconds; p != nil {
		t.Fatalf("p99 %v without latencies", *p)
	}
	lat[5] = lat[5][:3]
	got = Analyze(Input{Scenario: s, Events: b.evs, Load: &LoadTotals{Requests: 40, SuccessLatencies: lat}})
	if p := got.Metrics.Goodput.DuringScaleUp.SuccessP99LatencySeconds; p != nil {
		t.Fatalf("p99 %v with a latency missing", *p)
	}
}

// A CPU profile sends no requests: "requests served" is not tested and says
// so, and the scenario still passes on its scaling checks alone.
func TestCPUProfileSaysServiceNotTested(t *testing.T) {
	s := builtin(t, "hpa-cpu")
	s.Spec.Load = scenario.Load{Type: scenario.LoadCPU}
	s.Spec.Expectations = scenario.Expectations{MaxReplicas: i32(1)}
	stay := &tl{}
	stay.deploy(0, 1, 1).mark(5, timeline.MarkerLoadStart).mark(185, timeline.MarkerLoadStop).hpa(200, 1, 1)
	got := Analyze(Input{Scenario: s, Events: stay.evs})
	c := check(t, got, CheckServed)
	if c.State() != skip || !strings.Contains(c.Detail, "sends no requests") {
		t.Errorf("requests served under a CPU profile: %+v", c)
	}
	if !got.Passed {
		t.Errorf("want passed on the scaling check: %+v", got.Checks)
	}
}
