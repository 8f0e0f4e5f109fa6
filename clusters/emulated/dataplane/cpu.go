package dataplane

import (
	"container/heap"
	"context"
	"math"
	"sync"
	"time"
)

// Processor is a virtual-time model of a CPU-limited container serving
// CPU-bound requests: processor sharing across the running jobs, like the CFS
// bandwidth controller throttling a container at its CPU limit.
//
// With n jobs running under a limit of L cores, each job progresses at
// min(PerJob, L/n) CPU-seconds per second (PerJob is 1: a request runs on one
// thread), so the container uses min(n·PerJob, L) cores in total. When
// MaxRunning is set, jobs beyond it wait in FIFO order.
//
// Processor does no I/O and reads no clock: every method takes the current
// time, which must not go backwards. It is not safe for concurrent use; CPU
// drives it with a clock and a lock.
type Processor struct {
	limit  float64 // cores, +Inf when unlimited
	perJob float64 // cores one job can use
	maxRun int     // 0: unlimited

	started bool
	now     time.Time
	// v is the service every running job has attained since the processor
	// started (CPU-seconds): a job admitted at v0 with work w finishes when
	// v reaches v0+w (its tag), so running jobs finish in tag order.
	v       float64
	used    float64 // cumulative CPU-seconds consumed
	running jobHeap
	queue   []*Job
}

// Job is one unit of CPU work (a request's handler) in a Processor.
type Job struct {
	work  float64 // CPU-seconds
	tag   float64 // finish tag while running
	index int     // heap index while running, -1 otherwise
	state jobState
	done  chan struct{}
}

type jobState int

const (
	jobQueued jobState = iota
	jobRunning
	jobFinished
	jobCancelled
)

// Done is closed when the job has received all its CPU time.
func (j *Job) Done() <-chan struct{} { return j.done }

// Finished reports whether the job has received all its CPU time.
func (j *Job) Finished() bool { return j.state == jobFinished }

// NewProcessor returns a processor limited to limitMilli millicores (0 or
// less: unlimited) that runs at most maxRunning jobs at once (0: unlimited).
// A job uses at most one core.
func NewProcessor(limitMilli int64, maxRunning int) *Processor {
	limit := math.Inf(1)
	if limitMilli > 0 {
		limit = float64(limitMilli) / 1000
	}
	if maxRunning < 0 {
		maxRunning = 0
	}
	return &Processor{limit: limit, perJob: 1, maxRun: maxRunning}
}

// rate is the CPU-seconds per second each running job receives.
func (p *Processor) rate() float64 {
	n := len(p.running)
	if n == 0 {
		return 0
	}
	return math.Min(p.perJob, p.limit/float64(n))
}

// Submit adds a job needing work of CPU time at now.
func (p *Processor) Submit(now time.Time, work time.Duration) *Job {
	p.Advance(now)
	j := &Job{work: math.Max(work.Seconds(), 0), index: -1, done: make(chan struct{})}
	if j.work == 0 {
		j.state = jobFinished
		close(j.done)
		return j
	}
	p.queue = append(p.queue, j)
	p.admit()
	return j
}

// Cancel withdraws a job at now (its client gave up); the CPU time it
// received stays used. Cancelling a finished job does nothing.
func (p *Processor) Cancel(now time.Time, j *Job) {
	p.Advance(now)
	switch j.state {
	case jobRunning:
		heap.Remove(&p.running, j.index)
	case jobQueued:
		for i, q := range p.queue {
			if q == j {
				p.queue = append(p.queue[:i], p.queue[i+1:]...)
				break
			}
		}
	default:
		return
	}
	j.state = jobCancelled
	p.admit()
}

// admit moves queued jobs into service while there is room.
func (p *Processor) admit() {
	for len(p.queue) > 0 && (p.maxRun == 0 || len(p.running) < p.maxRun) {
		j := p.queue[0]
		p.queue[0] = nil
		p.queue = p.queue[1:]
		j.state = jobRunning
		j.tag = p.v + j.work
		heap.Push(&p.running, j)
	}
}

