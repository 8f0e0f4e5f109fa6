// Package analysis turns a scenario's timeline into metrics, scale steps and
// checked expectations. It is pure: everything comes from the recorded
// events, so recorded or synthetic timelines are its test data.
package analysis

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/stats"
	"github.com/scalebench/scalebench/timeline"
)

// Input is what a run hands to the analysis.
type Input struct {
	Scenario *scenario.Scenario
	Events   []timeline.Event
	// Load is the load generator's whole-run summary (HTTP scenarios).
	Load *LoadTotals
	// Messages are the SQS message counts (SQS scenarios).
	Messages *MessageTotals
	// Profile is the load's arrival profile as scheduled and sent (nil
	// without one); the report shows it under the replica timeline.
	Profile []results.ProfileStep
	// Cluster are the knobs of the cluster the scenario ran on, for its
	// budget; nil: Kubernetes' defaults (budget.DefaultCluster).
	Cluster *budget.Cluster
}

// Load modes.
const (
	LoadClosedLoop = "closed-loop"
	LoadOpenLoop   = "open-loop"
)

// LoadTotals summarise the HTTP load of a run. Latencies are in seconds.
type LoadTotals struct {
	// Mode is how requests were sent: load.ClosedLoop ("closed-loop": each
	// connection sends its next request when the previous response arrived,
	// latency from the actual send) or load.OpenLoop ("open-loop": requests
	// at a constant arrival rate whatever the responses, latency from the
	// scheduled send time, so it is free of coordinated omission).
	Mode string
	// Description says the same in a sentence with the load's parameters,
	// for the report.
	Description string
	// Rate is the target arrival rate (open loop) or the rate cap (closed
	// loop), requests/s; nil when there is no single rate (an uncapped closed
	// loop, or steps).
	Rate *float64
	// MaxInFlight is the open loop's cap on requests in flight; 0 for a
	// closed loop, whose connections are its cap.
	MaxInFlight int

	Requests int64
	Errors   int64
	// ErrorsByKind counts the failed requests by cause (load.ErrorKind:
	// "http_5xx", "timeout", ...); nil when unknown (bombardier) or none.
	ErrorsByKind      map[string]int64
	P50LatencySeconds float64
	P99LatencySeconds float64
	// Successes = Requests - Errors.
	Successes int64
	// SuccessP50LatencySeconds and SuccessP99LatencySeconds are over the
	// successful requests only; nil when none succeeded.
	SuccessP50LatencySeconds *float64
	SuccessP99LatencySeconds *float64
	// Missed counts paced requests that were due but never sent (not in
	// Requests); nil when the load was not paced (an uncapped closed loop
	// cannot miss) or the generator cannot tell (bombardier).
	Missed *int64
	// Dropped counts results in these totals that are missing from the
	// timeline's per-second load samples; nil when there are no per-second
	// samples at all (bombardier).
	Dropped *int64
	// Placement is where the load was generated: "" in the bench process,
	// "cluster" by a Job of Pods pods in the cluster; PlacementNote says
	// more (e.g. that the pods were emulated).
	Placement     string
	Pods          int
	PlacementNote string
	// PodRequests are each load pod's own request total (placement
	// cluster), by pod name; they add up to Requests.
	PodRequests map[string]int64
	// SuccessLatencies are, by load second (the LoadSample's Second), the
	// latencies in seconds of that second's successful requests, so a
	// phase's percentile pools its requests; nil when the generator keeps
	// no per-request results (bombardier).
	SuccessLatencies [][]float64
}

// MessageTotals count the SQS messages of a run.
type MessageTotals struct {
	Sent int64
	// Processed valid messages whose record was found correct in the store.
	Processed int64
	// Invalid messages sent on purpose.
	Invalid int64
	// LeftInQueue are all messages still in the queue and its dead-letter
	// queue at the end (visible or in flight), valid or not.
	LeftInQueue int64
	// InMainQueue are the messages still in the main queue (not the
	// dead-letter queue) at the end, when counted apart; nil if not.
	InMainQueue *int64
	// ValidWaiting are the valid messages without a correct record that are
	// still in the main queue (visible or in flight) at the end: they may
	// yet be processed, so they are not lost. Nil when the runner did not
	// tell them apart from invalid or already-stored ones.
	ValidWaiting *int64
	// StoreError is set when the store could not be read at the end: then
	// what was processed (and so what was lost) is unknown.
	StoreError string
}

