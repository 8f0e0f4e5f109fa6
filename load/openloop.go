package load

import (
	"context"
	"sync"
	"time"
)

// openStats are an open loop's counts beyond the summary.
type openStats struct {
	// late and full split Summary.Missed: hits the generator could not send
	// within OpenLoopMaxLag, and hits due with MaxInFlight in flight.
	late, full int64
	peak       int
}

// openLoop sends every hit of the plan at its scheduled time, from this
// goroutine, to an idle worker of a pool of at most maxInFlight (each with
// its own connection); it returns the pool's workers once the schedule is
// over and every request completed, or ctx is done.
func (r *run) openLoop(ctx context.Context, maxInFlight int) ([]*worker, openStats) {
	var wg sync.WaitGroup
	pl := &pool{max: maxInFlight, target: r.target}
	pl.start = func(w *worker) {
		wg.Go(func() {
			defer w.client.close()
			w.serve(ctx, r, pl)
		})
	}
	stop := context.AfterFunc(ctx, pl.interrupt)
	defer stop()

	var st openStats
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	sc := scheduler{
		plan: r.plan,
		now:  func() time.Duration { return time.Since(r.start) },
		sleep: func(d time.Duration) bool {
			timer.Reset(d)
			select {
			case <-timer.C:
				return true
			case <-ctx.Done():
				return false
			}
		},
		send: func(at time.Duration) bool {
			w := pl.get()
			if w == nil {
				return false
			}
			w.jobs <- at // never blocks: an idle worker has no job queued
			return true
		},
		miss: func(at time.Duration, late bool) {
			r.misses.AddMissed(at, 1) // only this goroutine touches it now
			if late {
				st.late++
			} else {
				st.full++
			}
		},
	}
	sc.run()
	pl.close()
	wg.Wait()
	st.peak = pl.peak
	return pl.all, st
}

// scheduler walks an open loop's plan. It is pure but for the functions it
// is given, so tests drive it with a virtual clock.
type scheduler struct {
	plan plan
	// now is the offset from the attack's start.
	now func() time.Duration
	// sleep waits d (> 0); false means the attack is cancelled.
	sleep func(d time.Duration) bool
	// send hands the request scheduled at offset at to an idle connection;
	// false when MaxInFlight requests are in flight.
	send func(at time.Duration) bool
	// miss counts a request scheduled at offset at that was not sent: late
	// when the scheduler reached it more than OpenLoopMaxLag after its time.
	miss func(at time.Duration, late bool)
}

// run sends each hit of each paced phase at its due time, in order, and
// sleeps through idle phases. A hit that is due while every connection is
// busy, or that the scheduler reaches too late, is missed and never sent
// later: the schedule does not depend on the responses.
func (s scheduler) run() {
	for _, ph := range s.plan {
		if ph.pacer == nil { // idle
			if d := ph.end - s.now(); d > 0 && !s.sleep(d) {
				return
			}
			continue
		}
		for n := uint64(0); ; n++ {
			due, ok := ph.pacer.Due(n)
			if !ok || due >= ph.end-ph.start {
				break
			}
			at := ph.start + due
			if d := at - s.now(); d > 0 && !s.sleep(d) {
				return
			}
			switch {
			case s.now()-at > OpenLoopMaxLag:
				s.miss(at, true)
			case !s.send(at):
				s.miss(at, false)
			}
		}
	}
}

// pool holds an open loop's workers: idle ones are reused last-in first-out,
// so the fewest connections stay warm, and new ones are started up to max.
type pool struct {
	target *target
	max    int
	start  func(*worker)

	mu          sync.Mutex
	idle        []*worker
	all         []*worker
	peak        int
	interrupted bool
}

// get returns an idle worker, starting one if fewer than max exist, or nil.
func (p *pool) get() *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	var w *worker
	if n := len(p.idle); n > 0 {
		w, p.idle = p.idle[n-1], p.idle[:n-1]
	} else if len(p.all) < p.max {
		w = &worker{id: len(p.all), client: client{t: p.target}, jobs: make(chan time.Duration, 1)}
		if p.interrupted {
			w.client.interrupt()
		}
		p.all = append(p.all, w)
		p.start(w)
	} else {
		return nil
	}
	p.peak = max(p.peak, len(p.all)-len(p.idle))
	return w
}

// put makes a worker idle again.
func (p *pool) put(w *worker) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.idle = append(p.idle, w)
}

// interrupt cuts every request in flight short; the attack is cancelled.
func (p *pool) interrupt() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.interrupted = true
	for _, w := range p.all {
		w.client.interrupt()
	}
}

// close tells every worker that no more jobs come.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.all {
		close(w.jobs)
	}
}

// serve runs an open-loop worker: for each scheduled offset it sends one
// request, with the deadline and the latency counted from the scheduled
// time, records it and becomes idle again.
func (w *worker) serve(ctx context.Context, r *run, pl *pool) {
	defer w.flush(ctx, r, true)
	for {
		at, ok := w.next(ctx, r)
		if !ok {
			return
		}
		sched := r.start.Add(at)
		var res Result
		err := w.client.do(ctx, sched.Add(r.timeout), &res)
		end := time.Since(r.start)
		if err != nil && ctx.Err() != nil {
			continue // cut short by cancellation: not a result
		}
		res.Start, res.Wall, res.Latency = at, sched, end-at
		w.record(ctx, r, &res, err)
		pl.put(w)
	}
}

// next waits for the next job. Before waiting long it hands over pending
// results, so an idle worker does not hold them back.
func (w *worker) next(ctx context.Context, r *run) (time.Duration, bool) {
	if len(w.batch) > 0 {
		if w.timer == nil {
			w.timer = time.NewTimer(resultFlush)
		} else {
			w.timer.Reset(resultFlush)
		}
		select {
		case at, ok := <-w.jobs:
			w.timer.Stop()
			return at, ok
		case <-w.timer.C:
			w.sent = time.Since(r.start)
			w.flush(ctx, r, false)
		}
	}
	at, ok := <-w.jobs
	return at, ok
}
