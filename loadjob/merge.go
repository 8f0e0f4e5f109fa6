package loadjob

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/scalebench/scalebench/load"
)

// Merger folds the lines of every pod of a Job into one timeline: the same
// per-second buckets and summary one generator would have produced for all
// the pods' requests. Pods are aligned on the start barrier: a pod's second
// s counts in second s + round(started − barrier) of the merged timeline.
// It is pure (no clock, no cluster) and not safe for concurrent use.
type Merger struct {
	barrier time.Time
	acc     load.Accumulator
	pods    map[string]*podState
	end     time.Duration
}

// podState is what the merger knows of one pod.
type podState struct {
	next     int // the next Seq expected
	shift    int // seconds added to the pod's second numbers
	started  bool
	done     *Line
	streamed int64 // requests in second lines
	ok       int64 // successful requests in second lines
	dups     int
	gap      string // the first gap seen
	end      time.Duration
}

// NewMerger merges the pods of a Job whose start barrier is barrier.
func NewMerger(barrier time.Time) *Merger {
	return &Merger{barrier: barrier, pods: map[string]*podState{}}
}

// Expect declares a pod whose lines must arrive, so one that sends none is
// an error in Summary.
func (m *Merger) Expect(pod string) { m.pod(pod) }

func (m *Merger) pod(name string) *podState {
	p := m.pods[name]
	if p == nil {
		p = &podState{next: 1}
		m.pods[name] = p
	}
	return p
}

// Add folds one line of pod in. A line already seen (Seq below the next
// expected) is ignored; a line after a gap is not folded in, and the gap
// makes Summary fail. Add reports whether the line was the pod's done line.
func (m *Merger) Add(pod string, l Line) (done bool) {
	p := m.pod(pod)
	if l.Seq < p.next {
		p.dups++
		return false
	}
	if l.Seq > p.next {
		if p.gap == "" {
			p.gap = fmt.Sprintf("line %d arrived when line %d was due", l.Seq, p.next)
		}
		return false
	}
	if p.gap != "" {
		return false
	}
	p.next++
	switch l.Type {
	case LineStart:
		p.started = true
		p.shift = int(math.Round(l.Started.Sub(m.barrier).Seconds()))
	case LineSecond:
		if !p.started {
			p.gap = "a second line before the start line"
			return false
		}
		m.addSecond(p, &l)
	case LineDone:
		if !p.started {
			p.gap = "the done line before the start line"
			return false
		}
		if l.Totals == nil {
			l.Totals = &Totals{}
		}
		for _, ms := range l.Totals.MissedBySecond {
			m.acc.AddMissed(time.Duration(ms[0]+p.shift)*time.Second, ms[1])
		}
		p.done = &l
		return true
	default:
		p.gap = fmt.Sprintf("line %d has unknown type %q", l.Seq, l.Type)
	}
	return false
}

func (m *Merger) addSecond(p *podState, l *Line) {
	at := time.Duration(l.Second+p.shift) * time.Second
	bytes := l.Bytes
	add := func(us int64, kind load.ErrorKind) {
		m.acc.Add(load.Result{Start: at, Latency: fromMicros(us), Err: kind, Bytes: bytes})
		bytes = 0
	}
	for _, us := range l.OK {
		add(us, load.KindNone)
	}
	// The kinds in a fixed order, so the merge does not depend on map order.
	for _, k := range load.ErrorKinds {
		for _, us := range l.Failed[k] {
			add(us, k)
		}
	}
	for k, lat := range l.Failed {
		if !isKnownKind(k) {
			for _, us := range lat {
				add(us, load.KindOther)
			}
		}
	}
	p.streamed += int64(l.requests())
	p.ok += int64(len(l.OK))
	if e := time.Duration(p.shift)*time.Second + fromMicros(l.EndMicros); e > p.end {
		p.end = e
	}
}

func isKnownKind(k load.ErrorKind) bool {
	for _, e := range load.ErrorKinds {
		if e == k {
			return true
		}
	}
	return false
}

// PodTotals are one pod's figures as its done line gave them.
type PodTotals struct {
	Pod string
	Totals
	// ShiftSeconds is how many seconds after the barrier the pod started.
	ShiftSeconds int
	// Duplicates counts lines received more than once.
	Duplicates int
}

// Pods lists the pods that sent their done line, by name.
func (m *Merger) Pods() []PodTotals {
	var out []PodTotals
	for name, p := range m.pods {
		if p.done != nil {
			out = append(out, PodTotals{Pod: name, Totals: *p.done.Totals, ShiftSeconds: p.shift, Duplicates: p.dups})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pod < out[j].Pod })
	return out
}

// Missing lists the pods whose done line has not arrived.
func (m *Merger) Missing() []string {
	var out []string
	for name, p := range m.pods {
		if p.done == nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// Summary is the merged timeline: every pod's requests in per-second
// buckets (Seconds), Started at the barrier, and Missed, Dropped and the
// in-flight figures summed over the pods (PeakInFlight is the sum of each
// pod's peak, an upper bound of the Job's). Requests, Successes and
// Errors are the pods' own totals, so results a pod dropped (its callback
// fell behind) count there and in Dropped but are in no second, as the
// analysis reads Dropped. The error names every pod
// whose lines were incomplete or inconsistent, and every pod that stopped
// its load early; the summary holds what did arrive.
func (m *Merger) Summary() (load.Summary, error) {
	sum := m.acc.Summary()
	sum.Started = m.barrier
	sum.Seconds = m.acc.Seconds()
	var errs []error
	names := make([]string, 0, len(m.pods))
	for name := range m.pods {
		names = append(names, name)
	}
	sort.Strings(names)
	var end time.Duration
	for _, name := range names {
		p := m.pods[name]
		end = max(end, p.end)
		switch {
		case p.gap != "":
			errs = append(errs, fmt.Errorf("pod %s: its log lost lines: %s", name, p.gap))
			continue
		case p.done == nil:
			errs = append(errs, fmt.Errorf("pod %s: no done line (its load did not finish, or its log ended early)", name))
			continue
		}
		t := p.done.Totals
		sum.Dropped += t.Dropped
		if t.Dropped > 0 {
			sum.Requests += t.Dropped
			sum.Successes += t.Successes - p.ok
			sum.Errors += t.Errors - (p.streamed - p.ok)
		}
		sum.MaxInFlight += t.MaxInFlight
		sum.PeakInFlight += t.PeakInFlight
		if p.streamed+t.Dropped != t.Requests {
			errs = append(errs, fmt.Errorf("pod %s: %d requests streamed and %d dropped, but its totals say %d", name, p.streamed, t.Dropped, t.Requests))
		}
		if p.done.Error != "" {
			errs = append(errs, fmt.Errorf("pod %s: load stopped: %s", name, p.done.Error))
		}
	}
	if len(names) == 0 {
		errs = append(errs, errors.New("no pod sent a line"))
	}
	sum.Duration = end
	if end > 0 {
		sum.RPS = float64(sum.Requests) / end.Seconds()
	}
	return sum, errors.Join(errs...)
}