// lost is valid sent − valid correctly stored − valid still waiting in the
// main queue, never negative. A valid message in the dead-letter queue is
// lost; one stored but not yet deleted is counted once (as stored). ok is
// false, with the reason, when the counts cannot tell.
func (q *MessageTotals) lost() (n int64, ok bool, why string) {
	if q.StoreError != "" {
		return 0, false, "the store could not be read: " + q.StoreError
	}
	var waiting int64
	switch {
	case q.ValidWaiting != nil:
		waiting = *q.ValidWaiting
	case q.Sent-q.Invalid <= q.Processed:
		// Every valid message is stored: whatever is left in the queues is
		// invalid or stored but not yet deleted.
		waiting = 0
	case q.InMainQueue != nil && *q.InMainQueue == 0, q.LeftInQueue == 0:
		waiting = 0
	default:
		return 0, false, fmt.Sprintf("%d messages are still in the queues and the run did not tell the valid ones waiting in the main queue from invalid, dead-lettered or already-stored ones", q.LeftInQueue)
	}
	valid := q.Sent - q.Invalid
	return max(0, valid-q.Processed-waiting), true, ""
}

// Events the autoscalers emit.
const (
	ReasonKEDAActivated   = "KEDAScaleTargetActivated"
	ReasonKEDADeactivated = "KEDAScaleTargetDeactivated"
)

// Purposes of recorded requests.
const PurposeColdStart = "cold-start"

// Analyze computes metrics, steps and checks. It never fails: what cannot be
// computed is absent, and checks that depend on it fail saying so.
func Analyze(in Input) results.Scenario {
	s := in.Scenario
	out := results.Scenario{
		Name:        s.Metadata.Name,
		Autoscaler:  s.Spec.Autoscaler.Type,
		Description: s.Metadata.Description,
		Knobs:       Knobs(s),
		Timeline:    in.Events,
		Profile:     in.Profile,
	}
	bc := budget.DefaultCluster()
	if in.Cluster != nil {
		bc = *in.Cluster
	}
	if b, err := budget.ForCluster(*s, bc); err != nil {
		out.BudgetAbsent = err.Error()
	} else {
		out.Budget = &b
	}
	out.DerivedExpectations = s.Derived
	v := newView(in.Events, s)
	out.Steps = v.steps()
	out.Metrics = v.metrics(in)
	out.Checks = checks(s, v, out.Metrics, out.Steps, in)
	out.Passed = verdict(out.Checks)
	return out
}

// verdict passes when at least one check was tested and every tested check
// passed: a check that was not tested decides nothing.
func verdict(cs []results.Check) bool {
	tested := 0
	for _, c := range cs {
		if c.Skipped {
			continue
		}
		tested++
		if !c.Passed {
			return false
		}
	}
	return tested > 0
}

// view indexes a timeline for the analysis.
type view struct {
	deploy     []timeline.Event // workload Deployment replica observations
	autoscaler []timeline.Event // the scenario's own HPA's status
	kube       []timeline.Event // Kubernetes Events about the scenario's own ScaledObject
	load       []timeline.Event
	requests   []timeline.Event
	markers    map[string]time.Duration // first occurrence of each marker
	end        time.Duration            // last event
	hpa        string                   // the HPA's timeline object name
	so         string                   // the ScaledObject's timeline object name ("" for hpa)
	// successLatencies are LoadTotals.SuccessLatencies (nil: unknown).
	successLatencies [][]float64
}

func newView(evs []timeline.Event, s *scenario.Scenario) *view {
	ns := s.Spec.Namespace
	v := &view{markers: map[string]time.Duration{}, hpa: "HorizontalPodAutoscaler/" + ns + "/" + s.HPAName()}
	if so := s.ScaledObjectName(); so != "" {
		v.so = "ScaledObject/" + ns + "/" + so
	}
	workload := s.Spec.Workload.Name
	sorted := append([]timeline.Event(nil), evs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At < sorted[j].At })
	for _, e := range sorted {
		if e.At > v.end {
			v.end = e.At
		}
		switch e.Kind {
		case timeline.KindDeployment:
			if e.Deployment != nil && (workload == "" || objectName(e.Object) == workload) {
				v.deploy = append(v.deploy, e)
			}
		case timeline.KindAutoscaler:
			// Only the scenario's own HPA: another autoscaler in the
			// namespace decides nothing about this workload.
			if e.Autoscaler != nil && e.Object == v.hpa {
				v.autoscaler = append(v.autoscaler, e)
			}
		case timeline.KindKubeEvent:
			if e.KubeEvent != nil && v.so != "" && e.Object == v.so {
				v.kube = append(v.kube, e)
			}
		case timeline.KindLoad:
			if e.Load != nil {
				v.load = append(v.load, e)
			}
		case timeline.KindRequest:
			if e.Request != nil {
				v.requests = append(v.requests, e)
			}
		case timeline.KindMarker:
			if e.Marker != nil {
				if _, ok := v.markers[e.Marker.Name]; !ok {
					v.markers[e.Marker.Name] = e.At
				}
			}
		}
	}
	return v
}

func objectName(obj string) string {
	for i := len(obj) - 1; i >= 0; i-- {
		if obj[i] == '/' {
			return obj[i+1:]
		}
	}
	return obj
}

