package reports

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// Fixture reports are built from synthetic but realistic timelines: a small
// simulator places every event at a fixed offset (whole milliseconds), and
// wall times derive from a fixed run start, so every rendering is
// deterministic and report.json round-trips exactly.

// runStart is the fixed wall-clock start of every fixture run.
var runStart = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)

// fixtures are the golden-file cases, by directory name under testdata.
func fixtures() map[string]results.Report {
	return map[string]results.Report{
		"hpa":    hpaReport(),
		"sqs":    sqsReport(),
		"failed": failedReport(),
	}
}

// sec converts seconds to a Duration rounded to the millisecond.
func sec(s float64) time.Duration { return time.Duration(math.Round(s*1000)) * time.Millisecond }

// sim accumulates the events of one scenario trial.
type sim struct {
	wall0 time.Time // wall time of offset 0
	evs   []timeline.Event
}

func (s *sim) add(t float64, obj string, e timeline.Event) {
	e.At = sec(t)
	e.Wall = s.wall0.Add(e.At)
	e.Object = obj
	s.evs = append(s.evs, e)
}

func (s *sim) marker(t float64, name, detail string) {
	s.add(t, "", timeline.Event{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: name, Detail: detail}})
}

func (s *sim) hpa(t float64, obj string, current, desired int32, metric string) {
	s.add(t, obj, timeline.Event{Kind: timeline.KindAutoscaler, Autoscaler: &timeline.AutoscalerStatus{Current: current, Desired: desired, Metric: metric}})
}

func (s *sim) kubeEvent(t float64, obj, typ, reason, msg, source string) {
	s.add(t, obj, timeline.Event{Kind: timeline.KindKubeEvent, KubeEvent: &timeline.KubeEvent{Type: typ, Reason: reason, Message: msg, Source: source}})
}

func (s *sim) condition(t float64, obj, typ, status, reason, msg string) {
	s.add(t, obj, timeline.Event{Kind: timeline.KindCondition, Condition: &timeline.Condition{Type: typ, Status: status, Reason: reason, Message: msg}})
}