// Advance moves the processor to now, finishing every job whose work is
// done by then (in order, so each completion speeds up the others).
func (p *Processor) Advance(now time.Time) {
	if !p.started {
		p.started, p.now = true, now
		return
	}
	for len(p.running) > 0 {
		r := p.rate()
		top := p.running[0]
		need := durationCeil((top.tag - p.v) / r)
		if at := p.now.Add(need); !at.After(now) {
			p.used += float64(len(p.running)) * (top.tag - p.v)
			p.v = top.tag
			p.now = at
			for len(p.running) > 0 && p.running[0].tag <= p.v+1e-9 {
				j := heap.Pop(&p.running).(*Job)
				j.state = jobFinished
				close(j.done)
			}
			p.admit()
			continue
		}
		dt := now.Sub(p.now).Seconds()
		if dt > 0 {
			p.v += r * dt
			p.used += float64(len(p.running)) * r * dt
		}
		break
	}
	if now.After(p.now) {
		p.now = now
	}
}

// NextEvent is when the next running job finishes if nothing else happens;
// ok is false when nothing runs.
func (p *Processor) NextEvent() (at time.Time, ok bool) {
	if len(p.running) == 0 {
		return time.Time{}, false
	}
	return p.now.Add(durationCeil((p.running[0].tag - p.v) / p.rate())), true
}

// Used is the CPU time consumed up to now.
func (p *Processor) Used(now time.Time) time.Duration {
	p.Advance(now)
	return time.Duration(p.used * float64(time.Second))
}

// Load is the number of running and queued jobs.
func (p *Processor) Load() (running, queued int) { return len(p.running), len(p.queue) }

// durationCeil converts seconds to a Duration, rounding up so a timer set
// for it never fires before the work is done.
func durationCeil(s float64) time.Duration {
	if s <= 0 {
		return 0
	}
	if s > float64(math.MaxInt64/int64(time.Second)) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(math.Ceil(s * float64(time.Second)))
}

type jobHeap []*Job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].tag < h[j].tag }
func (h jobHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *jobHeap) Push(x any) {
	j := x.(*Job)
	j.index = len(*h)
	*h = append(*h, j)
}
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = nil
	j.index = -1
	*h = old[:len(old)-1]
	return j
}

// CPU drives a Processor with a clock: Do blocks its caller for as long as
// the work takes under processor sharing, using one timer, not real CPU.
type CPU struct {
	clock Clock

	mu      sync.Mutex
	p       *Processor
	timer   Timer
	timerAt time.Time
	closed  bool
}

// NewCPU returns a CPU limited to limitMilli millicores (0: unlimited)
// running at most maxRunning jobs at once (0: unlimited).
func NewCPU(clock Clock, limitMilli int64, maxRunning int) *CPU {
	c := &CPU{clock: clock, p: NewProcessor(limitMilli, maxRunning)}
	c.p.Advance(clock.Now())
	return c
}

// Do consumes work of CPU time. It returns nil when the work is done, or
// ctx's error when ctx ends first (the client gave up), releasing the job's
// share of the CPU.
func (c *CPU) Do(ctx context.Context, work time.Duration) error {
	j := c.Submit(work)
	select {
	case <-j.Done():
		return nil
	case <-ctx.Done():
		c.Cancel(j)
		if j.Finished() {
			return nil
		}
		return ctx.Err()
	}
}

// Submit starts a job without waiting for it.
func (c *CPU) Submit(work time.Duration) *Job {
	c.mu.Lock()
	defer c.mu.Unlock()
	j := c.p.Submit(c.clock.Now(), work)
	c.scheduleLocked()
	return j
}

// Cancel withdraws a job.
func (c *CPU) Cancel(j *Job) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.p.Cancel(c.clock.Now(), j)
	c.scheduleLocked()
}

// Used is the CPU time consumed so far.
func (c *CPU) Used() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	u := c.p.Used(c.clock.Now())
	c.scheduleLocked()
	return u
}

// Load is the number of running and queued jobs.
func (c *CPU) Load() (running, queued int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.p.Load()
}

// Close stops the timer; jobs still pending never finish (callers cancel
// them through their contexts).
func (c *CPU) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	if c.timer != nil {
		c.timer.Stop()
		c.timer = nil
	}
}

func (c *CPU) fire() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.timer = nil
	c.timerAt = time.Time{}
	c.p.Advance(c.clock.Now())
	c.scheduleLocked()
}

// scheduleLocked keeps exactly one timer set for the processor's next event.
func (c *CPU) scheduleLocked() {
	if c.closed {
		return
	}
	at, ok := c.p.NextEvent()
	if c.timer != nil {
		if ok && at.Equal(c.timerAt) {
			return
		}
		c.timer.Stop()
		c.timer = nil
	}
	if !ok {
		return
	}
	c.timerAt = at
	c.timer = c.clock.AfterFunc(at.Sub(c.clock.Now()), c.fire)
}