func (v *view) marker(name string) (time.Duration, bool) {
	t, ok := v.markers[name]
	return t, ok
}

// loadStart is the reference for scale-up metrics.
func (v *view) loadStart() (time.Duration, bool) { return v.marker(timeline.MarkerLoadStart) }

// loadEnd is the reference for scale-down: the queue drained if recorded,
// else the load stop.
func (v *view) loadEnd() (time.Duration, bool) {
	if t, ok := v.marker(timeline.MarkerQueueDrained); ok {
		return t, true
	}
	return v.marker(timeline.MarkerLoadStop)
}

// stateAt is the last Deployment observation at or before t.
func (v *view) stateAt(t time.Duration) (timeline.Replicas, bool) {
	var r timeline.Replicas
	ok := false
	for _, e := range v.deploy {
		if e.At > t {
			break
		}
		r, ok = *e.Deployment, true
	}
	return r, ok
}

// steps lists changes of spec.replicas after the first observation.
func (v *view) steps() []results.Step {
	steps := []results.Step{}
	var prev int32
	for i, e := range v.deploy {
		if i > 0 && e.Deployment.Spec != prev {
			steps = append(steps, results.Step{AtSeconds: round(e.At.Seconds()), From: prev, To: e.Deployment.Spec})
		}
		prev = e.Deployment.Spec
	}
	return steps
}

// cycle is what the metrics of one load cycle are measured from.
type cycle struct {
	start, end   time.Duration // load start; load end (or end of observation)
	hasEnd       bool
	base         timeline.Replicas // the state observed at or before the load start
	hasBase      bool
	firstUp      time.Duration // first raise of spec.replicas above the baseline
	scaledUp     bool
	peak         int32 // peak ready replicas from the load start on
	peakAt       time.Duration
	hasPeak      bool
	scaleTarget  int32 // replicas the workload returns to after the load
	backAt       time.Duration
	back         bool // back at scaleTarget after the load end
	upAfterStart bool // some spec raise after the load start (baseline or not)
}

func (v *view) cycle(s *scenario.Scenario) (cycle, bool) {
	var c cycle
	start, ok := v.loadStart()
	if !ok {
		return c, false
	}
	c.start = start
	c.end, c.hasEnd = v.loadEnd()
	if !c.hasEnd {
		c.end = v.end
	}
	c.base, c.hasBase = v.stateAt(start)
	var prevSpec int32 = -1
	if c.hasBase {
		prevSpec = c.base.Spec
		c.peak, c.peakAt, c.hasPeak = c.base.Ready, start, true
	}
	for _, e := range v.deploy {
		if e.At < start {
			continue
		}
		d := e.Deployment
		if c.hasBase && !c.scaledUp && d.Spec > c.base.Spec {
			c.firstUp, c.scaledUp = e.At, true
		}
		if prevSpec >= 0 && d.Spec > prevSpec {
			c.upAfterStart = true
		}
		prevSpec = d.Spec
		if !c.hasPeak || d.Ready > c.peak {
			c.peak, c.peakAt, c.hasPeak = d.Ready, e.At, true
		}
	}
	c.scaleTarget = *s.Spec.Autoscaler.MinReplicas
	if d := s.Spec.Expectations.ScaleDown; d != nil {
		c.scaleTarget = *d.Replicas
	}
	if c.hasEnd {
		c.backAt, c.back = v.scaledDown(c.end, c.scaleTarget)
	}
	return c, true
}

