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
	want := []Second{
		{Index: 0, Requests: 100, Successes: 97, Errors: 3,
			ErrorsByKind: map[ErrorKind]int{KindHTTP5xx: 2, KindTimeout: 1}, Bytes: 300,
			P50: ms(50), P90: ms(90), P99: ms(99), Max: ms(100)},
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
	bySecond := map[int][]time.Duration{}
	var all []time.Duration
	for i := range 5000 {
		r := Result{
			Start:   time.Duration(rng.Int64N(int64(7 * time.Second))),
			Latency: time.Duration(rng.ExpFloat64() * float64(20*time.Millisecond)),
			Status:  200,
		}
		one.Add(r)
		parts[i%len(parts)].Add(r)
		sec := int(r.Start / time.Second)
		bySecond[sec] = append(bySecond[sec], r.Latency)
		all = append(all, r.Latency)
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
		if s.Requests != len(v) || s.P50 != nearest(v, .5) || s.P90 != nearest(v, .9) ||
			s.P99 != nearest(v, .99) || s.Max != slices.Max(v) {
			t.Errorf("second %d: %+v", s.Index, s)
		}
	}
	if total != 5000 {
		t.Errorf("seconds sum to %d requests", total)
	}
	sum := one.Summary()
	if sum.P50 != nearest(all, .5) || sum.P99 != nearest(all, .99) || sum.Max != slices.Max(all) {
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
