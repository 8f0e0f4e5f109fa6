package runner

import (
	"testing"
	"time"

	"github.com/scalebench/scalebench/load"
)

func TestLoadSample(t *testing.T) {
	sec := load.Second{Index: 3, Requests: 10, Successes: 0, Errors: 10,
		ErrorsByKind: map[load.ErrorKind]int{load.KindTimeout: 10},
		P50:          5 * time.Second, P99: 5 * time.Second, Missed: 2}
	ls := loadSample(sec, false)
	if ls.SuccessP50LatencySeconds != nil || ls.SuccessP99LatencySeconds != nil {
		t.Errorf("a second without a success has success percentiles %v %v", ls.SuccessP50LatencySeconds, ls.SuccessP99LatencySeconds)
	}
	if ls.Missed != nil {
		t.Errorf("unpaced load has missed %d", *ls.Missed)
	}
	if ls.ErrorsByKind["timeout"] != 10 || ls.Successes() != 0 {
		t.Errorf("sample %+v", ls)
	}

	sec.Successes, sec.Errors, sec.SuccessP50, sec.SuccessP99 = 4, 6, 20*time.Millisecond, 30*time.Millisecond
	ls = loadSample(sec, true)
	if ls.SuccessP50LatencySeconds == nil || *ls.SuccessP50LatencySeconds != 0.02 || *ls.SuccessP99LatencySeconds != 0.03 {
		t.Errorf("success percentiles %v %v, want 0.02 0.03", ls.SuccessP50LatencySeconds, ls.SuccessP99LatencySeconds)
	}
	if ls.Missed == nil || *ls.Missed != 2 {
		t.Errorf("paced load: missed %v, want 2", ls.Missed)
	}
}

func TestLoadTotals(t *testing.T) {
	lo := load.Options{URL: "http://127.0.0.1:1/", Connections: 4, Duration: time.Minute, Rate: 50}
	sum := load.Summary{Requests: 100, Successes: 0, Errors: 100, Missed: 7, Dropped: 0, P50: time.Second, P99: 5 * time.Second,
		Seconds: []load.Second{{Index: 0, Requests: 100, Errors: 100}}}
	got := loadTotals(sum, lo, lo.Describe(), true)
	if got.Mode != "closed-loop" || got.Rate == nil || *got.Rate != 50 {
		t.Errorf("mode %q rate %v; want closed-loop, 50", got.Mode, got.Rate)
	}
	if got.Successes != 0 || got.SuccessP50LatencySeconds != nil || got.SuccessP99LatencySeconds != nil {
		t.Errorf("no success: successes %d, p50 %v p99 %v; want 0 and absent", got.Successes, got.SuccessP50LatencySeconds, got.SuccessP99LatencySeconds)
	}
	if got.Missed == nil || *got.Missed != 7 || got.Dropped == nil || *got.Dropped != 0 {
		t.Errorf("missed %v dropped %v; want 7 and 0", got.Missed, got.Dropped)
	}

	// Bombardier: no per-second results, so missed and dropped are unknown.
	sum.Seconds = nil
	got = loadTotals(sum, lo, "bombardier "+lo.Describe(), true)
	if got.Missed != nil || got.Dropped != nil {
		t.Errorf("bombardier: missed %v dropped %v; want absent", got.Missed, got.Dropped)
	}

	// An uncapped closed loop cannot miss.
	lo.Rate = 0
	sum.Seconds = []load.Second{}
	got = loadTotals(sum, lo, lo.Describe(), false)
	if got.Missed != nil || got.Rate != nil {
		t.Errorf("uncapped: missed %v rate %v; want absent", got.Missed, got.Rate)
	}
}