func (v *view) metrics(in Input) results.Metrics {
	var m results.Metrics
	absent := func(key, format string, args ...any) {
		if m.Absent == nil {
			m.Absent = map[string]string{}
		}
		m.Absent[key] = fmt.Sprintf(format, args...)
	}
	s := in.Scenario
	c, hasStart := v.cycle(s)
	if hasStart {
		start := c.start
		// Decision: the scenario's own HPA wishing for more than it has (and
		// than the baseline), or its own ScaledObject activating.
		var decision *time.Duration
		for _, e := range v.autoscaler {
			a := e.Autoscaler
			if e.At >= start && a.Desired > a.Current && (!c.hasBase || a.Desired > c.base.Spec) {
				d := e.At
				decision = &d
				break
			}
		}
		if act, ok := v.activation(start); ok && (decision == nil || act < *decision) {
			decision = &act
		}
		if decision != nil {
			m.DecisionSeconds = secs(*decision - start)
		} else {
			who := "HPA " + objectName(v.hpa)
			if v.so != "" {
				who += " or ScaledObject " + objectName(v.so)
			}
			absent("decisionSeconds", "no scale-up decision by %s was observed after the load start", who)
		}
		switch {
		case !c.hasBase:
			why := "no replica count of the workload was observed before the load start, so a scale-up cannot be told from the initial count"
			absent("firstScaleUpSeconds", "%s", why)
			absent("firstReadySeconds", "%s", why)
			absent("timeToPeakSeconds", "%s", why)
		case !c.scaledUp:
			why := fmt.Sprintf("spec.replicas never rose above the %d observed at the load start", c.base.Spec)
			absent("firstScaleUpSeconds", "%s", why)
			absent("firstReadySeconds", "%s", why)
			absent("timeToPeakSeconds", "%s", why)
		default:
			m.FirstScaleUpSeconds = secs(c.firstUp - start)
			for _, e := range v.deploy {
				if e.At >= c.firstUp && e.Deployment.Ready > c.base.Ready {
					m.FirstReadySeconds = secs(e.At - start)
					break
				}
			}
			if m.FirstReadySeconds == nil {
				absent("firstReadySeconds", "no new replica became ready after the first scale-up")
			}
			if c.peak > c.base.Ready {
				m.TimeToPeakSeconds = secs(c.peakAt - start)
			} else {
				absent("timeToPeakSeconds", "ready replicas never rose above the %d observed at the load start", c.base.Ready)
			}
		}
		if c.hasPeak {
			m.PeakReplicas = results.I32(c.peak)
		}
		if len(v.deploy) > 0 {
			w := &results.Window{FromSeconds: round(start.Seconds()), From: "load start", ToSeconds: round(v.end.Seconds()), To: "end of observation"}
			if c.back {
				w.ToSeconds, w.To = round(c.backAt.Seconds()), fmt.Sprintf("back at %d replicas after the load end", c.scaleTarget)
			}
			to := time.Duration(w.ToSeconds * float64(time.Second))
			m.ReplicaSeconds = results.F64(round(v.replicaSeconds(start, to)))
			m.ReplicaSecondsWindow = w
		}
		m.Flaps = intPtr(v.flaps(c))
		switch {
		case !c.hasEnd:
			absent("scaleDownSeconds", "the load never ended (no load-stop or queue-drained marker)")
		case !c.scaledUp && !c.upAfterStart:
			absent("scaleDownSeconds", "the workload never scaled up after the load start, so there was nothing to scale down")
		case !c.back:
			last, _ := v.stateAt(v.end)
			absent("scaleDownSeconds", "not back at %d replicas when observation ended %.1f s after the load end (%d spec / %d ready)", c.scaleTarget, (v.end - c.end).Seconds(), last.Spec, last.Ready)
		default:
			m.ScaleDownSeconds = secs(c.backAt - c.end)
		}
	}
	if l := in.Load; l != nil {
		v.loadMetrics(&m, l, s, c, hasStart, absent)
	}
	if q := in.Messages; q != nil {
		m.MessagesSent = results.I64(q.Sent)
		m.MessagesInvalid = results.I64(q.Invalid)
		m.MessagesInQueue = results.I64(q.LeftInQueue)
		if q.StoreError == "" {
			m.MessagesProcessed = results.I64(q.Processed)
		}
		if n, ok, why := q.lost(); ok {
			m.MessagesLost = results.I64(n)
		} else {
			absent("messagesLost", "%s", why)
		}
	} else if s.Spec.Load.Type == scenario.LoadSQS {
		// The run stopped before the messages were counted (a harness or
		// platform error): no count is claimed.
		for _, k := range []string{"messagesSent", "messagesProcessed", "messagesInQueue", "messagesLost"} {
			absent(k, "the run stopped before the messages were counted")
		}
	}
	var cold []float64
	for _, e := range v.requests {
		if e.Request.Purpose != PurposeColdStart {
			continue
		}
		cold = append(cold, e.Request.LatencySeconds)
		if m.ColdStart == nil {
			m.ColdStart = v.coldStart(e)
			m.ColdStartSeconds = results.F64(round(e.Request.LatencySeconds))
		}
	}
	if len(cold) > 1 {
		m.ColdStartSeries = Summarize(cold)
	}
	return m
}

