package loadjob

import (
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/load"
)

var barrier = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)

// pod builds one pod's lines with consecutive sequence numbers.
type pod struct {
	lines []Line
	reqs  int64
	oks   int64
}

func newPod(startOffset time.Duration) *pod {
	return &pod{lines: []Line{{Seq: 1, Type: LineStart, Started: barrier.Add(startOffset)}}}
}

func (p *pod) second(s int, ok []int64, timeouts []int64) *pod {
	l := Line{Seq: len(p.lines) + 1, Type: LineSecond, Second: s, OK: ok, Bytes: int64(len(ok)) * 10}
	if len(timeouts) > 0 {
		l.Failed = map[load.ErrorKind][]int64{load.KindTimeout: timeouts}
	}
	for _, us := range append(append([]int64{}, ok...), timeouts...) {
		l.EndMicros = max(l.EndMicros, int64(s)*1e6+us)
	}
	p.lines = append(p.lines, l)
	p.reqs += int64(len(ok) + len(timeouts))
	p.oks += int64(len(ok))
	return p
}

func (p *pod) done(missed ...[2]int) *pod {
	t := &Totals{Requests: p.reqs, Successes: p.oks, Errors: p.reqs - p.oks, MissedBySecond: missed}
	for _, m := range missed {
		t.Missed += int64(m[1])
	}
	p.lines = append(p.lines, Line{Seq: len(p.lines) + 1, Type: LineDone, Totals: t})
	return p
}

func TestMergeOutOfStepPods(t *testing.T) {
	// a starts on the barrier; b 1.2 s late (its second 0 is the merged
	// second 1); their lines interleave in no particular order.
	a := newPod(3*time.Millisecond).second(0, []int64{1000, 2000}, nil).second(1, []int64{3000}, []int64{5e6}).second(2, []int64{4000}, nil).done([2]int{2, 1})
	b := newPod(1200*time.Millisecond).second(0, []int64{10000}, nil).second(1, []int64{20000, 30000}, nil).done()
	m := NewMerger(barrier)
	m.Expect("a")
	m.Expect("b")
	order := []struct {
		pod string
		i   int
	}{{"b", 0}, {"a", 0}, {"b", 1}, {"a", 1}, {"a", 2}, {"b", 2}, {"a", 3}, {"a", 4}, {"b", 3}}
	for _, o := range order {
		src := a
		if o.pod == "b" {
			src = b
		}
		m.Add(o.pod, src.lines[o.i])
	}
	sum, err := m.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != a.reqs+b.reqs || sum.Successes != a.oks+b.oks || sum.Errors != 1 {
		t.Errorf("requests %d successes %d errors %d, want %d %d 1", sum.Requests, sum.Successes, sum.Errors, a.reqs+b.reqs, a.oks+b.oks)
	}
	if sum.ErrorsByKind[load.KindTimeout] != 1 || sum.Missed != 1 {
		t.Errorf("errors by kind %v, missed %d; want 1 timeout, 1 missed", sum.ErrorsByKind, sum.Missed)
	}
	// Merged seconds: 0: a's 2; 1: a's 2 + b's 1; 2: a's 1 + b's 2 (+1 missed).
	want := []int{2, 3, 3}
	if len(sum.Seconds) != len(want) {
		t.Fatalf("%d seconds, want %d: %+v", len(sum.Seconds), len(want), sum.Seconds)
	}
	for i, w := range want {
		if sum.Seconds[i].Requests != w {
			t.Errorf("second %d: %d requests, want %d", i, sum.Seconds[i].Requests, w)
		}
	}
	if sum.Seconds[2].Missed != 1 {
		t.Errorf("second 2 missed %d, want 1", sum.Seconds[2].Missed)
	}
	if s := sum.Seconds[1]; s.Max != 5*time.Second || s.P50 != 10*time.Millisecond || s.SuccessP99 != 10*time.Millisecond {
		t.Errorf("second 1: max %s p50 %s success p99 %s; want 5s 10ms 10ms (percentiles over both pods' latencies)", s.Max, s.P50, s.SuccessP99)
	}
	// The run ends at a's timeout: second 1 + 5 s.
	if sum.Duration != 6*time.Second {
		t.Errorf("duration %s, want 6s", sum.Duration)
	}
	if got := m.Pods(); len(got) != 2 || got[1].ShiftSeconds != 1 || got[0].Requests != a.reqs {
		t.Errorf("pods %+v", got)
	}
}

