package load

import (
	"strings"
	"testing"
	"time"
)

func TestOptionsDefaultsAndValidation(t *testing.T) {
	o := Options{URL: "http://127.0.0.1:8081"}.withDefaults()
	if o.Connections != 40 || o.Duration != 3*time.Minute || o.Timeout != 5*time.Second {
		t.Errorf("defaults: %+v", o)
	}
	if err := o.validate(); err != nil {
		t.Errorf("valid options: %v", err)
	}
	if d := (Options{URL: "http://x", Steps: []Step{{Duration: time.Second}}}).withDefaults().Duration; d != 0 {
		t.Errorf("with steps, duration defaulted to %v", d)
	}
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, "URL is empty"},
		{Options{URL: "ftp://x"}, "scheme"},
		{Options{URL: "http://"}, "no host"},
		{Options{URL: "http://x", Rate: -1}, "rate"},
		{Options{URL: "http://x", Duration: time.Second, Steps: []Step{{Duration: time.Second}}}, "duration and steps"},
		{Options{URL: "http://x", Rate: 5, Steps: []Step{{Duration: time.Second}}}, "rate and steps"},
		{Options{URL: "http://x", Steps: []Step{{Duration: 0}}}, "step 0: duration"},
		{Options{URL: "http://x", Steps: []Step{{Duration: time.Second, Connections: -2}}}, "step 0: connections"},
		{Options{URL: "http://x", Mode: "burst"}, `mode "burst": must be "closed-loop" or "open-loop"`},
		{Options{URL: "http://x", MaxInFlight: 5}, "max in flight 5: only for mode open-loop"},
		{Options{URL: "http://x", Mode: OpenLoop}, "rate 0: mode open-loop needs an arrival rate > 0"},
		{Options{URL: "http://x", Mode: OpenLoop, Rate: 10, Connections: 4}, "connections 4: must be 0 in mode open-loop"},
		{Options{URL: "http://x", Mode: OpenLoop, Rate: 10, MaxInFlight: 20000}, "max in flight 20000: must be 1..10000"},
		{Options{URL: "http://x", Mode: OpenLoop, Steps: []Step{{Duration: time.Second, Connections: 1, Rate: 5}}}, "step 0: connections 1: must be 0"},
	} {
		err := tc.o.withDefaults().validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want it to mention %q", tc.o, err, tc.want)
		}
	}
}

func TestOpenLoopDefaults(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want int
	}{
		{Options{Rate: 200}, 1001}, // 200/s × the 5 s default timeout + 1
		{Options{Rate: 200, Timeout: 2 * time.Second}, 401},
		{Options{Rate: 0.5, Timeout: time.Second}, 2},
		{Options{Rate: 1e6}, MaxMaxInFlight},
		{Options{Steps: []Step{{Duration: time.Second, Rate: 10}, {Duration: time.Second, Rate: 100}}, Timeout: time.Second}, 101},
		{Options{Rate: 200, MaxInFlight: 7}, 7},
	} {
		tc.o.URL, tc.o.Mode = "http://x", OpenLoop
		o := tc.o.withDefaults()
		if err := o.validate(); err != nil {
			t.Errorf("%+v: %v", tc.o, err)
		}
		if o.MaxInFlight != tc.want || o.Connections != 0 {
			t.Errorf("%+v: max in flight %d, connections %d; want %d and 0", tc.o, o.MaxInFlight, o.Connections, tc.want)
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{}, "closed-loop: 40 connections for 3m0s, each sending its next request when its response arrived; latency from the actual send; timeout 5s"},
		{Options{Connections: 4, Rate: 12.5, Duration: time.Minute}, "closed-loop: 4 connections for 1m0s at most 12.5 requests/s, each sending"},
		{Options{Mode: OpenLoop, Rate: 200}, "open-loop: 200 requests/s for 3m0s, sent at their scheduled times whatever the responses, at most 1001 in flight " +
			"(a request due with that many in flight, or not sent within 100ms of its time, is missed); latency and the 5s timeout from the scheduled send time (free of coordinated omission)"},
		{Options{Mode: OpenLoop, Steps: []Step{{Duration: time.Second, Rate: 10}, {Duration: time.Second}}}, "open-loop: 2 steps of paced arrivals over 2s (10/s for 1s, idle 1s), sent at"},
	} {
		tc.o.URL = "http://x"
		if got := tc.o.Describe(); !strings.HasPrefix(got, tc.want) {
			t.Errorf("%+v: Describe() =\n%s\nwant prefix\n%s", tc.o, got, tc.want)
		}
	}
}

