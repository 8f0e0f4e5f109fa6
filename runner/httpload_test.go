package runner

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
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

// TestHTTPLoadRecords runs the scenario's load against a loopback server
// whose every other request fails slowly, and checks what reaches the
// timeline and the analysis: the mode in the load-start marker, per-second
// samples with success-only percentiles, and totals with the open loop's
// mode, rate, cap and missed count.
func TestHTTPLoadRecords(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%2 == 0 {
			time.Sleep(300 * time.Millisecond)
			w.WriteHeader(http.StatusBadGateway)
		}
	}))
	t.Cleanup(srv.Close)
	for _, tc := range []struct {
		name   string
		h      scenario.HTTPLoad
		marker string
	}{
		{"closed loop", scenario.HTTPLoad{Mode: scenario.LoadClosedLoop, Connections: 2}, "closed-loop: 2 connections for 1.2s, each sending its next request when its response arrived"},
		{"open loop", scenario.HTTPLoad{Mode: scenario.LoadOpenLoop, Rate: 40}, "open-loop: 40 requests/s for 1.2s, sent at their scheduled times whatever the responses, at most 41 in flight"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			h.Duration, h.Timeout, h.Path, h.Generator = scenario.D(1200*time.Millisecond), scenario.D(time.Second), "/", scenario.GeneratorBuiltin
			s := &scenario.Scenario{Metadata: scenario.Metadata{Name: "t"}, Spec: scenario.Spec{Load: scenario.Load{Type: scenario.LoadHTTP, HTTP: &h}}}
			r := &run{opts: Options{IngressURL: srv.URL}, s: s, rec: timeline.NewRecorder()}
			if err := r.httpLoad(context.Background()); err != nil {
				t.Fatal(err)
			}
			var marker string
			var samples []*timeline.LoadSample
			for _, e := range r.rec.Events() {
				switch {
				case e.Kind == timeline.KindMarker && e.Marker.Name == timeline.MarkerLoadStart:
					marker = e.Marker.Detail
				case e.Kind == timeline.KindLoad:
					samples = append(samples, e.Load)
				}
			}
			if !strings.HasPrefix(marker, tc.marker) {
				t.Errorf("load-start marker %q, want it to start with %q", marker, tc.marker)
			}
			lt := r.loadTotals
			if lt == nil || lt.Mode != string(h.Mode) || lt.Requests == 0 || lt.Successes == 0 || lt.Successes == lt.Requests || lt.Description == "" {
				t.Fatalf("totals %+v", lt)
			}
			if lt.SuccessP99LatencySeconds == nil || *lt.SuccessP99LatencySeconds >= 0.2 || lt.P99LatencySeconds < 0.3 {
				t.Errorf("p99 %v, success p99 %v; want the failures' 300 ms and the successes' well below", lt.P99LatencySeconds, lt.SuccessP99LatencySeconds)
			}
			open := h.Mode == scenario.LoadOpenLoop
			if (lt.Missed != nil) != open || (lt.Rate != nil) != open || (lt.MaxInFlight == 41) != open {
				t.Errorf("missed %v rate %v max in flight %d; want them only for the open loop", lt.Missed, lt.Rate, lt.MaxInFlight)
			}
			if open && lt.Requests+*lt.Missed != 48 {
				t.Errorf("%d requests + %d missed; want 48 due (40/s for 1.2 s)", lt.Requests, *lt.Missed)
			}
			if lt.Dropped == nil || *lt.Dropped != 0 {
				t.Errorf("dropped %v, want 0", lt.Dropped)
			}
			var req, ok int
			for _, ls := range samples {
				req += ls.Requests
				ok += ls.Successes()
				if (ls.Missed != nil) != open {
					t.Errorf("second %d: missed %v", ls.Second, ls.Missed)
				}
				if (ls.SuccessP99LatencySeconds != nil) != (ls.Successes() > 0) {
					t.Errorf("second %d: %d successes, success p99 %v", ls.Second, ls.Successes(), ls.SuccessP99LatencySeconds)
				}
			}
			// The open loop keys requests by schedule: seconds 0 and 1. A closed
			// loop may end its last request before second 1.
			if int64(req) != lt.Requests || int64(ok) != lt.Successes || (open && len(samples) != 2) || len(samples) == 0 {
				t.Errorf("%d samples sum to %d requests, %d successes; totals %d, %d", len(samples), req, ok, lt.Requests, lt.Successes)
			}
		})
	}
}

// A rate profile becomes open-loop steps (a pause idle, a ramp from the rate
// before it), and the report's per-step counts come from the generator's
// seconds: sent and missed by the step each second belongs to.
func TestHTTPProfile(t *testing.T) {
	r := func(v float64) *scenario.Rate { return &scenario.Rate{PerSecond: v} }
	h := &scenario.HTTPLoad{Mode: scenario.LoadOpenLoop, Timeout: scenario.D(5 * time.Second), Profile: []scenario.RateStep{
		{Rate: r(5), For: scenario.D(2 * time.Second)},
		{RampTo: r(15), For: scenario.D(2 * time.Second)},
		{Rate: r(0), For: scenario.D(time.Second)},
	}}
	lo := httpOptions(h, "http://127.0.0.1:1/")
	want := []load.Step{{Duration: 2 * time.Second, Rate: 5}, {Duration: 2 * time.Second, Rate: 15, Ramp: true}, {Duration: time.Second}}
	if !slices.Equal(lo.Steps, want) || lo.Mode != load.OpenLoop || lo.Duration != 0 || lo.Rate != 0 {
		t.Fatalf("options %+v, want open-loop steps %+v", lo, want)
	}
	sched := lo.Scheduled()
	if len(sched) != 3 || sched[0] != 10 || sched[1] < 19 || sched[1] > 21 || sched[2] != 0 {
		t.Errorf("scheduled %v, want [10, 20±1, 0]", sched)
	}
	secs := []load.Second{{Index: 0, Requests: 5}, {Index: 1, Requests: 4, Missed: 1}, {Index: 2, Requests: 8}, {Index: 3, Requests: 12}}
	got := httpProfile(h.Profile, sched, secs, 10*time.Second)
	if len(got) != 3 {
		t.Fatalf("profile %+v", got)
	}
	if g := got[0]; g.StartSeconds != 10 || g.EndSeconds != 12 || g.Sent != 9 || *g.Missed != 1 || g.Unit != "requests" || g.Ramp {
		t.Errorf("step 1 %+v", g)
	}
	if g := got[1]; g.FromPerSecond != 5 || g.ToPerSecond != 15 || !g.Ramp || g.Sent != 20 || *g.Missed != 0 || g.AchievedPerSecond() != 10 {
		t.Errorf("step 2 %+v", g)
	}
	if g := got[2]; g.Sent != 0 || g.Scheduled != 0 || g.EndSeconds != 15 {
		t.Errorf("pause %+v", g)
	}
}