// loadMetrics fills the served-load metrics: counts, error rate, goodput
// overall and per phase, and latency percentiles.
func (v *view) loadMetrics(m *results.Metrics, l *LoadTotals, s *scenario.Scenario, c cycle, hasStart bool, absent func(key, format string, args ...any)) {
	m.LoadMode = l.Mode
	if m.LoadMode == "" {
		m.LoadMode = LoadClosedLoop
	}
	if l.Placement != "" {
		m.LoadPlacement = l.Placement
		pods := l.Pods
		m.LoadPods = &pods
		m.LoadPlacementNote = l.PlacementNote
		m.LoadPodRequests = l.PodRequests
	}
	ok := l.Requests - l.Errors
	if l.Successes > 0 {
		ok = l.Successes
	}
	m.Requests = results.I64(l.Requests)
	m.Errors = results.I64(l.Errors)
	m.SuccessfulRequests = results.I64(ok)
	if l.Requests > 0 {
		m.ErrorRate = results.F64(math.Round(float64(l.Errors)/float64(l.Requests)*1e4) / 1e4)
		m.P50LatencySeconds = results.F64(round(l.P50LatencySeconds))
		m.P99LatencySeconds = results.F64(round(l.P99LatencySeconds))
	} else {
		absent("errorRate", "no request was sent")
	}
	switch {
	case ok == 0:
		absent("successP50LatencySeconds", "no request succeeded")
		absent("successP99LatencySeconds", "no request succeeded")
	case l.SuccessP50LatencySeconds != nil && l.SuccessP99LatencySeconds != nil:
		m.SuccessP50LatencySeconds = results.F64(round(*l.SuccessP50LatencySeconds))
		m.SuccessP99LatencySeconds = results.F64(round(*l.SuccessP99LatencySeconds))
	}
	if l.Missed != nil {
		m.MissedRequests = results.I64(*l.Missed)
	} else if paced(s) {
		absent("missedRequests", "the load generator cannot tell requests it missed")
	}
	if l.Dropped != nil {
		m.DroppedResults = results.I64(*l.Dropped)
	}
	if !hasStart {
		return
	}
	stop, hasStop := v.marker(timeline.MarkerLoadStop)
	if !hasStop {
		absent("goodputPerSecond", "the load never stopped (no load-stop marker), so its duration is unknown")
		return
	}
	if d := (stop - c.start).Seconds(); d > 0 {
		m.GoodputPerSecond = results.F64(round(float64(ok) / d))
	}
	if len(v.load) == 0 {
		absent("goodput", "no per-second load samples were recorded")
		return
	}
	// Phases: before the first scale-up, during it (→ peak ready reached),
	// at peak (→ load stop). A phase that did not occur is absent.
	v.successLatencies = l.SuccessLatencies
	g := &results.GoodputPhases{}
	upEnd := stop
	if c.scaledUp && c.firstUp < stop {
		upEnd = c.firstUp
	}
	g.BeforeScaleUp = v.phase(c.start, upEnd)
	if c.scaledUp && c.firstUp < stop {
		peakAt := stop
		if c.peak > c.base.Ready && c.peakAt > c.firstUp && c.peakAt < stop {
			peakAt = c.peakAt
		}
		g.DuringScaleUp = v.phase(c.firstUp, peakAt)
		if peakAt < stop {
			g.AtPeak = v.phase(peakAt, stop)
		}
	}
	m.Goodput = g
}

// phase sums the load samples whose second's midpoint lies in [from, to).
// A load sample is recorded at the end of its second.
func (v *view) phase(from, to time.Duration) *results.Phase {
	if to <= from {
		return nil
	}
	p := &results.Phase{FromSeconds: round(from.Seconds()), ToSeconds: round(to.Seconds())}
	var ok []float64
	known := v.successLatencies != nil
	for _, e := range v.load {
		mid := e.At - time.Second/2
		if mid >= from && mid < to {
			p.Requests += int64(e.Load.Requests)
			p.SuccessfulRequests += int64(e.Load.Requests - e.Load.Errors)
			if i := e.Load.Second; i >= 0 && i < len(v.successLatencies) {
				ok = append(ok, v.successLatencies[i]...)
			}
		}
	}
	p.GoodputPerSecond = round(float64(p.SuccessfulRequests) / (to - from).Seconds())
	// Only when every success of the phase has its latency: a p99 of part
	// of them would be a different statistic.
	if known && len(ok) > 0 && int64(len(ok)) == p.SuccessfulRequests {
		p.SuccessP99LatencySeconds = results.F64(round(stats.Percentile(ok, 0.99)))
	}
	return p
}

// paced reports whether the scenario's HTTP load sets a rate.
func paced(s *scenario.Scenario) bool {
	h := s.Spec.Load.HTTP
	if h == nil {
		return false
	}
	if h.Rate > 0 || len(h.Profile) > 0 {
		return true
	}
	for _, st := range h.Steps {
		if st.Rate > 0 {
			return true
		}
	}
	return false
}

// scaledDown is the first time at or after from when spec and ready
// replicas are both at target (and stay observed so until the next change).
func (v *view) scaledDown(from time.Duration, target int32) (time.Duration, bool) {
	if r, ok := v.stateAt(from); ok && r.Spec == target && r.Ready <= target && r.Current <= target {
		return from, true
	}
	for _, e := range v.deploy {
		if e.At >= from && e.Deployment.Spec == target && e.Deployment.Ready <= target && e.Deployment.Current <= target {
			return e.At, true
		}
	}
	return 0, false
}