func TestMergeDuplicatedLinesCountOnce(t *testing.T) {
	a := newPod(0).second(0, []int64{1000}, nil).second(1, []int64{2000}, nil).done()
	m := NewMerger(barrier)
	// A log stream read twice from the start after a reconnect.
	for _, l := range a.lines[:2] {
		m.Add("a", l)
	}
	for _, l := range a.lines {
		m.Add("a", l)
	}
	m.Add("a", a.lines[1])
	sum, err := m.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests != 2 {
		t.Errorf("requests %d, want 2", sum.Requests)
	}
	if p := m.Pods(); p[0].Duplicates != 3 {
		t.Errorf("duplicates %d, want 3", p[0].Duplicates)
	}
}

func TestMergeMissingSecondLeavesNoGap(t *testing.T) {
	// A pod with no request completed in its second 1 writes no line for
	// it: the merged timeline still has second 1 (empty), and that is no
	// error (the sequence has no gap).
	a := newPod(0).second(0, []int64{1000}, nil).second(2, []int64{2000}, nil).done()
	m := NewMerger(barrier)
	for _, l := range a.lines {
		m.Add("a", l)
	}
	sum, err := m.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Seconds) != 3 || sum.Seconds[1].Requests != 0 || sum.Seconds[1].Index != 1 {
		t.Errorf("seconds %+v, want 3 with an empty second 1", sum.Seconds)
	}
}

func TestMergeLostLineIsAnErrorNamingThePod(t *testing.T) {
	a := newPod(0).second(0, []int64{1000}, nil).second(1, []int64{2000}, nil).done()
	m := NewMerger(barrier)
	m.Add("a", a.lines[0])
	m.Add("a", a.lines[2]) // line 2 lost
	m.Add("a", a.lines[3])
	_, err := m.Summary()
	if err == nil || !strings.Contains(err.Error(), "pod a") || !strings.Contains(err.Error(), "lost lines") {
		t.Errorf("err = %v, want pod a's lost lines", err)
	}
}

func TestMergePodEndingEarly(t *testing.T) {
	// b stopped after its first second without a done line: its requests
	// are merged, the error names it; a's are all there.
	a := newPod(0).second(0, []int64{1000}, nil).second(1, []int64{1000}, nil).second(2, []int64{1000}, nil).done()
	b := newPod(0).second(0, []int64{1000, 2000}, nil)
	m := NewMerger(barrier)
	m.Expect("a")
	m.Expect("b")
	m.Expect("c") // never sent anything
	for _, l := range a.lines {
		m.Add("a", l)
	}
	for _, l := range b.lines {
		m.Add("b", l)
	}
	sum, err := m.Summary()
	if err == nil || !strings.Contains(err.Error(), "pod b: no done line") || !strings.Contains(err.Error(), "pod c: no done line") || strings.Contains(err.Error(), "pod a") {
		t.Errorf("err = %v, want pods b and c named, not a", err)
	}
	if sum.Requests != 5 || sum.Seconds[0].Requests != 3 {
		t.Errorf("requests %d (second 0: %d), want 5 (3)", sum.Requests, sum.Seconds[0].Requests)
	}
	if got := m.Missing(); strings.Join(got, ",") != "b,c" {
		t.Errorf("missing %v, want b,c", got)
	}
	// A done line that ended early says why; its totals still add up.
	d := newPod(0).second(0, []int64{1000}, nil).done()
	d.lines[len(d.lines)-1].Error = "context canceled"
	m = NewMerger(barrier)
	for _, l := range d.lines {
		m.Add("d", l)
	}
	if _, err := m.Summary(); err == nil || !strings.Contains(err.Error(), "pod d: load stopped: context canceled") {
		t.Errorf("err = %v, want pod d's stop", err)
	}
}

func TestMergeTotalsMustMatchTheStream(t *testing.T) {
	a := newPod(0).second(0, []int64{1000}, nil).done()
	a.lines[len(a.lines)-1].Totals.Requests = 7
	m := NewMerger(barrier)
	for _, l := range a.lines {
		m.Add("a", l)
	}
	if _, err := m.Summary(); err == nil || !strings.Contains(err.Error(), "totals say 7") {
		t.Errorf("err = %v, want a totals mismatch", err)
	}
}
