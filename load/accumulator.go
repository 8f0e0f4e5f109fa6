package load

import (
	"math"
	"slices"
	"time"
)

// Second is the load of one second of an attack, keyed by request start:
// Index i covers requests that started in [i s, i+1 s). Latency percentiles
// are exact (nearest rank over every latency of the second) and include
// failed requests, as bombardier's do; they are zero when Requests is 0.
// The Success percentiles are over the successful requests only (a timeout
// counts at its timeout in P99, not at all in SuccessP99); they are zero and
// meaningless when Successes is 0.
type Second struct {
	Index     int
	Requests  int
	Successes int
	Errors    int
	// ErrorsByKind counts failures by kind; nil when there were none.
	ErrorsByKind                       map[ErrorKind]int
	Bytes                              int64
	P50, P90, P99, Max                 time.Duration
	SuccessP50, SuccessP90, SuccessP99 time.Duration
	// Missed counts paced requests that were due in this second (or, in a
	// closed loop, given up in it) but never sent; see Summary.Missed.
	Missed int
	// SuccessLatencies are the successful requests' latencies, sorted, so
	// percentiles over several seconds can be taken over pooled samples.
	// Read only: they share the accumulator's storage.
	SuccessLatencies []time.Duration
}

// Summary is the whole-run result of an attack.
type Summary struct {
	// Started is the wall-clock time at offset 0 (zero when unknown, e.g.
	// from an Accumulator fed without it).
	Started   time.Time
	Requests  int64
	Successes int64
	Errors    int64
	// ErrorsByKind counts failures by kind; nil when there were none.
	ErrorsByKind map[ErrorKind]int64
	Bytes        int64
	// Duration is from offset 0 to the completion of the last request.
	Duration time.Duration
	// RPS is Requests / Duration.
	RPS                      float64
	Mean, P50, P90, P99, Max time.Duration
	// SuccessP50, SuccessP90 and SuccessP99 are over the successful requests
	// only; zero and meaningless when Successes is 0.
	SuccessP50, SuccessP90, SuccessP99 time.Duration
	// Missed counts paced requests that were due but never sent: in a closed
	// loop because every worker was busy (see Options.Rate), in an open loop
	// because MaxInFlight requests were in flight or the generator could not
	// send them on time (see OpenLoop). Always zero without a rate.
	Missed int64
	// Dropped counts results not passed to the result callback because it
	// fell too far behind; they are still in this summary and in Seconds.
	Dropped int64
	// MaxInFlight is the open loop's cap on requests in flight (Options
	// after defaults), PeakInFlight the most there were at once; both zero
	// for a closed loop.
	MaxInFlight, PeakInFlight int
	// Seconds are the per-second buckets of every request, complete whatever
	// the callback dropped; nil when the generator has no per-request results
	// (bombardier) or from Accumulator.Summary.
	Seconds []Second
}

// ErrorRate is Errors / Requests (0 without requests).
func (s Summary) ErrorRate() float64 {
	if s.Requests == 0 {
		return 0
	}
	return float64(s.Errors) / float64(s.Requests)
}

// bucket is the mutable state of one second.
type bucket struct {
	requests, missed int
	kinds            [numKinds]int
	bytes            int64
	// lat holds every latency, ok those of the successful requests.
	lat, ok []time.Duration
	sorted  bool
}

func (b *bucket) add(r *Result) {
	b.requests++
	k := r.Err.index()
	b.kinds[k]++
	if k == 0 {
		b.ok = append(b.ok, r.Latency)
	}
	b.bytes += r.Bytes
	b.lat = append(b.lat, r.Latency)
	b.sorted = false
}

func (b *bucket) merge(o *bucket) {
	b.requests += o.requests
	b.missed += o.missed
	for i := range b.kinds {
		b.kinds[i] += o.kinds[i]
	}
	b.bytes += o.bytes
	b.lat = append(b.lat, o.lat...)
	b.ok = append(b.ok, o.ok...)
	b.sorted = false
}

func (b *bucket) sort() {
	if !b.sorted {
		slices.Sort(b.lat)
		slices.Sort(b.ok)
		b.sorted = true
	}
}

// Accumulator folds results into per-second buckets and a whole-run summary.
// It keeps every latency (8 bytes per request) so percentiles are exact. The
// zero value is ready to use; it is not safe for concurrent use.
type Accumulator struct {
	secs []bucket
	// end is the latest Start+Latency seen.
	end time.Duration
}

// Add folds one result in. Results may arrive in any order; a negative Start
// counts in second 0.
func (a *Accumulator) Add(r Result) { a.add(&r) }