// replicaSeconds integrates ready replicas over [from, to].
func (v *view) replicaSeconds(from, to time.Duration) float64 {
	cur, _ := v.stateAt(from)
	t := from
	total := 0.0
	for _, e := range v.deploy {
		if e.At <= from {
			continue
		}
		if e.At > to {
			break
		}
		total += float64(cur.Ready) * (e.At - t).Seconds()
		cur, t = *e.Deployment, e.At
	}
	total += float64(cur.Ready) * (to - t).Seconds()
	return total
}

// coldStart breaks a cold-start request into stages.
func (v *view) coldStart(req timeline.Event) *results.ColdStart {
	sent := time.Duration(req.Request.SentAtSeconds * float64(time.Second))
	respond := sent + time.Duration(req.Request.LatencySeconds*float64(time.Second))
	cs := &results.ColdStart{
		ResponseSeconds: round(req.Request.LatencySeconds),
		Status:          req.Request.Status,
		ColdStartHeader: req.Request.Headers["X-Keda-Http-Cold-Start"],
	}
	for _, e := range v.kube {
		if e.At >= sent && e.At <= respond+time.Second && e.KubeEvent.Reason == ReasonKEDAActivated {
			cs.ActivatedSeconds = secs(e.At - sent)
			break
		}
	}
	for _, e := range v.deploy {
		if e.At >= sent && e.Deployment.Spec > 0 && cs.ScaledSeconds == nil {
			cs.ScaledSeconds = secs(e.At - sent)
		}
		if e.At >= sent && e.Deployment.Ready > 0 {
			cs.PodReadySeconds = secs(e.At - sent)
			break
		}
	}
	return cs
}

// Summarize computes mean, median, min and max of samples (seconds), with
// the statistics package that comparisons use.
func Summarize(samples []float64) *results.Series {
	s := stats.Summarize(samples)
	rounded := make([]float64, len(samples))
	for i, x := range samples {
		rounded[i] = round(x)
	}
	return &results.Series{
		Samples:     rounded,
		MeanSeconds: round(s.Mean),
		P50Seconds:  round(s.Median),
		MinSeconds:  round(s.Min),
		MaxSeconds:  round(s.Max),
	}
}

// flaps counts the reversals of spec.replicas that are not the intended
// up-then-down of a load cycle. A load cycle is the main load (load start →
// load end) or one cold-start request (sent → answered). Up then down is
// intended when the down comes while no load is applied; down then up is
// intended when the down came while idle and the up comes under load (a
// new cycle). Scale-ups that continue a run begun under load belong to it
// even after the load stopped (the autoscaler's metrics lag). Every other
// reversal — a scale-down under load, a scale-up while idle and the
// scale-down that undoes it — is a flap.
func (v *view) flaps(c cycle) int {
	windows := [][2]time.Duration{{c.start, c.end}}
	for _, e := range v.requests {
		r := e.Request
		if r.Purpose != PurposeColdStart {
			continue
		}
		sent := time.Duration(r.SentAtSeconds * float64(time.Second))
		windows = append(windows, [2]time.Duration{sent, sent + time.Duration(r.LatencySeconds*float64(time.Second))})
	}
	loaded := func(t time.Duration) bool {
		for _, w := range windows {
			if t >= w[0] && t <= w[1] {
				return true
			}
		}
		return false
	}
	n, dir := 0, 0
	// upUnderLoad: the current (or last) run of scale-ups began under load,
	// so the steps that continue it after the load stopped (metric lag)
	// belong to the cycle. downIdle: the last run of scale-downs began idle.
	upUnderLoad, downIdle := false, true
	for i, e := range v.deploy {
		if i == 0 {
			continue
		}
		from, to := v.deploy[i-1].Deployment.Spec, e.Deployment.Spec
		if from == to {
			continue
		}
		d, busy := 1, loaded(e.At)
		if to < from {
			d = -1
		}
		switch {
		case dir == 1 && d == -1 && !(upUnderLoad && !busy): // down under load, or after an idle scale-up
			n++
		case dir == -1 && d == 1 && !(downIdle && busy): // back up, not a new cycle
			n++
		}
		if d != dir {
			if d == 1 {
				upUnderLoad = busy
			} else {
				downIdle = !busy
			}
		}
		dir = d
	}
	return n
}

func secs(d time.Duration) *float64 { return results.F64(round(d.Seconds())) }

func intPtr(i int) *int { return &i }

// round keeps millisecond precision, so reports are stable and readable.
func round(x float64) float64 { return math.Round(x*1000) / 1000 }

