package runner

import (
	"slices"
	"testing"
	"time"

	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/scenario"
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

func TestHTTPOptions(t *testing.T) {
	h := &scenario.HTTPLoad{Mode: scenario.LoadOpenLoop, Rate: 200, MaxInFlight: 300, Duration: scenario.D(time.Minute), Timeout: scenario.D(5 * time.Second), Host: "a.example"}
	lo := httpOptions(h, "http://127.0.0.1:1/")
	if lo.Mode != load.OpenLoop || lo.Rate != 200 || lo.MaxInFlight != 300 || lo.Connections != 0 || lo.Host != "a.example" {
		t.Errorf("open loop mapped to %+v", lo)
	}
	sum := load.Summary{Requests: 10, Successes: 10, SuccessP50: time.Millisecond, SuccessP99: 2 * time.Millisecond, MaxInFlight: 300, Seconds: []load.Second{{Requests: 10, Successes: 10}}}
	got := loadTotals(sum, lo, lo.Describe(), true)
	if got.Mode != "open-loop" || got.MaxInFlight != 300 || got.Rate == nil || *got.Rate != 200 || got.Missed == nil || *got.Missed != 0 {
		t.Errorf("open-loop totals %+v", got)
	}
	if got.SuccessP99LatencySeconds == nil || *got.SuccessP99LatencySeconds != 0.002 {
		t.Errorf("success p99 %v, want 0.002", got.SuccessP99LatencySeconds)
	}

	// A closed-loop step without connections uses the load's, as the
	// scenario's validation promises; a paced one keeps its rate.
	h = &scenario.HTTPLoad{Mode: scenario.LoadClosedLoop, Connections: 8, Timeout: scenario.D(time.Second),
		Steps: []scenario.LoadStep{{Duration: scenario.D(time.Second)}, {Duration: scenario.D(time.Second), Rate: 5}, {Duration: scenario.D(time.Second), Connections: 2}}}
	lo = httpOptions(h, "http://127.0.0.1:1/")
	want := []load.Step{{Duration: time.Second, Connections: 8}, {Duration: time.Second, Rate: 5}, {Duration: time.Second, Connections: 2}}
	if !slices.Equal(lo.Steps, want) || lo.Connections != 8 {
		t.Errorf("steps %+v, want %+v", lo.Steps, want)
	}
}