func (a *Accumulator) add(r *Result) {
	a.bucket(r.Start).add(r)
	if e := r.Start + r.Latency; e > a.end {
		a.end = e
	}
}

// AddMissed counts n paced requests that were due at offset at but never
// sent. They are in Second.Missed, not in Requests.
func (a *Accumulator) AddMissed(at time.Duration, n int) {
	if n > 0 {
		a.bucket(at).missed += n
	}
}

func (a *Accumulator) bucket(at time.Duration) *bucket {
	i := 0
	if at > 0 {
		i = int(at / time.Second)
	}
	if i >= len(a.secs) {
		a.secs = append(a.secs, make([]bucket, i+1-len(a.secs))...)
	}
	return &a.secs[i]
}

// merge folds another accumulator in.
func (a *Accumulator) merge(o *Accumulator) {
	if len(o.secs) > len(a.secs) {
		a.secs = append(a.secs, make([]bucket, len(o.secs)-len(a.secs))...)
	}
	for i := range o.secs {
		a.secs[i].merge(&o.secs[i])
	}
	a.end = max(a.end, o.end)
}

// Seconds returns one Second per second from 0 to the last second with a
// request (or a missed one), empty seconds included, so a timeline has no
// gaps.
func (a *Accumulator) Seconds() []Second {
	out := make([]Second, len(a.secs))
	for i := range a.secs {
		b := &a.secs[i]
		s := Second{
			Index:     i,
			Requests:  b.requests,
			Successes: len(b.ok),
			Errors:    b.requests - len(b.ok),
			Bytes:     b.bytes,
			Missed:    b.missed,
		}
		for k := 1; k < numKinds; k++ {
			if b.kinds[k] > 0 {
				if s.ErrorsByKind == nil {
					s.ErrorsByKind = make(map[ErrorKind]int)
				}
				s.ErrorsByKind[kindAt(k)] = b.kinds[k]
			}
		}
		b.sort()
		s.P50, s.P90, s.P99 = percentile(b.lat, 0.50), percentile(b.lat, 0.90), percentile(b.lat, 0.99)
		s.SuccessP50, s.SuccessP90, s.SuccessP99 = percentile(b.ok, 0.50), percentile(b.ok, 0.90), percentile(b.ok, 0.99)
		s.SuccessLatencies = b.ok
		if n := len(b.lat); n > 0 {
			s.Max = b.lat[n-1]
		}
		out[i] = s
	}
	return out
}

// Summary returns the whole-run summary of what was added, Missed included.
// Started, Dropped and Seconds are zero: only the generator knows them.
func (a *Accumulator) Summary() Summary {
	var s Summary
	var kinds [numKinds]int64
	n, nok := 0, 0
	for i := range a.secs {
		n += len(a.secs[i].lat)
		nok += len(a.secs[i].ok)
	}
	all := make([]time.Duration, 0, n)
	ok := make([]time.Duration, 0, nok)
	var sum time.Duration
	for i := range a.secs {
		b := &a.secs[i]
		s.Requests += int64(b.requests)
		s.Successes += int64(len(b.ok))
		s.Missed += int64(b.missed)
		s.Bytes += b.bytes
		for k := range b.kinds {
			kinds[k] += int64(b.kinds[k])
		}
		for _, l := range b.lat {
			sum += l
		}
		all = append(all, b.lat...)
		ok = append(ok, b.ok...)
	}
	s.Errors = s.Requests - s.Successes
	for k := 1; k < numKinds; k++ {
		if kinds[k] > 0 {
			if s.ErrorsByKind == nil {
				s.ErrorsByKind = make(map[ErrorKind]int64)
			}
			s.ErrorsByKind[kindAt(k)] = kinds[k]
		}
	}
	slices.Sort(all)
	slices.Sort(ok)
	s.P50, s.P90, s.P99 = percentile(all, 0.50), percentile(all, 0.90), percentile(all, 0.99)
	s.SuccessP50, s.SuccessP90, s.SuccessP99 = percentile(ok, 0.50), percentile(ok, 0.90), percentile(ok, 0.99)
	if len(all) > 0 {
		s.Max = all[len(all)-1]
		s.Mean = sum / time.Duration(len(all))
	}
	s.Duration = a.end
	if a.end > 0 {
		s.RPS = float64(s.Requests) / a.end.Seconds()
	}
	return s
}

// percentile is the nearest-rank percentile of sorted: the smallest value
// with at least p of the values at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p*float64(n) - 1e-9)) // tolerate float noise at exact ranks
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}
