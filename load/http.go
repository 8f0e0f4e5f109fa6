package load

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Generator runs one attack. Run blocks until the attack ends (its duration or
// steps are over and requests in flight completed) or ctx is done, calling out
// (if not nil) with each result, and returns the whole-run summary. On ctx
// cancellation it returns the summary so far together with the context's
// error; requests cut short by the cancellation are not reported.
type Generator interface {
	Run(ctx context.Context, opts Options, out func(Result)) (Summary, error)
}

// Option configures a generator.
type Option func(*config)

type config struct {
	log *slog.Logger
}

func newConfig(opts []Option) config {
	var c config
	for _, o := range opts {
		o(&c)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// HTTP is the built-in closed-loop generator.
//
// Each worker owns one keep-alive HTTP/1.1 connection and has at most one
// request in flight; it sends the next as soon as the previous completes (or,
// when paced, when the pacer says). See client for how requests are sent.
//
// Results go to the callback from a single goroutine, in batches: each worker
// collects up to resultBatch results (or resultFlush worth of time) and hands
// the batch over without blocking. If the consumer falls so far behind that
// resultBuffer batches are queued, further batches are dropped and counted in
// Summary.Dropped rather than slowing the workers: a slow consumer must not
// change the load. The summary itself is counted on the workers and is always
// complete. Results therefore arrive late by up to one request's latency plus
// resultFlush, and not in Start order.
type HTTP struct {
	cfg config
}

var _ Generator = (*HTTP)(nil)

// NewHTTP returns the built-in generator.
func NewHTTP(opts ...Option) *HTTP { return &HTTP{cfg: newConfig(opts)} }

const (
	resultBatch = 256
	resultFlush = 100 * time.Millisecond
)

// resultBuffer is how many batches may wait for the callback (a variable for
// tests).
var resultBuffer = 1024

// Run implements Generator.
func (g *HTTP) Run(ctx context.Context, opts Options, out func(Result)) (Summary, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return Summary{}, err
	}
	t, err := newTarget(o)
	if err != nil {
		return Summary{}, err
	}
	p := newPlan(o)
	r := &run{
		plan:    p,
		target:  t,
		timeout: o.Timeout,
		hits:    make([]uint64, len(p)),
		out:     out,
	}
	var delivered chan struct{}
	if out != nil {
		r.batches = make(chan []Result, resultBuffer)
		r.free = make(chan []Result, resultBuffer)
		delivered = make(chan struct{})
		go r.deliver(delivered)
	}

	g.cfg.log.DebugContext(ctx, "load: attack starting", "url", o.URL, "host", o.Host, "mode", o.Mode,
		"workers", p.maxConns(), "maxInFlight", o.MaxInFlight, "duration", p.end(), "timeout", o.Timeout,
		"rate", o.Rate, "steps", len(o.Steps))
	r.start = time.Now()
	var workers []*worker
	var ol openStats
	if o.Mode == OpenLoop {
		workers, ol = r.openLoop(ctx, o.MaxInFlight)
	} else {
		workers = r.closedLoop(ctx)
	}
	if out != nil {
		close(r.batches)
		<-delivered
	}

	acc := &r.misses // no worker touches it any more
	for _, w := range workers {
		acc.merge(&w.acc)
	}
	s := acc.Summary()
	s.Started = r.start
	s.Dropped = r.dropped.Load()
	s.Seconds = acc.Seconds()
	if o.Mode == OpenLoop {
		s.MaxInFlight, s.PeakInFlight = o.MaxInFlight, ol.peak
	}
	g.cfg.log.DebugContext(ctx, "load: attack done", "url", o.URL, "requests", s.Requests,
		"errors", s.Errors, "rps", s.RPS, "p99", s.P99, "missed", s.Missed, "dropped", s.Dropped,
		"missedLate", ol.late, "missedFull", ol.full, "peakInFlight", ol.peak)
	if err := ctx.Err(); err != nil {
		return s, fmt.Errorf("load: attack on %s: %w", o.URL, err)
	}
	return s, nil
}

// closedLoop runs the plan's phases with one goroutine per worker, each
// sending its next request when the previous one completed (and the pacer, if
// any, allows).
func (r *run) closedLoop(ctx context.Context) []*worker {
	workers := make([]*worker, r.plan.maxConns())
	for i := range workers {
		workers[i] = &worker{id: i, client: client{t: r.target}}
	}
	// On cancellation, interrupt requests in flight.
	stop := context.AfterFunc(ctx, func() {
		for _, w := range workers {
			w.client.interrupt()
		}
	})
	defer stop()
	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() {
			defer w.client.close()
			w.run(ctx, r)
		})
	}
	wg.Wait()
	return workers
}

// run is the shared state of one attack.
type run struct {
	plan    plan
	start   time.Time
	target  *target
	timeout time.Duration

	mu   sync.Mutex
	hits []uint64 // per phase, under mu
	// misses counts missed requests (only), under mu.
	misses Accumulator

	out     func(Result)
	batches chan []Result
	free    chan []Result
	dropped atomic.Int64
}

