package load

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// vclock is a virtual clock for the scheduler: sleep jumps to the wake-up
// time, plus a one-off stall when set.
type vclock struct {
	now   time.Duration
	stall map[time.Duration]time.Duration // wake-up at key is late by value
}

func (c *vclock) sleep(d time.Duration) bool {
	c.now += d
	c.now += c.stall[c.now]
	return true
}

// TestSchedulerOnTime: with always-free connections, every hit is sent at
// exactly its due time, idle phases send nothing, and the next phase's hits
// start at its own start.
func TestSchedulerOnTime(t *testing.T) {
	c := &vclock{}
	var sent []time.Duration
	sc := scheduler{
		plan: plan{
			{end: time.Second, pacer: ConstantPacer{Rate: 10}},
			{start: time.Second, end: 2 * time.Second},
			{start: 2 * time.Second, end: 2500 * time.Millisecond, pacer: ConstantPacer{Rate: 20}},
		},
		now:   func() time.Duration { return c.now },
		sleep: c.sleep,
		send: func(at time.Duration) bool {
			if at != c.now {
				t.Fatalf("hit due at %v sent at %v", at, c.now)
			}
			sent = append(sent, at)
			return true
		},
		miss: func(at time.Duration, late bool) { t.Fatalf("missed %v (late %v)", at, late) },
	}
	sc.run()
	var want []time.Duration
	for i := range 10 {
		want = append(want, time.Duration(i)*100*time.Millisecond)
	}
	for i := range 10 {
		want = append(want, 2*time.Second+time.Duration(i)*50*time.Millisecond)
	}
	if len(sent) != len(want) {
		t.Fatalf("sent %v\nwant %v", sent, want)
	}
	for i := range want {
		if sent[i] != want[i] {
			t.Fatalf("hit %d sent at %v, want %v", i, sent[i], want[i])
		}
	}
	if c.now != 2450*time.Millisecond {
		t.Errorf("scheduler ended at %v, want the last hit's 2.45s", c.now)
	}
}

// TestSchedulerMisses: a hit due while the pool is full is missed, a stall
// of the generator longer than OpenLoopMaxLag misses the hits it passed
// over, and neither is replayed: the hits after them go at their own times.
func TestSchedulerMisses(t *testing.T) {
	// 100/s for 1 s. The wake-up for hit 20 (200 ms) comes 250 ms late, so
	// hits 20..35 (200..350 ms) are reached at 450 ms: the ones more than
	// 100 ms late (20..34) are missed, 35 (350 ms) goes. Hits 60..64 find
	// the pool full.
	c := &vclock{stall: map[time.Duration]time.Duration{200 * time.Millisecond: 250 * time.Millisecond}}
	var sent, late, full []time.Duration
	sc := scheduler{
		plan:  plan{{end: time.Second, pacer: ConstantPacer{Rate: 100}}},
		now:   func() time.Duration { return c.now },
		sleep: c.sleep,
		send: func(at time.Duration) bool {
			if at >= 600*time.Millisecond && at < 650*time.Millisecond {
				return false
			}
			sent = append(sent, at)
			return true
		},
		miss: func(at time.Duration, l bool) {
			if l {
				late = append(late, at)
			} else {
				full = append(full, at)
			}
		},
	}
	sc.run()
	if len(sent)+len(late)+len(full) != 100 {
		t.Fatalf("%d sent + %d late + %d full, want 100 hits", len(sent), len(late), len(full))
	}
	if len(late) != 15 || late[0] != 200*time.Millisecond || late[14] != 340*time.Millisecond {
		t.Errorf("late %v; want the 15 hits 200..340ms", late)
	}
	if len(full) != 5 || full[0] != 600*time.Millisecond {
		t.Errorf("full %v; want the 5 hits 600..640ms", full)
	}
	if sent[20] != 350*time.Millisecond || sent[len(sent)-1] != 990*time.Millisecond {
		t.Errorf("after the stall the first hit sent is %v (want 350ms), the last %v (want 990ms)", sent[20], sent[len(sent)-1])
	}
}

// TestSchedulerCancel: a cancelled sleep ends the schedule.
func TestSchedulerCancel(t *testing.T) {
	var now time.Duration
	n := 0
	sc := scheduler{
		plan: plan{{end: time.Minute, pacer: ConstantPacer{Rate: 10}}},
		now:  func() time.Duration { return now },
		sleep: func(d time.Duration) bool {
			now += d
			return now < time.Second
		},
		send: func(time.Duration) bool { n++; return true },
		miss: func(time.Duration, bool) { t.Fatal("missed") },
	}
	sc.run()
	if n != 10 {
		t.Errorf("%d sent before the cancellation at 1s, want 10", n)
	}
}