// Knobs are the scenario's configured settings and budgets, printed next to
// what was observed.
func Knobs(s *scenario.Scenario) map[string]string {
	a := s.Spec.Autoscaler
	k := map[string]string{
		"minReplicas": fmt.Sprint(*a.MinReplicas),
		"maxReplicas": fmt.Sprint(a.MaxReplicas),
	}
	if a.CPUUtilization != nil {
		k["cpuUtilizationPercent"] = fmt.Sprint(*a.CPUUtilization)
	}
	for name, p := range map[string]*int32{"pollingIntervalSeconds": a.PollingInterval, "cooldownPeriodSeconds": a.CooldownPeriod, "queueLength": a.QueueLength, "activationQueueLength": a.ActivationQueueLength, "scaledownPeriodSeconds": a.ScaledownPeriod} {
		if p != nil {
			k[name] = fmt.Sprint(*p)
		}
	}
	if a.API != "" {
		k["httpAddOnAPI"] = a.API
	}
	if b := a.Behavior; b != nil {
		if b.ScaleDown != nil && b.ScaleDown.StabilizationWindowSeconds != nil {
			k["scaleDownStabilizationSeconds"] = fmt.Sprint(*b.ScaleDown.StabilizationWindowSeconds)
		}
		if b.ScaleUp != nil && b.ScaleUp.StabilizationWindowSeconds != nil {
			k["scaleUpStabilizationSeconds"] = fmt.Sprint(*b.ScaleUp.StabilizationWindowSeconds)
		}
	}
	if d := s.Spec.Load.Delay.Duration; d > 0 {
		k["loadDelay"] = d.String()
	}
	if h := s.Spec.Load.HTTP; h != nil {
		k["loadMode"] = h.Mode
		k["loadGenerator"] = h.Generator
		if h.Mode != scenario.LoadOpenLoop {
			k["loadConnections"] = fmt.Sprint(h.Connections)
		}
		k["loadDuration"] = h.TotalDuration().String()
		k["loadTimeout"] = h.Timeout.String()
		switch {
		case len(h.Profile) > 0:
			k["loadProfile"] = scenario.DescribeProfile(h.Profile) + " (requests arriving)"
		case len(h.Steps) > 0:
			k["loadSteps"] = loadSteps(h)
		case h.Rate > 0 && h.Mode == scenario.LoadOpenLoop:
			k["loadRate"] = strconv.FormatFloat(h.Rate, 'f', -1, 64) + " requests/s arriving"
		case h.Rate > 0:
			k["loadRate"] = strconv.FormatFloat(h.Rate, 'f', -1, 64) + " requests/s at most"
		}
		if h.Mode == scenario.LoadOpenLoop {
			if h.MaxInFlight > 0 {
				k["loadMaxInFlight"] = fmt.Sprint(h.MaxInFlight)
			} else {
				k["loadMaxInFlight"] = "rate × timeout + 1"
			}
		}
		if h.ColdStarts > 0 {
			k["coldStarts"] = fmt.Sprint(h.ColdStarts)
		}
	}
	if q := s.Spec.Load.SQS; q != nil {
		k["batchSize"] = fmt.Sprint(q.BatchSize)
		switch {
		case len(q.Profile) > 0:
			k["messageProfile"] = scenario.DescribeProfile(q.Profile) + " (messages arriving)"
		case q.Rate > 0:
			k["messages"] = fmt.Sprint(q.Messages)
			k["sendRate"] = strconv.FormatFloat(q.Rate, 'f', -1, 64) + " batches/s"
		default:
			k["messages"] = fmt.Sprint(q.Messages)
			k["sendRate"] = "as fast as the endpoint answers"
		}
		k["invalidShare"] = strconv.FormatFloat(q.InvalidShare, 'f', -1, 64)
	}
	emulationKnobs(k, s.Spec.Workload.Emulation)
	e := s.Spec.Expectations
	if e.ScaleUp != nil {
		k["budgetScaleUp"] = fmt.Sprintf("%d replicas within %s", e.ScaleUp.Replicas, e.ScaleUp.Within)
	}
	if e.ScaleDown != nil {
		k["budgetScaleDown"] = fmt.Sprintf("%d replicas within %s", *e.ScaleDown.Replicas, e.ScaleDown.Within)
	}
	if e.Activation != nil {
		k["budgetActivation"] = e.Activation.Within.String()
	}
	if e.ColdStart != nil {
		k["budgetColdStart"] = e.ColdStart.Max.String()
	}
	if e.MaxErrorRate != nil {
		k["maxErrorRate"] = strconv.FormatFloat(*e.MaxErrorRate, 'f', -1, 64)
	}
	if e.MaxMessagesLost != nil {
		k["maxMessagesLost"] = fmt.Sprint(*e.MaxMessagesLost)
	}
	if e.MaxReplicas != nil {
		k["budgetMaxReplicas"] = fmt.Sprint(*e.MaxReplicas)
	}
	if e.ScaleUp != nil && e.ScaleUp.AtMost > 0 {
		k["budgetPeakAtMost"] = fmt.Sprint(e.ScaleUp.AtMost)
	}
	if n := s.AppCount(); n > 1 {
		// The load knobs above are the scenario's; each app's own (its
		// share, when split) are in its result.
		k["apps"] = fmt.Sprint(n)
		k["appsLoad"] = s.Spec.Apps.Load
	}
	return k
}

