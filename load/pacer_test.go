package load

import (
	"math"
	"testing"
	"time"
)

// simulate drives a pacer with a virtual clock that jumps to each hit's due
// time, as an always-free worker would, and returns the hits started in each
// second up to end.
func simulate(t *testing.T, p Pacer, end time.Duration) []int {
	t.Helper()
	perSecond := make([]int, int(end/time.Second))
	var el time.Duration
	for hits := uint64(0); ; hits++ {
		wait, stop := p.Pace(el, hits)
		if stop {
			break
		}
		if wait < 0 {
			t.Fatalf("hit %d at %v: negative wait %v", hits, el, wait)
		}
		el += wait
		if el >= end {
			break
		}
		perSecond[int(el/time.Second)]++
		if hits > 1e7 {
			t.Fatal("runaway pacer")
		}
	}
	return perSecond
}

func TestConstantPacer(t *testing.T) {
	p := ConstantPacer{Rate: 10}
	for _, tc := range []struct {
		el   time.Duration
		hits uint64
		want time.Duration
	}{
		{0, 0, 0},                      // first hit at once
		{0, 1, 100 * time.Millisecond}, // second after one interval
		{50 * time.Millisecond, 1, 50 * time.Millisecond},
		{time.Second, 10, 0},                      // exactly due
		{time.Second, 5, 0},                       // behind: no wait
		{time.Second, 12, 200 * time.Millisecond}, // ahead
	} {
		got, stop := p.Pace(tc.el, tc.hits)
		if stop || got != tc.want {
			t.Errorf("Pace(%v, %d) = %v, %v; want %v, false", tc.el, tc.hits, got, stop, tc.want)
		}
	}
	for i, n := range simulate(t, p, 5*time.Second) {
		if n != 10 {
			t.Errorf("second %d: %d hits, want 10", i, n)
		}
	}
	for _, r := range []float64{0, -1, math.NaN()} {
		if w, stop := (ConstantPacer{Rate: r}).Pace(time.Second, 1e6); w != 0 || stop {
			t.Errorf("rate %v: Pace = %v, %v; want no wait", r, w, stop)
		}
	}
}

func TestRampPacer(t *testing.T) {
	tests := []struct {
		name string
		p    RampPacer
		end  time.Duration
		// want is the expected hits per second: the integral of the rate.
		want []float64
	}{
		{"up 0 to 10 over 10s", RampPacer{From: 0, To: 10, Over: 10 * time.Second}, 12 * time.Second,
			[]float64{0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10, 10}},
		{"down 10 to 0 over 4s", RampPacer{From: 10, To: 0, Over: 4 * time.Second}, 6 * time.Second,
			[]float64{8.75, 6.25, 3.75, 1.25, 0, 0}},
		{"flat", RampPacer{From: 5, To: 5, Over: 2 * time.Second}, 4 * time.Second,
			[]float64{5, 5, 5, 5}},
		{"zero length holds To", RampPacer{From: 100, To: 3, Over: 0}, 3 * time.Second,
			[]float64{3, 3, 3}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := simulate(t, tc.p, tc.end)
			var sumGot, sumWant float64
			for i := range got {
				sumGot += float64(got[i])
				sumWant += tc.want[i]
				// Per second the count may round either way; cumulatively it
				// must track the integral within one hit.
				if math.Abs(sumGot-sumWant) > 1 {
					t.Errorf("by second %d: %v hits, want %v (per second %v)", i, sumGot, sumWant, got)
					break
				}
			}
		})
	}
}

func TestRampPacerStops(t *testing.T) {
	p := RampPacer{From: 10, To: 0, Over: 2 * time.Second} // 10 hits in all
	if _, stop := p.Pace(0, 9); stop {
		t.Error("hit 9 of 10: stopped early")
	}
	if _, stop := p.Pace(0, 11); !stop {
		t.Error("hit 11 of 10: want stop")
	}
	if _, stop := (RampPacer{}).Pace(0, 0); !stop {
		t.Error("all-zero ramp: want stop")
	}
	// A ramp from zero gives its first hit at once.
	if w, stop := (RampPacer{To: 1, Over: time.Minute}).Pace(0, 0); w != 0 || stop {
		t.Errorf("first hit of a ramp from 0: %v, %v", w, stop)
	}
	// The second hit of a 0→1/s ramp over 60s is due at sqrt(2·60)s.
	w, _ := (RampPacer{To: 1, Over: time.Minute}).Pace(0, 1)
	if want := time.Duration(math.Sqrt(120) * float64(time.Second)); absDur(w-want) > time.Microsecond {
		t.Errorf("second hit of the ramp at %v, want %v", w, want)
	}
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func TestFirstNotDue(t *testing.T) {
	p := ConstantPacer{Rate: 100} // hit n due at n·10ms
	for _, tc := range []struct {
		el   time.Duration
		from uint64
		want uint64
	}{
		{0, 0, 1},                   // hit 0 due at 0, hit 1 not yet
		{time.Second, 0, 101},       // hits 0..100 due
		{time.Second, 200, 200},     // already ahead
		{10 * time.Second, 5, 1001}, // far behind
		{999 * time.Millisecond, 0, 100},
	} {
		if got := firstNotDue(p, tc.el, tc.from); got != tc.want {
			t.Errorf("firstNotDue(%v, %d) = %d, want %d", tc.el, tc.from, got, tc.want)
		}
	}
}

// TestScheduleDue checks each schedule's due times and that Pace agrees with
// them: waiting Pace(el, n) from any el lands exactly on Due(n), and a
// stopped pacer has no due time.
func TestScheduleDue(t *testing.T) {
	c := ConstantPacer{Rate: 200}
	for n, want := range map[uint64]time.Duration{0: 0, 1: 5 * time.Millisecond, 200: time.Second, 36000: 3 * time.Minute} {
		if got, ok := c.Due(n); !ok || got != want {
			t.Errorf("ConstantPacer{200}.Due(%d) = %v, %v; want %v", n, got, ok, want)
		}
	}
	// A ramp 0 → 100/s over 2 s has started 100 hits by 2 s (the area under
	// the rate), hit 25 at 1 s; then it holds 100/s.
	r := RampPacer{From: 0, To: 100, Over: 2 * time.Second}
	for n, want := range map[uint64]time.Duration{0: 0, 25: time.Second, 100: 2 * time.Second, 200: 3 * time.Second} {
		if got, ok := r.Due(n); !ok || (got-want).Abs() > time.Microsecond {
			t.Errorf("RampPacer.Due(%d) = %v, %v; want %v", n, got, ok, want)
		}
	}
	if _, ok := (RampPacer{From: 10, To: 0, Over: time.Second}).Due(6); ok {
		t.Error("a ramp down to zero that has given its 5 hits gives a 6th")
	}
	for _, s := range []Schedule{c, r, RampPacer{From: 50, To: 0, Over: time.Second}, RampPacer{From: 10, To: 300, Over: 1500 * time.Millisecond}} {
		for n := uint64(0); n < 500; n += 7 {
			due, ok := s.Due(n)
			for _, el := range []time.Duration{0, time.Second / 3, time.Second, 4 * time.Second} {
				w, stop := s.Pace(el, n)
				if stop != !ok {
					t.Fatalf("%+v hit %d at %v: stop %v but Due ok %v", s, n, el, stop, ok)
				}
				if ok && el+w != max(due, el) {
					t.Fatalf("%+v hit %d at %v: Pace waits %v, Due %v", s, n, el, w, due)
				}
			}
		}
	}
}
