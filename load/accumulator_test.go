package load

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"
)

func ms(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

func TestAccumulatorSeconds(t *testing.T) {
	var a Accumulator
	// Second 0: latencies 1..100ms, two of them 5xx and one timeout.
	for i := 1; i <= 100; i++ {
		r := Result{Start: ms(float64(i) * 9), Latency: ms(float64(i)), Status: 200, Bytes: 3}
		switch i {
		case 10, 20:
			r.Status, r.Err = 503, KindHTTP5xx
		case 100:
			r.Status, r.Err = 0, KindTimeout
		}
		a.Add(r)
	}
	// Second 1 is empty. Second 2: one refused connection.
	a.Add(Result{Start: ms(2500), Latency: ms(0.2), Err: KindRefused})

	got := a.Seconds()
	// The successes' latencies, sorted: 1..99 ms without 10 and 20.
	if ok := got[0].SuccessLatencies; len(ok) != 97 || !slices.IsSorted(ok) || ok[0] != ms(1) || ok[9] != ms(11) || ok[96] != ms(99) {
		t.Errorf("second 0 success latencies %v", ok)
	}
	for i := range got {
		if i > 0 && len(got[i].SuccessLatencies) != 0 {
			t.Errorf("second %d success latencies %v, want none", i, got[i].SuccessLatencies)
		}
		got[i].SuccessLatencies = nil
	}
	want := []Second{
		{Index: 0, Requests: 100, Successes: 97, Errors: 3,
			ErrorsByKind: map[ErrorKind]int{KindHTTP5xx: 2, KindTimeout: 1}, Bytes: 300,
			P50: ms(50), P90: ms(90), P99: ms(99), Max: ms(100),
			// Over 1..99 ms without 10 and 20.
			SuccessP50: ms(51), SuccessP90: ms(90), SuccessP99: ms(99)},
		{Index: 1},
		{Index: 2, Requests: 1, Errors: 1, ErrorsByKind: map[ErrorKind]int{KindRefused: 1},
			P50: ms(0.2), P90: ms(0.2), P99: ms(0.2), Max: ms(0.2)},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Seconds() =\n%+v\nwant\n%+v", got, want)
	}

	s := a.Summary()
	wantS := Summary{
		Requests: 101, Successes: 97, Errors: 4,
		ErrorsByKind: map[ErrorKind]int64{KindHTTP5xx: 2, KindTimeout: 1, KindRefused: 1},
		Bytes:        300,
		// The last request to end is the refused one: 2.5s + 0.2ms.
		Duration: ms(2500.2),
		P50:      ms(50), P90: ms(90), P99: ms(99), Max: ms(100),
		SuccessP50: ms(51), SuccessP90: ms(90), SuccessP99: ms(99),
	}
	wantS.RPS = 101 / wantS.Duration.Seconds()
	var sum time.Duration
	for i := 1; i <= 100; i++ {
		sum += ms(float64(i))
	}
	wantS.Mean = (sum + ms(0.2)) / 101
	if !reflect.DeepEqual(s, wantS) {
		t.Errorf("Summary() =\n%+v\nwant\n%+v", s, wantS)
	}
	if r := s.ErrorRate(); r != 4.0/101 {
		t.Errorf("ErrorRate = %v", r)
	}
}

// TestAccumulatorSuccessPercentiles: when most requests time out, the
// percentiles of all requests are the timeout's, those of the successful
// ones say how fast the app answered when it did; a second without a
// success has none.
func TestAccumulatorSuccessPercentiles(t *testing.T) {
	var a Accumulator
	for i := range 100 {
		r := Result{Start: ms(float64(i) * 5), Latency: 5 * time.Second, Err: KindTimeout}
		if i%10 == 0 {
			r.Latency, r.Status, r.Err = ms(float64(10+i/10)), 200, KindNone
		}
		a.Add(r)
	}
	for i := range 10 { // second 1: all fail
		a.Add(Result{Start: time.Second + ms(float64(i)), Latency: 5 * time.Second, Err: KindTimeout})
	}
	a.AddMissed(ms(1500), 3)
	a.AddMissed(ms(2500), 0) // nothing: no new second

	secs := a.Seconds()
	if len(secs) != 2 {
		t.Fatalf("%d seconds, want 2", len(secs))
	}
	s0, s1 := secs[0], secs[1]
	if s0.Successes != 10 || s0.P50 != 5*time.Second || s0.P99 != 5*time.Second {
		t.Errorf("second 0: %d successes, p50 %v p99 %v; want 10, 5s, 5s", s0.Successes, s0.P50, s0.P99)
	}
	// Successes took 10..19 ms: nearest rank 5 of 10 is 14 ms, rank 10 is 19 ms.
	if s0.SuccessP50 != ms(14) || s0.SuccessP90 != ms(18) || s0.SuccessP99 != ms(19) {
		t.Errorf("second 0 success p50/p90/p99 %v %v %v; want 14ms 18ms 19ms", s0.SuccessP50, s0.SuccessP90, s0.SuccessP99)
	}
	if s1.Successes != 0 || s1.SuccessP50 != 0 || s1.SuccessP99 != 0 || s1.Missed != 3 || s1.Requests != 10 {
		t.Errorf("second 1: %+v; want 10 requests, no success (zero success percentiles), 3 missed", s1)
	}
	sum := a.Summary()
	if sum.Requests != 110 || sum.Successes != 10 || sum.Missed != 3 {
		t.Errorf("summary: %d requests %d successes %d missed; want 110, 10, 3", sum.Requests, sum.Successes, sum.Missed)
	}
	if sum.P50 != 5*time.Second || sum.SuccessP50 != ms(14) || sum.SuccessP99 != ms(19) {
		t.Errorf("summary p50 %v success p50 %v p99 %v; want 5s, 14ms, 19ms", sum.P50, sum.SuccessP50, sum.SuccessP99)
	}
}

func TestAccumulatorEmpty(t *testing.T) {
	var a Accumulator
	if s := a.Seconds(); len(s) != 0 {
		t.Errorf("Seconds() = %v", s)
	}
	if s := a.Summary(); !reflect.DeepEqual(s, Summary{}) {
		t.Errorf("Summary() = %+v", s)
	}
	if (Summary{}).ErrorRate() != 0 {
		t.Error("ErrorRate of nothing")
	}
}

// TestAccumulatorMatchesSort checks the percentiles against a brute-force
// nearest rank on random data, added out of order, and that merging per-worker
// accumulators gives the same as one accumulator.
func TestAccumulatorMatchesSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var one Accumulator
	parts := make([]Accumulator, 4)
	bySecond, okBySecond := map[int][]time.Duration{}, map[int][]time.Duration{}
	var all, okAll []time.Duration
	for i := range 5000 {
		r := Result{
			Start:   time.Duration(rng.Int64N(int64(7 * time.Second))),
			Latency: time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)),
			Status:  200,
		}
		if rng.IntN(3) == 0 { // a third fail, slower
			r.Status, r.Err, r.Latency = 503, KindHTTP5xx, r.Latency*3
		}
		one.Add(r)
		parts[i%len(parts)].Add(r)
		sec := int(r.Start / time.Second)
		bySecond[sec] = append(bySecond[sec], r.Latency)
		all = append(all, r.Latency)
		if !r.Failed() {
			okBySecond[sec] = append(okBySecond[sec], r.Latency)
			okAll = append(okAll, r.Latency)
		}
		if i%100 == 0 { // misses in merged parts add up too
			parts[i%len(parts)].AddMissed(r.Start, 1)
			one.AddMissed(r.Start, 1)
		}
	}
	nearest := func(v []time.Duration, p float64) time.Duration {
		v = slices.Clone(v)
		slices.Sort(v)
		for i, x := range v {
			if float64(i+1) >= p*float64(len(v)) {
				return x
			}
		}
		return 0
	}
	total := 0
	for _, s := range one.Seconds() {
		v := bySecond[s.Index]
		total += s.Requests
		ok := okBySecond[s.Index]
		if s.Requests != len(v) || s.P50 != nearest(v, .5) || s.P90 != nearest(v, .9) ||
			s.P99 != nearest(v, .99) || s.Max != slices.Max(v) || s.Successes != len(ok) ||
			s.SuccessP50 != nearest(ok, .5) || s.SuccessP90 != nearest(ok, .9) || s.SuccessP99 != nearest(ok, .99) {
			t.Errorf("second %d: %+v", s.Index, s)
		}
	}
	if total != 5000 {
		t.Errorf("seconds sum to %d requests", total)
	}
	sum := one.Summary()
	if sum.P50 != nearest(all, .5) || sum.P99 != nearest(all, .99) || sum.Max != slices.Max(all) ||
		sum.SuccessP50 != nearest(okAll, .5) || sum.SuccessP99 != nearest(okAll, .99) || sum.Missed != 50 {
		t.Errorf("summary %+v", sum)
	}

	var merged Accumulator
	for i := range parts {
		merged.merge(&parts[i])
	}
	if !reflect.DeepEqual(merged.Summary(), sum) || !reflect.DeepEqual(merged.Seconds(), one.Seconds()) {
		t.Error("merged accumulators differ from one accumulator")
	}
	// Adding after reading percentiles re-sorts.
	one.Add(Result{Start: 0, Latency: time.Hour})
	if got := one.Seconds()[0].Max; got != time.Hour {
		t.Errorf("max after a late add: %v", got)
	}
}

func TestPercentile(t *testing.T) {
	v := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tc := range []struct {
		p    float64
		want time.Duration
	}{{0, 1}, {0.1, 1}, {0.11, 2}, {0.5, 5}, {0.9, 9}, {0.99, 10}, {1, 10}} {
		if got := percentile(v, tc.p); got != tc.want {
			t.Errorf("p%v = %v, want %v", tc.p*100, got, tc.want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing")
	}
}