// events returns the timeline ordered by offset.
func (s *sim) events() []timeline.Event {
	out := slices.Clone(s.evs)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// pod is one pod's life; never is math.Inf(1).
type pod struct {
	name                    string
	created, ready, deleted float64
}

// deployment simulates a Deployment's pods and replica counts.
type deployment struct {
	ns, name string
	specs    []point // spec.replicas over time
	pods     []*pod
	next     int
}

func newDeployment(ns, name string, t float64, replicas int, readyAt float64) *deployment {
	d := &deployment{ns: ns, name: name}
	d.specs = append(d.specs, point{t, float64(replicas)})
	for range replicas {
		d.newPod(t, readyAt)
	}
	return d
}

func (d *deployment) object() string { return "Deployment/" + d.ns + "/" + d.name }

func (d *deployment) newPod(t, ready float64) {
	d.pods = append(d.pods, &pod{name: fmt.Sprintf("%s-7c9f5d-%05d", d.name, 31+d.next*7919%99991), created: t, ready: ready, deleted: math.Inf(1)})
	d.next++
}

// scale sets spec.replicas at t. New pods become ready readyAfter(k) seconds
// after t (k counts the new pods from 0; +Inf: never); removed pods, the
// newest first, are deleted 0.1 s after t.
func (d *deployment) scale(t float64, to int, readyAfter func(k int) float64) {
	alive := d.alive(t)
	d.specs = append(d.specs, point{t, float64(to)})
	for k := 0; len(alive)+k < to; k++ {
		d.newPod(t, t+readyAfter(k))
	}
	for i := len(alive) - 1; i >= to; i-- {
		alive[i].deleted = t + 0.1
	}
}

func (d *deployment) alive(t float64) []*pod {
	var out []*pod
	for _, p := range d.pods {
		if p.created <= t && p.deleted > t {
			out = append(out, p)
		}
	}
	return out
}

func (d *deployment) specAt(t float64) int {
	v := 0.0
	for _, s := range d.specs {
		if s.T <= t {
			v = s.V
		}
	}
	return int(v)
}

func (d *deployment) readyAt(t float64) int {
	n := 0
	for _, p := range d.pods {
		if p.ready <= t && p.deleted > t {
			n++
		}
	}
	return n
}

// emit writes the Deployment's replica events (at every spec change, pod
// ready and pod deletion) and its pods' transitions.
func (d *deployment) emit(s *sim) {
	times := map[float64]bool{}
	for _, sp := range d.specs {
		times[sp.T] = true
	}
	for _, p := range d.pods {
		pobj := "Pod/" + d.ns + "/" + p.name
		node := fmt.Sprintf("kwok-node-%d", len(p.name)%3+1)
		if p.created > d.specs[0].T {
			s.add(p.created+0.01, pobj, timeline.Event{Kind: timeline.KindPod, Pod: &timeline.Pod{Name: p.name, Transition: timeline.PodCreated}})
			s.add(p.created+0.06, pobj, timeline.Event{Kind: timeline.KindPod, Pod: &timeline.Pod{Name: p.name, Transition: timeline.PodScheduled, Node: node}})
		}
		if !math.IsInf(p.ready, 1) && p.ready > d.specs[0].T {
			s.add(p.ready, pobj, timeline.Event{Kind: timeline.KindPod, Pod: &timeline.Pod{Name: p.name, Transition: timeline.PodReady, Node: node}})
			times[p.ready] = true
		}
		if !math.IsInf(p.deleted, 1) {
			s.add(p.deleted, pobj, timeline.Event{Kind: timeline.KindPod, Pod: &timeline.Pod{Name: p.name, Transition: timeline.PodDeleted, Node: node}})
			times[p.deleted] = true
		}
	}
	for _, t := range slices.Sorted(func(yield func(float64) bool) {
		for t := range times {
			if !yield(t) {
				return
			}
		}
	}) {
		current := int32(len(d.alive(t + 0.001)))
		ready := int32(d.readyAt(t))
		s.add(t, d.object(), timeline.Event{Kind: timeline.KindDeployment, Deployment: &timeline.Replicas{
			Spec: int32(d.specAt(t)), Current: current, Updated: current, Ready: ready, Available: ready,
		}})
	}
}

// steps are the spec.replicas changes.
func (d *deployment) steps() []results.Step {
	var out []results.Step
	for i := 1; i < len(d.specs); i++ {
		if d.specs[i].V != d.specs[i-1].V {
			out = append(out, results.Step{AtSeconds: d.specs[i].T, From: int32(d.specs[i-1].V), To: int32(d.specs[i].V)})
		}
	}
	return out
}

// replicaSeconds integrates spec.replicas from the first spec to end.
func (d *deployment) replicaSeconds(end float64) float64 {
	total := 0.0
	for i, sp := range d.specs {
		until := end
		if i+1 < len(d.specs) {
			until = d.specs[i+1].T
		}
		total += sp.V * (until - sp.T)
	}
	return math.Round(total*10) / 10
}

// loadTotals are what load samples add up to.
type loadTotals struct {
	requests, errors int64
	p99s             []float64
	p50s             []float64
}

// load records one sample per second from start to stop: offered req/s
// against a capacity of perReplica req/s per ready replica. Overload queues
// requests (latency grows) and, beyond four times capacity, times some out.
func (s *sim) load(d *deployment, start, stop float64, offered, perReplica int) loadTotals {
	var tot loadTotals
	for i := 1; start+float64(i) <= stop; i++ {
		t := start + float64(i)
		capacity := perReplica * max(d.readyAt(t), 0)
		served := min(offered, capacity)
		ratio := math.Inf(1)
		if capacity > 0 {
			ratio = float64(offered) / float64(capacity)
		}
		p99 := 0.021 + 0.0013*float64(i%5)
		if ratio > 1 {
			p99 = min(0.021+0.31*(ratio-1), 2.5)
		}
		p99 = math.Round(p99*10000) / 10000
		ls := &timeline.LoadSample{
			Second:            i,
			Requests:          served, // failed requests are added below
			P50LatencySeconds: math.Round(p99/2.7*10000) / 10000,
			P90LatencySeconds: math.Round(p99/1.4*10000) / 10000,
			P99LatencySeconds: p99,
			MaxLatencySeconds: math.Round(p99*1.3*10000) / 10000,
		}
		if ratio > 4 {
			ls.Errors = (offered - served) / 40
			ls.ErrorsByKind = map[string]int{"timeout": ls.Errors}
			ls.Requests += ls.Errors
		}
		s.add(t+0.004, "", timeline.Event{Kind: timeline.KindLoad, Load: ls})
		tot.requests += int64(ls.Requests)
		tot.errors += int64(ls.Errors)
		tot.p99s = append(tot.p99s, p99)
		tot.p50s = append(tot.p50s, ls.P50LatencySeconds)
	}
	return tot
}

// pct is the q-quantile of vs (nearest rank).
func pct(vs []float64, q float64) float64 {
	s := slices.Sorted(slices.Values(vs))
	return s[int(math.Ceil(q*float64(len(s))))-1]
}

func r3(v float64) float64 { return math.Round(v*1000) / 1000 }

func emulatedEnv() results.Environment {
	return results.Environment{
		Provider:          "emulated",
		KubernetesVersion: "v1.34.1",
		Components: map[string]string{
			"kube-apiserver":          "v1.34.1",
			"kube-controller-manager": "v1.34.1",
			"kube-scheduler":          "v1.34.1",
			"kwok":                    "v0.7.0",
			"keda":                    "2.18.0",
			"metrics-server":          "emulated",
		},
		Emulated: []string{"kubelet (KWOK nodes)", "spin apps (emulated data plane)", "SQS (in-process emulator)"},
		Knobs: map[string]string{
			"horizontal-pod-autoscaler-sync-period":             "15s",
			"horizontal-pod-autoscaler-initial-readiness-delay": "30s",
			"metric-resolution":                                 "15s",
		},
		Host: results.Host{OS: "linux", Arch: "amd64", CPUs: 8, GoVersion: "go1.25.0", Hostname: "ci-runner-3"},
	}
}

// hpaTrial is an HPA CPU scale-up 1→4→8→10 with decisions fifteen seconds
// apart, load for 180 s, then scale-down back to 1 after a 60 s window.
// shift delays every autoscaler decision (trial-to-trial variation).
func hpaTrial(trial int, shift float64, wall0 time.Time) results.Scenario {
	s := &sim{wall0: wall0}
	const (
		hpaObj    = "HorizontalPodAutoscaler/default/cpu-app"
		loadStart = 5.0
		loadStop  = 185.2
		end       = 262.0
	)
	d := newDeployment("default", "cpu-app", 0, 1, 0)
	s.hpa(0, hpaObj, 1, 1, "6%")
	s.marker(loadStart, timeline.MarkerLoadStart, "constant 240 req/s for 180 s, 32 connections")
	readyAfter := func(k int) float64 { return 5.6 + 0.35*float64(k) + 0.2*shift }
	for _, st := range []struct {
		at               float64
		current, desired int32
		metric           string
	}{
		{20, 1, 4, "398%"},
		{35, 4, 8, "187%"},
		{50, 8, 10, "96%"},
	} {
		at := st.at + shift
		s.hpa(at, hpaObj, st.current, st.desired, st.metric)
		d.scale(at+0.4, int(st.desired), readyAfter)
	}
	for _, st := range []struct {
		at     float64
		metric string
	}{{65, "61%"}, {80, "48%"}, {95, "47%"}, {110, "49%"}, {125, "48%"}, {140, "47%"}, {155, "48%"}, {170, "49%"}, {185, "41%"}, {200, "1%"}, {215, "1%"}, {230, "1%"}} {
		s.hpa(st.at+shift, hpaObj, 10, 10, st.metric)
	}
	s.marker(loadStop, timeline.MarkerLoadStop, "")
	down := 245 + shift
	s.hpa(down, hpaObj, 10, 1, "1%")
	d.scale(down+0.4, 1, nil)
	s.hpa(end, hpaObj, 1, 1, "2%")
	tot := s.load(d, loadStart, loadStop, 240, 30)
	d.emit(s)

	steps := d.steps()
	firstReady := d.pods[1].ready
	peakReady := d.pods[len(d.pods)-1].ready
	decision := r3(20 + shift - loadStart)
	scaleDown := r3(down + 0.4 - loadStop)
	toPeak := r3(peakReady - loadStart)
	errRate := float64(tot.errors) / float64(tot.requests) * 100
	p99 := pct(tot.p99s, 0.99)
	return results.Scenario{
		Name:        "hpa-cpu",
		Autoscaler:  "hpa",
		Trial:       trial,
		Description: "HPA v2 on CPU utilization; fast variant with the scale-down stabilization window shortened to 60 s.",
		Passed:      true,
		Metrics: results.Metrics{
			DecisionSeconds:      results.F64(decision),
			FirstScaleUpSeconds:  results.F64(r3(steps[0].AtSeconds - loadStart)),
			FirstReadySeconds:    results.F64(r3(firstReady - loadStart)),
			TimeToPeakSeconds:    results.F64(toPeak),
			PeakReplicas:         results.I32(10),
			ScaleDownSeconds:     results.F64(scaleDown),
			ReplicaSeconds:       results.F64(d.replicaSeconds(end)),
			Requests:             results.I64(tot.requests),
			Errors:               results.I64(tot.errors),
			P50LatencySeconds:    results.F64(pct(tot.p50s, 0.5)),
			P99LatencySeconds:    results.F64(p99),
			Flaps:                new(int),
			LoadMode:             "closed-loop",
			SuccessfulRequests:   results.I64(tot.requests - tot.errors),
			ErrorRate:            results.F64(r3(float64(tot.errors) / float64(tot.requests))),
			GoodputPerSecond:     results.F64(r3(float64(tot.requests-tot.errors) / 180)),
			ReplicaSecondsWindow: &results.Window{FromSeconds: loadStart, ToSeconds: r3(end), From: "load start", To: "end of observation"},
			Goodput: &results.GoodputPhases{
				BeforeScaleUp: &results.Phase{FromSeconds: loadStart, ToSeconds: steps[0].AtSeconds, Requests: 2400, SuccessfulRequests: 2300, GoodputPerSecond: 230},
				AtPeak:        &results.Phase{FromSeconds: r3(loadStart + toPeak), ToSeconds: loadStart + 180, Requests: 9000, SuccessfulRequests: 9000, GoodputPerSecond: 240},
			},
			Absent: map[string]string{"successP99LatencySeconds": "the load generator did not measure it"},
		},
		Steps: steps,
		Checks: []results.Check{
			{Name: "reaches 10 ready replicas within 90 s of load start", Passed: true,
				Detail: fmt.Sprintf("10 ready replicas %.1f s after load start (budget 90 s)", toPeak)},
			{Name: "error rate at most 5 %", Passed: true,
				Detail: fmt.Sprintf("%d errors (timeouts) in %d requests: %.2f %%, all while 1 replica served 240 req/s", tot.errors, tot.requests, errRate)},
			{Name: "scales back to 1 replica within 120 s of load stop", Passed: true,
				Detail: fmt.Sprintf("spec.replicas 1 after %.1f s (stabilization window 60 s + sync period 15 s)", scaleDown)},
			{Name: "no flapping", Passed: true, Detail: "spec.replicas changed direction 0 times"},
			{Name: "peak within atMost", Skipped: true, Detail: "expected peak ready replicas ≤ 10; not tested: the autoscaler's own maxReplicas (10) bounds the peak, so this could not fail (observed 10)"},
		},
		Knobs: map[string]string{
			"hpa.minReplicas": "1",
			"hpa.maxReplicas": "10",
			"hpa.metric":      "cpu utilization 50%",
			"hpa.behavior.scaleDown.stabilizationWindow": "60s",
			"load.rate":              "240 req/s",
			"load.duration":          "180s",
			"app.capacityPerReplica": "30 req/s",
		},
		Budget:              hpaBudget(),
		DerivedExpectations: []string{"scaleDown: back at 1 replicas within 1m11s of the load end (derived: back-to-min budget 58.8 s, dominated by hpa.syncPeriod, + margin)"},
		Timeline:            s.events(),
	}
}

// hpaBudget is the budget of the built-in hpa-cpu-fast scenario.
func hpaBudget() *budget.Budget {
	s, err := scenario.Resolve("hpa-cpu-fast")
	if err != nil {
		panic(err)
	}
	b, err := budget.For(*s)
	if err != nil {
		panic(err)
	}
	return &b
}

func hpaReport() results.Report {
	t1 := hpaTrial(1, 0, runStart.Add(12*time.Second))
	t2 := hpaTrial(2, 1.3, runStart.Add(290*time.Second))
	return results.Report{
		SchemaVersion: results.SchemaVersion,
		RunID:         "sb-20250314-092653-hpa",
		StartedAt:     runStart,
		FinishedAt:    runStart.Add(561500 * time.Millisecond),
		Environment:   emulatedEnv(),
		Scenarios:     []results.Scenario{t1, t2},
	}
}

// sqsReport is a KEDA SQS run: 2400 messages arrive, KEDA activates 0→1, the
// HPA takes it 1→8, the queue drains, and KEDA deactivates 8→0 after its
// cooldown.
func sqsReport() results.Report {
	s := &sim{wall0: runStart.Add(9 * time.Second)}
	const (
		dep       = "sqs-worker"
		soObj     = "ScaledObject/default/sqs-worker"
		hpaObj    = "HorizontalPodAutoscaler/default/keda-hpa-sqs-worker"
		sendStart = 4.0
		sendRate  = 600.0 // messages/s for 4 s
		total     = 2400
		perPod    = 20.0 // messages/s per ready replica
		batch     = 10   // in flight per replica
		end       = 80.0
	)
	d := newDeployment("default", dep, 0, 0, 0)
	s.condition(0, soObj, "Ready", "True", "ScaledObjectReady", "ScaledObject is defined correctly and is ready for scaling")
	s.condition(0, soObj, "Active", "False", "ScalerNotActive", "Scaling is not performed because triggers are not active")
	s.hpa(0.5, hpaObj, 0, 0, "0")
	s.marker(sendStart, timeline.MarkerLoadStart, "send 2400 messages at 600/s")

	const activate = 5.2
	s.kubeEvent(activate, soObj, "Normal", reasonKEDAActivated,
		"Scaled apps/v1.Deployment default/sqs-worker from 0 to 1, triggered by awsSqsQueueScaler", "keda-operator")
	s.condition(activate, soObj, "Active", "True", "ScalerActive", "Scaling is performed because triggers are active")
	d.scale(activate+0.1, 1, func(int) float64 { return 3.2 })
	s.hpa(activate+0.4, hpaObj, 1, 1, "2400")
	const up = 20.3
	s.hpa(up, hpaObj, 1, 8, "2133")
	d.scale(up+0.3, 8, func(k int) float64 { return 3.1 + 0.2*float64(k) })

	// Drain the queue in 0.1 s steps and sample it every 2 s.
	var sent, done float64
	drained := -1.0
	var lastActive float64
	for i := 0; i <= int(end*10); i++ {
		t := float64(i) / 10
		if t > sendStart && sent < total {
			sent = min(total, sent+sendRate/10)
		}
		done = min(sent, done+perPod/10*float64(d.readyAt(t)))
		depth := sent - done
		if i%20 == 0 {
			inFlight := min(depth, float64(batch*d.readyAt(t)))
			s.add(t+0.02, "SQSQueue/sqs-emulator/jobs", timeline.Event{Kind: timeline.KindQueue, Queue: &timeline.QueueSample{
				Visible: int64(depth - inFlight), InFlight: int64(inFlight), Processed: int64(done),
			}})
			if depth == 0 && sent == total && drained < 0 {
				drained = t + 0.02
				s.marker(drained+0.001, timeline.MarkerQueueDrained, "2400 of 2400 messages processed")
			}
		}
		if i%50 == 0 && depth > 0 { // KEDA polls every 5 s
			lastActive = t
		}
	}
	deactivate := lastActive + 30 + 0.2
	s.hpa(drained+10, hpaObj, 8, 8, "0")
	s.kubeEvent(deactivate, soObj, "Normal", reasonKEDADeactivated,
		"Deactivated apps/v1.Deployment default/sqs-worker from 8 to 0", "keda-operator")
	s.condition(deactivate, soObj, "Active", "False", "ScalerNotActive", "Scaling is not performed because triggers are not active")
	d.scale(deactivate+0.1, 0, nil)
	s.hpa(deactivate+9.7, hpaObj, 0, 0, "0") // HPA scaling disabled at 0 replicas
	d.emit(s)

	steps := d.steps()
	peakReady := d.pods[len(d.pods)-1].ready
	sc := results.Scenario{
		Name:        "keda-sqs-drain",
		Autoscaler:  "keda-sqs",
		Description: "KEDA aws-sqs-queue scaler against the in-cluster SQS emulator (awsEndpoint); scale from and back to zero.",
		Passed:      true,
		Metrics: results.Metrics{
			DecisionSeconds:     results.F64(r3(activate - sendStart)),
			FirstScaleUpSeconds: results.F64(r3(steps[0].AtSeconds - sendStart)),
			FirstReadySeconds:   results.F64(r3(d.pods[0].ready - sendStart)),
			TimeToPeakSeconds:   results.F64(r3(peakReady - sendStart)),
			PeakReplicas:        results.I32(8),
			ScaleDownSeconds:    results.F64(r3(steps[len(steps)-1].AtSeconds - drained)),
			ReplicaSeconds:      results.F64(d.replicaSeconds(end)),
			MessagesSent:        results.I64(total),
			MessagesProcessed:   results.I64(total),
			MessagesInvalid:     results.I64(0),
			MessagesLost:        results.I64(0),
			Flaps:               new(int),
		},
		Steps: steps,
		Checks: []results.Check{
			{Name: "activates from zero within 15 s", Passed: true,
				Detail: fmt.Sprintf("KEDAScaleTargetActivated %.1f s after the first message (pollingInterval 5 s)", activate-sendStart)},
			{Name: "every message processed exactly once", Passed: true, Detail: "2400 sent, 2400 processed, 0 invalid, 0 lost"},
			{Name: "queue drained within 120 s", Passed: true, Detail: fmt.Sprintf("drained %.1f s after the first message", drained-sendStart)},
			{Name: "scales to zero within cooldownPeriod + 2 × pollingInterval of draining", Passed: true,
				Detail: fmt.Sprintf("0 replicas %.1f s after the queue drained (budget 40 s)", steps[len(steps)-1].AtSeconds-drained)},
		},
		Knobs: map[string]string{
			"keda.pollingInterval":  "5s",
			"keda.cooldownPeriod":   "30s",
			"keda.minReplicaCount":  "0",
			"keda.maxReplicaCount":  "8",
			"sqs.queueLength":       "50",
			"sqs.awsEndpoint":       "in-cluster emulator",
			"app.throughputPerPod":  "20 messages/s",
			"app.visibilityTimeout": "30s",
		},
		Timeline: s.events(),
	}
	return results.Report{
		SchemaVersion: results.SchemaVersion,
		RunID:         "sb-20250314-092653-sqs",
		StartedAt:     runStart,
		FinishedAt:    runStart.Add(94250 * time.Millisecond),
		Environment:   emulatedEnv(),
		Scenarios:     []results.Scenario{sc},
	}
}

// failedReport has a scenario the harness could not finish (the pod never
// became ready: an Error, partial timeline, failed checks) and one that ran
// to the end but failed a check (flapping).
func failedReport() results.Report {
	// 1. HTTP add-on cold start that never gets a ready pod.
	s := &sim{wall0: runStart.Add(7 * time.Second)}
	const (
		hsoObj = "HTTPScaledObject/default/http-app"
		sent   = 2.0
	)
	d := newDeployment("default", "http-app", 0, 0, 0)
	s.condition(0, hsoObj, "Ready", "True", "HTTPScaledObjectIsReady", "Identified HTTPScaledObject creation signal")
	s.marker(sent, timeline.MarkerLoadStart, "cold-start probe GET / (Host: http-app.example)")
	s.kubeEvent(2.6, "ScaledObject/default/http-app", "Normal", reasonKEDAActivated,
		"Scaled apps/v1.Deployment default/http-app from 0 to 1, triggered by external-push", "keda-operator")
	d.scale(2.7, 1, func(int) float64 { return math.Inf(1) })
	pod := d.pods[0].name
	s.kubeEvent(4.1, "Pod/default/"+pod, "Warning", "Failed",
		`Failed to pull image "ghcr.io/example/http-app:v0.3.1": not found`, "kubelet")
	s.kubeEvent(4.2, "Pod/default/"+pod, "Warning", "Failed", "Error: ImagePullBackOff <retrying>", "kubelet")
	s.add(32.0, "", timeline.Event{Kind: timeline.KindRequest, Request: &timeline.Request{
		Purpose: "cold-start", SentAtSeconds: sent, LatencySeconds: 30.0, Status: 504,
		Error: "interceptor: context deadline exceeded waiting for endpoints", Headers: map[string]string{"X-Keda-Http-Cold-Start": "true"},
	}})
	s.marker(32.0, timeline.MarkerLoadStop, "")
	d.emit(s)
	cold := results.Scenario{
		Name:        "keda-http-cold-start",
		Autoscaler:  "keda-http",
		Description: "First request to a scaled-to-zero app through the KEDA HTTP add-on interceptor.",
		Passed:      false,
		Metrics: results.Metrics{
			DecisionSeconds:     results.F64(0.6),
			FirstScaleUpSeconds: results.F64(0.7),
			Requests:            results.I64(1),
			Errors:              results.I64(1),
			ColdStart: &results.ColdStart{
				ActivatedSeconds: results.F64(0.6),
				ScaledSeconds:    results.F64(0.7),
				ResponseSeconds:  30.0,
				ColdStartHeader:  "true",
				Status:           504,
			},
		},
		Steps: d.steps(),
		Checks: []results.Check{
			{Name: "activates from zero within 5 s", Passed: true, Detail: "KEDAScaleTargetActivated 0.6 s after the request"},
			{Name: "cold start within 3 s", Passed: false,
				Detail: "no successful response: the probe got 504 after 30.0 s (budget 3 s)\npod " + pod + " never became ready (ImagePullBackOff)"},
			{Name: "first response is 200", Passed: false, Detail: `got 504 from the interceptor: "context deadline exceeded waiting for endpoints" <html> & "quotes" | pipes`},
		},
		Knobs: map[string]string{
			"httpso.scaledownPeriod":           "60s",
			"interceptor.conditionWaitTimeout": "30s",
			"budget.coldStart":                 "3s",
		},
		ErrorKind: results.ErrorTimeout,
		Error:     "wait for Deployment default/http-app to have 1 ready replica: context deadline exceeded after 60s\nlast observed: spec 1, updated 1, ready 0, available 0; pod " + pod + " Pending (ImagePullBackOff)",
		Timeline:  s.events(),
	}

	// 2. KEDA CPU burst that flaps.
	s = &sim{wall0: runStart.Add(80 * time.Second)}
	const hpaObj = "HorizontalPodAutoscaler/default/keda-hpa-burst-app"
	d = newDeployment("default", "burst-app", 0, 1, 0)
	s.hpa(0, hpaObj, 1, 1, "10%")
	s.marker(4, timeline.MarkerLoadStart, "bursts: 150 req/s, 10 s on / 10 s off")
	ready := func(k int) float64 { return 4.8 + 0.3*float64(k) }
	for _, st := range []struct {
		at        float64
		cur, want int32
		metric    string
	}{{19.6, 1, 3, "240%"}, {34.6, 3, 2, "31%"}, {49.6, 2, 4, "170%"}, {64.6, 4, 2, "25%"}} {
		s.hpa(st.at, hpaObj, st.cur, st.want, st.metric)
		d.scale(st.at+0.3, int(st.want), ready)
	}
	s.marker(54.2, timeline.MarkerLoadStop, "")
	tot := loadTotals{}
	for _, w := range [][2]float64{{4, 14}, {24, 34}, {44, 54}} {
		t := s.load(d, w[0], w[1], 150, 60)
		tot.requests += t.requests
		tot.errors += t.errors
		tot.p99s = append(tot.p99s, t.p99s...)
	}
	s.hpa(80, hpaObj, 2, 2, "4%")
	d.emit(s)
	flaps := 3
	burst := results.Scenario{
		Name:       "keda-cpu-burst",
		Autoscaler: "keda-cpu",
		Passed:     false,
		Metrics: results.Metrics{
			DecisionSeconds:     results.F64(15.6),
			FirstScaleUpSeconds: results.F64(15.9),
			FirstReadySeconds:   results.F64(20.7),
			TimeToPeakSeconds:   results.F64(r3(d.pods[len(d.pods)-1].ready - 4)),
			PeakReplicas:        results.I32(4),
			ReplicaSeconds:      results.F64(d.replicaSeconds(80)),
			Requests:            results.I64(tot.requests),
			Errors:              results.I64(tot.errors),
			P99LatencySeconds:   results.F64(pct(tot.p99s, 0.99)),
			Flaps:               &flaps,
		},
		Steps: d.steps(),
		Checks: []results.Check{
			{Name: "scales up within 30 s of the first burst", Passed: true, Detail: "spec.replicas 3 after 15.9 s"},
			{Name: "no flapping", Passed: false,
				Detail: "spec.replicas changed direction 3 times (1→3 at 19.9 s, 3→2 at 34.9 s, 2→4 at 49.9 s, 4→2 at 64.9 s); stabilization window 0s is too short for 10 s bursts"},
		},
		Knobs: map[string]string{
			"keda.pollingInterval":                       "5s",
			"hpa.behavior.scaleDown.stabilizationWindow": "0s",
			"cpu.target": "50%",
		},
		Timeline: s.events(),
	}

	return results.Report{
		SchemaVersion: results.SchemaVersion,
		RunID:         "sb-20250314-092653-failed",
		StartedAt:     runStart,
		FinishedAt:    runStart.Add(171 * time.Second),
		Environment: results.Environment{
			Provider:          "k3d",
			KubernetesVersion: "v1.33.4+k3s1",
			Components:        map[string]string{"keda": "2.18.0", "keda-http-add-on": "0.11.0", "spin-operator": "0.6.1"},
			Host:              results.Host{OS: "linux", Arch: "arm64", CPUs: 4, GoVersion: "go1.25.0"},
		},
		Scenarios: []results.Scenario{cold, burst},
	}
}