// claim takes the next paced hit of phase i at offset el. It returns how long
// to wait before sending it, or ok false when the phase has no further hit.
func (r *run) claim(i int, el time.Duration) (wait time.Duration, ok bool) {
	ph := &r.plan[i]
	local := el - ph.start
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.hits[i]
	wait, stop := ph.pacer.Pace(local, h)
	if stop || local+wait >= ph.end-ph.start {
		return 0, false
	}
	if wait == 0 {
		// Behind schedule. Keep at most one overdue hit per worker of the
		// phase, drop the rest.
		burst := uint64(max(ph.conns, 1))
		if m := firstNotDue(ph.pacer, local, h+burst); m > h+burst {
			skip := m - burst - h
			r.misses.AddMissed(el, int(skip))
			h += skip
		}
	}
	r.hits[i] = h + 1
	return wait, true
}

// firstNotDue returns the smallest hit count m >= from for which the pacer
// says to wait (or stops) at elapsed, by exponential then binary search.
func firstNotDue(p Pacer, elapsed time.Duration, from uint64) uint64 {
	due := func(m uint64) bool {
		w, stop := p.Pace(elapsed, m)
		return !stop && w == 0
	}
	if !due(from) {
		return from
	}
	lo, step := from, uint64(1) // due(lo) holds
	hi := lo + step
	for due(hi) {
		lo = hi
		step *= 2
		hi = lo + step
	}
	for hi-lo > 1 { // due(lo), !due(hi)
		mid := lo + (hi-lo)/2
		if due(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// deliver passes batches to the callback from one goroutine.
func (r *run) deliver(done chan<- struct{}) {
	defer close(done)
	for b := range r.batches {
		for i := range b {
			r.out(b[i])
		}
		clear(b) // drop header maps
		select {
		case r.free <- b[:0]:
		default:
		}
	}
}

// worker is one closed-loop client. Its accumulator is private, so the hot
// path takes no lock.
type worker struct {
	id     int
	client client
	// jobs carries the scheduled offsets of an open-loop worker's requests.
	jobs  chan time.Duration
	acc   Accumulator
	batch []Result
	sent  time.Duration // offset of the last batch hand-over
	timer *time.Timer
}

func (w *worker) run(ctx context.Context, r *run) {
	defer w.flush(ctx, r, true)
	phase := 0
	for {
		if ctx.Err() != nil {
			return
		}
		el := time.Since(r.start)
		var ok bool
		if phase, ok = r.plan.at(el, phase); !ok {
			return
		}
		ph := &r.plan[phase]
		if w.id >= ph.conns {
			if !w.sleep(ctx, r, ph.end-el) {
				return
			}
			continue
		}
		if ph.pacer != nil {
			wait, ok := r.claim(phase, el)
			if !ok {
				if !w.sleep(ctx, r, ph.end-el) {
					return
				}
				continue
			}
			if wait > 0 && !w.sleep(ctx, r, wait) {
				return
			}
		}
		var res Result
		t0 := time.Now()
		err := w.client.do(ctx, t0.Add(r.timeout), &res)
		res.Latency = time.Since(t0)
		if err != nil && ctx.Err() != nil {
			return // cut short by cancellation: not a result
		}
		res.Start = t0.Sub(r.start)
		res.Wall = r.start.Add(res.Start)
		w.record(ctx, r, &res, err)
	}
}

// record classifies a completed request and adds it to the worker's
// accumulator and, with a callback, to its batch.
func (w *worker) record(ctx context.Context, r *run, res *Result, err error) {
	if err != nil {
		res.Err = ClassifyError(err)
	} else {
		res.Err = ClassifyStatus(res.Status)
	}
	w.acc.add(res)
	if r.out != nil {
		w.batch = append(w.batch, *res)
		if len(w.batch) >= resultBatch || res.Start-w.sent >= resultFlush {
			w.sent = res.Start
			w.flush(ctx, r, false)
		}
	}
}

// sleep waits d or until ctx is done (false). Before a long sleep it hands
// over pending results so they are not held back.
func (w *worker) sleep(ctx context.Context, r *run, d time.Duration) bool {
	if d >= resultFlush && len(w.batch) > 0 {
		w.sent = time.Since(r.start)
		w.flush(ctx, r, false)
	}
	if d <= 0 {
		return ctx.Err() == nil
	}
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	select {
	case <-w.timer.C:
		return true
	case <-ctx.Done():
		w.timer.Stop()
		return false
	}
}

// flush hands the pending batch to the delivery goroutine. During the attack
// it never blocks (a full queue drops the batch); the final flush waits,
// since this worker's load is over, unless ctx is done.
func (w *worker) flush(ctx context.Context, r *run, final bool) {
	if r.out == nil || len(w.batch) == 0 {
		return
	}
	if final {
		if ctx.Err() == nil {
			r.batches <- w.batch
		} else {
			select {
			case r.batches <- w.batch:
			default:
				r.dropped.Add(int64(len(w.batch)))
			}
		}
		w.batch = nil
		return
	}
	select {
	case r.batches <- w.batch:
		select {
		case w.batch = <-r.free:
		default:
			w.batch = make([]Result, 0, resultBatch)
		}
	default:
		r.dropped.Add(int64(len(w.batch)))
		clear(w.batch)
		w.batch = w.batch[:0]
	}
}