// loadSteps states a stepped load: "30s×4, 30s×8" (connections, closed
// loop) or "30s@5/s" (arrival rate, open loop).
func loadSteps(h *scenario.HTTPLoad) string {
	parts := make([]string, len(h.Steps))
	for i, st := range h.Steps {
		switch {
		case h.Mode == scenario.LoadOpenLoop:
			parts[i] = fmt.Sprintf("%s@%s/s", st.Duration, strconv.FormatFloat(st.Rate, 'f', -1, 64))
		default:
			c := st.Connections
			if c == 0 {
				c = h.Connections
			}
			parts[i] = fmt.Sprintf("%s×%d connections", st.Duration, c)
			if st.Rate > 0 {
				parts[i] += fmt.Sprintf(" ≤%s/s", strconv.FormatFloat(st.Rate, 'f', -1, 64))
			}
		}
	}
	return strings.Join(parts, ", ")
}

// emulationKnobs state the workload's emulation parameters (used on the
// emulated cluster only); one a scenario leaves unset is the cluster's
// default, named with where environment.knobs states it.
func emulationKnobs(k map[string]string, e scenario.Emulation) {
	if e.Model == "" {
		return
	}
	k["emulation.model"] = e.Model
	switch {
	case e.CPUPerRequest.Duration > 0:
		k["emulation.cpuPerRequest"] = e.CPUPerRequest.String()
	case e.Model == scenario.ModelCPULoadGen:
		k["emulation.cpuPerRequest"] = "cluster default (environment.knobs dataplane.cpuLoadGen.cpuPerRequest)"
	case e.Model == scenario.ModelHello:
		k["emulation.cpuPerRequest"] = "cluster default (environment.knobs dataplane.hello.cpuPerRequest)"
	}
	if e.StartupLatency.Duration > 0 {
		k["emulation.startupLatency"] = e.StartupLatency.String()
	} else {
		k["emulation.startupLatency"] = "cluster default (environment.knobs kwok.podReadyDelayDefault)"
	}
	if e.Latency.Duration > 0 {
		k["emulation.latency"] = e.Latency.String()
	} else if e.Model == scenario.ModelHello {
		k["emulation.latency"] = "0s"
	}
}

// perTrialStatistics label the aggregate series whose samples are one
// statistic per trial: a series of p99s is not a pooled p99, and its mean
// is a mean of p99s.
var perTrialStatistics = map[string]string{
	"p99LatencySeconds":        "one p99 of all requests per trial: mean and p50 are of the trials' p99s, not a pooled p99",
	"successP99LatencySeconds": "one p99 of successful requests per trial: mean and p50 are of the trials' p99s, not a pooled p99",
}

// secondsMetrics are a run's metrics in seconds measured once per run, by
// JSON key (nil: absent), the ones summarised over trials and over apps.
func secondsMetrics(m results.Metrics) map[string]*float64 {
	return map[string]*float64{
		"decisionSeconds": m.DecisionSeconds, "firstScaleUpSeconds": m.FirstScaleUpSeconds, "firstReadySeconds": m.FirstReadySeconds,
		"timeToPeakSeconds": m.TimeToPeakSeconds, "scaleDownSeconds": m.ScaleDownSeconds, "coldStartSeconds": m.ColdStartSeconds,
		"replicaSeconds": m.ReplicaSeconds, "p99LatencySeconds": m.P99LatencySeconds, "successP99LatencySeconds": m.SuccessP99LatencySeconds,
	}
}

// Aggregate summarises the trials of one scenario. Durations measured once
// per trial are pooled as samples; cold starts pool every sample of every
// trial; per-trial percentiles are labelled as such.
func Aggregate(name string, trials []results.Scenario) results.Aggregate {
	a := results.Aggregate{Scenario: name, Trials: len(trials), Metrics: map[string]*results.Series{}}
	vals := map[string][]float64{}
	for _, t := range trials {
		if t.Passed {
			a.Passed++
		}
		m := t.Metrics
		for name, p := range secondsMetrics(m) {
			if p != nil {
				vals[name] = append(vals[name], *p)
			}
		}
		// Every cold start of every trial is a sample, not just each trial's first.
		if cs := m.ColdStartSeries; cs != nil {
			v := vals["coldStartSeconds"]
			if m.ColdStartSeconds != nil && len(v) > 0 {
				v = v[:len(v)-1] // the first sample is in the series too
			}
			vals["coldStartSeconds"] = append(v, cs.Samples...)
		}
	}
	for name, v := range vals {
		a.Metrics[name] = Summarize(v)
		a.Metrics[name].Statistic = perTrialStatistics[name]
	}
	return a
}