func TestNewPlan(t *testing.T) {
	s := time.Second
	o := Options{URL: "http://x", Connections: 8, Steps: []Step{
		{Duration: 2 * s, Connections: 4},                       // closed loop
		{Duration: 3 * s, Rate: 20},                             // paced, default connections
		{Duration: 4 * s, Rate: 50, Ramp: true},                 // ramp 20→50
		{Duration: 1 * s},                                       // idle
		{Duration: 2 * s, Rate: 10, Ramp: true, Connections: 2}, // ramp 0→10
	}}.withDefaults()
	p := newPlan(o)
	want := []struct {
		start, end time.Duration
		conns      int
		pacer      Pacer
	}{
		{0, 2 * s, 4, nil},
		{2 * s, 5 * s, 8, ConstantPacer{Rate: 20}},
		{5 * s, 9 * s, 8, RampPacer{From: 20, To: 50, Over: 4 * s}},
		{9 * s, 10 * s, 0, nil},
		{10 * s, 12 * s, 2, RampPacer{From: 0, To: 10, Over: 2 * s}},
	}
	if len(p) != len(want) {
		t.Fatalf("%d phases, want %d", len(p), len(want))
	}
	for i, w := range want {
		ph := p[i]
		if ph.start != w.start || ph.end != w.end || ph.conns != w.conns || ph.pacer != w.pacer {
			t.Errorf("phase %d = %+v, want %+v", i, ph, w)
		}
	}
	if p.end() != 12*s || p.maxConns() != 8 {
		t.Errorf("end %v maxConns %d", p.end(), p.maxConns())
	}
	for _, tc := range []struct {
		el     time.Duration
		hint   int
		want   int
		wantOK bool
	}{
		{0, 0, 0, true},
		{2*s - 1, 0, 0, true},
		{2 * s, 0, 1, true},
		{9500 * time.Millisecond, 1, 3, true},
		{12 * s, 4, 5, false},
	} {
		i, ok := p.at(tc.el, tc.hint)
		if i != tc.want || ok != tc.wantOK {
			t.Errorf("at(%v, %d) = %d, %v; want %d, %v", tc.el, tc.hint, i, ok, tc.want, tc.wantOK)
		}
	}

	single := newPlan(Options{URL: "http://x", Rate: 7}.withDefaults())
	if len(single) != 1 || single[0].pacer != (ConstantPacer{Rate: 7}) || single[0].conns != 40 || single[0].end != 3*time.Minute {
		t.Errorf("single phase plan %+v", single)
	}
	if unpaced := newPlan(Options{URL: "http://x"}.withDefaults()); unpaced[0].pacer != nil {
		t.Errorf("no rate: pacer %v", unpaced[0].pacer)
	}
}

// TestClaim drives the rate cap's bookkeeping with explicit offsets: no clock.
func TestClaim(t *testing.T) {
	r := &run{
		plan: plan{{start: time.Second, end: 3 * time.Second, conns: 4, pacer: ConstantPacer{Rate: 10}}},
		hits: make([]uint64, 1),
	}
	at := func(ms int) time.Duration { return time.Second + time.Duration(ms)*time.Millisecond }
	if w, ok := r.claim(0, at(0)); !ok || w != 0 {
		t.Fatalf("first claim: %v %v", w, ok)
	}
	if w, ok := r.claim(0, at(0)); !ok || w != 100*time.Millisecond {
		t.Fatalf("second claim waits an interval: %v %v", w, ok)
	}
	// 1s into the phase hits 0..10 are due; 2 were taken. The backlog of 9 is
	// cut to one per worker (4) and the other 5 are missed.
	if w, ok := r.claim(0, at(1000)); !ok || w != 0 {
		t.Fatalf("overdue claim: %v %v", w, ok)
	}
	if m := r.misses.Summary().Missed; m != 5 || r.hits[0] != 8 {
		t.Fatalf("missed %d hits %d; want 5 and 8", m, r.hits[0])
	}
	// They count in the second they were given up: 2 s into the attack.
	if secs := r.misses.Seconds(); len(secs) != 3 || secs[2].Missed != 5 {
		t.Fatalf("missed per second %+v; want 5 in second 2", secs)
	}
	for range 3 { // the rest of the burst goes at once
		if w, _ := r.claim(0, at(1000)); w != 0 {
			t.Fatalf("burst claim waits %v", w)
		}
	}
	if w, _ := r.claim(0, at(1000)); w != 100*time.Millisecond {
		t.Fatalf("after the burst: wait %v, want 100ms", w)
	}
	// A hit due at or after the phase end is not given.
	r.hits[0] = 20
	if _, ok := r.claim(0, at(1950)); ok {
		t.Fatal("claim past the phase end")
	}
}