// TestHTTPOpenLoop: requests go out at their scheduled times whatever the
// responses (a closed loop with the same target would send far fewer), and
// each result's Start is its scheduled offset and its latency runs from
// there to the response, covering what the server saw.
func TestHTTPOpenLoop(t *testing.T) {
	type seen struct{ got, done time.Time }
	var mu sync.Mutex
	var served []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		got := time.Now()
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		served = append(served, seen{got, time.Now()})
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)

	var c collect
	opts := Options{URL: srv.URL, Mode: OpenLoop, Rate: 50, Duration: time.Second, Timeout: time.Second}
	s, err := NewHTTP().Run(context.Background(), opts, c.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary: %d requests, %d missed, in flight cap %d peak %d, p50 %v", s.Requests, s.Missed, s.MaxInFlight, s.PeakInFlight, s.P50)
	// Default cap: 50/s × 1 s + 1.
	if s.MaxInFlight != 51 || s.PeakInFlight < 4 || s.PeakInFlight > 51 {
		t.Errorf("in flight cap %d peak %d; want 51 and about 5 (50/s × 100 ms)", s.MaxInFlight, s.PeakInFlight)
	}
	// A hit the scheduler reaches more than OpenLoopMaxLag late is missed: a
	// stall of the generator of d > 100 ms (a loaded machine's) misses the
	// (d - 100 ms) × 50/s hits it passed over. 35 of 50, not 45, must go
	// out: 300 ms of such stalls in the second are the machine's. A closed
	// loop (one connection, 100 ms a request) would send 10.
	if s.Requests+s.Missed != 50 || s.Requests < 35 || s.Errors != 0 {
		t.Errorf("%d requests (%d errors) + %d missed; want 50 scheduled, nearly all sent", s.Requests, s.Errors, s.Missed)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(served) != int(s.Requests) {
		t.Errorf("server saw %d requests, summary %d", len(served), s.Requests)
	}
	for _, r := range c.results {
		if r.Start%(20*time.Millisecond) != 0 || r.Start >= time.Second || !r.Wall.Equal(s.Started.Add(r.Start)) {
			t.Fatalf("result %+v: Start is not a scheduled offset (multiple of 20ms)", r)
		}
		if r.Latency < 100*time.Millisecond {
			t.Fatalf("result %+v: latency below the server's 100ms", r)
		}
		// Latency runs from the schedule: the server got the request after
		// the scheduled time and answered before Wall+Latency.
		end := r.Wall.Add(r.Latency)
		found := false
		for _, sv := range served {
			if !sv.got.Before(r.Wall) && !sv.done.After(end) {
				found = true
				break
			}
		}
		if !found {
			t.Fatalf("result %+v: no request served within [scheduled, scheduled+latency]", r)
		}
	}
	// Requests are keyed by scheduled time, so all are in second 0 though
	// the last ones completed after 1 s.
	if len(s.Seconds) != 1 || s.Seconds[0].Requests != int(s.Requests) {
		t.Errorf("seconds %+v; want one second holding every request (keyed by schedule)", s.Seconds)
	}
}

// TestHTTPOpenLoopMissed: with the in-flight cap reached, due requests are
// missed (counted, by their scheduled second, never sent late).
func TestHTTPOpenLoopMissed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		time.Sleep(200 * time.Millisecond)
	}))
	t.Cleanup(srv.Close)
	s, err := NewHTTP().Run(context.Background(),
		Options{URL: srv.URL, Mode: OpenLoop, Rate: 50, Duration: 1500 * time.Millisecond, MaxInFlight: 2, Timeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests, %d missed, peak in flight %d, seconds %+v", s.Requests, s.Missed, s.PeakInFlight, s.Seconds)
	// Two connections, 200 ms a request: about 10 a second of the 50 due.
	if s.Requests+s.Missed != 75 || s.Requests > 20 || s.Requests < 10 || s.PeakInFlight != 2 {
		t.Errorf("%d requests + %d missed, peak %d; want 75 due, about 15 sent, peak 2", s.Requests, s.Missed, s.PeakInFlight)
	}
	if len(s.Seconds) != 2 || s.Seconds[0].Missed+s.Seconds[0].Requests != 50 || s.Seconds[1].Missed+s.Seconds[1].Requests != 25 {
		t.Errorf("seconds %+v; want 50 then 25 due", s.Seconds)
	}
	checkSecondsSum(t, s.Seconds, s)
}

// TestHTTPOpenLoopTimeout: the timeout runs from the scheduled
// time, so a request to a server that never answers in time has a latency of
// about the timeout, and it is a timeout error.
func TestHTTPOpenLoopTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	s, err := NewHTTP().Run(context.Background(),
		Options{URL: srv.URL, Mode: OpenLoop, Rate: 20, Duration: 300 * time.Millisecond, Timeout: 150 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// 20/s for 300 ms schedules 6 sends, each of which times out. A loaded
	// machine once counted 5 timeouts: the last send can be missed, or
	// reach its end with the run's rather than its own timeout. None succeeds.
	if s.Requests+s.Missed != 6 || s.ErrorsByKind[KindTimeout] < 5 || s.Successes != 0 {
		t.Fatalf("%d requests, %d missed, errors %v; want 6 scheduled, every one sent a timeout", s.Requests, s.Missed, s.ErrorsByKind)
	}
	if s.Max < 150*time.Millisecond || s.Max > time.Second {
		t.Errorf("max latency %v; want the 150ms timeout (and scheduling delay)", s.Max)
	}
}

func TestHTTPOpenLoopCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := NewHTTP().Run(ctx, Options{URL: srv.URL, Mode: OpenLoop, Rate: 100, Duration: time.Minute, Timeout: time.Minute}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err %v, want the context's", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cancelled run took %v", d)
	}
}

// TestSchedulerProfile: an open loop through a step, a ramp up, a pause and
// a ramp down (a user's rate profile) sends, in every second, within one
// request of the integral of the scheduled rate up to that second, and
// Options.Scheduled counts each step's requests within one of its integral.
func TestSchedulerProfile(t *testing.T) {
	o := Options{URL: "http://x", Mode: OpenLoop, Steps: []Step{
		{Duration: 3 * time.Second, Rate: 5},
		{Duration: 10 * time.Second, Rate: 50, Ramp: true}, // 5 → 50
		{Duration: 2 * time.Second},                        // pause
		{Duration: 4 * time.Second, Rate: 0, Ramp: true},   // from 0: sends nothing
		{Duration: 2 * time.Second, Rate: 8},
		{Duration: 4 * time.Second, Ramp: true}, // 8 → 0
	}}
	// rate(t) of the profile above, and its integral by whole seconds.
	rate := func(t float64) float64 {
		switch {
		case t < 3:
			return 5
		case t < 13:
			return 5 + 45*(t-3)/10
		case t < 19:
			return 0
		case t < 21:
			return 8
		case t < 25:
			return 8 - 8*(t-21)/4
		}
		return 0
	}
	const end = 25
	integral := make([]float64, end+1) // by second, trapezoids of 1 ms
	for s := range end {
		sum := 0.0
		for ms := range 1000 {
			sum += rate(float64(s)+(float64(ms)+0.5)/1000) / 1000
		}
		integral[s+1] = integral[s] + sum
	}
	c := &vclock{}
	perSecond := make([]int, end)
	sc := scheduler{
		plan:  newPlan(o.withDefaults()),
		now:   func() time.Duration { return c.now },
		sleep: c.sleep,
		send: func(at time.Duration) bool {
			perSecond[int(at/time.Second)]++
			return true
		},
		miss: func(at time.Duration, late bool) { t.Fatalf("missed %v (late %v)", at, late) },
	}
	sc.run()
	got := 0
	for s, n := range perSecond {
		got += n
		if d := float64(got) - integral[s+1]; d > 1 || d < -1 {
			t.Errorf("by %d s: %d requests scheduled, want %.2f ± 1 (per second %v)", s+1, got, integral[s+1], perSecond)
			break
		}
	}
	want := []float64{15, 275, 0, 0, 16, 16}
	sched := o.Scheduled()
	if len(sched) != len(want) {
		t.Fatalf("Scheduled() = %v, want %d steps", sched, len(want))
	}
	var total int64
	for i, n := range sched {
		total += n
		if d := float64(n) - want[i]; d > 1 || d < -1 {
			t.Errorf("step %d: Scheduled %d, want %v ± 1 (all %v)", i, n, want[i], sched)
		}
	}
	if total != int64(got) {
		t.Errorf("Scheduled() sums to %d, the scheduler sent %d", total, got)
	}
}
