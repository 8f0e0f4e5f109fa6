package dataplane

import (
	"container/heap"
	"context"
	"math"
	"sort"
	"sync"
	"time"
)

// Processor is a virtual-time model of CPU-limited containers serving
// CPU-bound requests on one node: processor sharing across the running jobs,
// like the CFS bandwidth controller throttling a container at its CPU limit,
// and, when the node's capacity is set, weighted fair sharing of the node's
// cores between its containers (cgroup cpu.weight from the CPU request).
//
// A container (Group) with n running jobs under a limit of L cores demands
// d = min(n·PerJob, L) cores (PerJob is 1: a request runs on one thread).
// When the node's demands add up to no more than its capacity C, every
// container gets its demand. Otherwise the node's cores are shared max-min
// fairly in proportion to the containers' weights: container g gets
// min(d_g, θ·w_g) with θ such that the shares add up to C, so no container
// gets more than it demands or more than its limit, and the node never gives
// more than C. Within a container the jobs share its cores equally. When
// MaxRunning is set, jobs beyond it wait in FIFO order.
//
// Processor does no I/O and reads no clock: every method takes the current
// time, which must not go backwards. It is not safe for concurrent use; CPU
// and NodeCPU drive it with a clock and a lock.
type Processor struct {
	capacity float64 // node cores, +Inf when unlimited
	started  bool
	now      time.Time
	busy     map[*Group]struct{} // groups with running or queued jobs
	// solo is the group of a processor made by NewProcessor, which models
	// one container alone on an unlimited node.
	solo *Group
}

// Group is one container's share of a Processor: its limit, weight and jobs.
type Group struct {
	p      *Processor
	limit  float64 // cores, +Inf when unlimited
	weight float64 // relative share under contention (> 0)
	perJob float64 // cores one job can use
	maxRun int     // 0: unlimited

	// v is the service every running job of the group has attained
	// (CPU-seconds): a job admitted at v0 with work w finishes when v reaches
	// v0+w (its tag), so running jobs finish in tag order.
	v    float64
	used float64 // cumulative CPU-seconds consumed
	rate float64 // CPU-seconds per second each running job receives now
	// bg is a steady demand in cores besides the jobs (a CPU profile's
	// level), bgRate the cores it receives now: it shares the group's
	// cores with the jobs in proportion to demand, as one more thread
	// would, and never finishes.
	bg, bgRate float64
	running    jobHeap
	queue      []*Job
}

// Job is one unit of CPU work (a request's handler) in a Processor.
type Job struct {
	g     *Group
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

// NewNodeProcessor returns a node of capacityMilli millicores (0 or less:
// unlimited) with no containers yet.
func NewNodeProcessor(capacityMilli int64) *Processor {
	return &Processor{capacity: milliCores(capacityMilli), busy: map[*Group]struct{}{}}
}

// NewProcessor returns one container alone on an unlimited node, limited to
// limitMilli millicores (0 or less: unlimited) and running at most
// maxRunning jobs at once (0: unlimited). A job uses at most one core.
func NewProcessor(limitMilli int64, maxRunning int) *Processor {
	p := NewNodeProcessor(0)
	p.solo = p.NewGroup(limitMilli, 0, maxRunning)
	return p
}

// NewGroup adds a container limited to limitMilli millicores (0 or less:
// unlimited) whose share under contention is proportional to
// requestMilli (0 or less: the smallest share, 1m), running at most
// maxRunning jobs at once (0: unlimited).
func (p *Processor) NewGroup(limitMilli, requestMilli int64, maxRunning int) *Group {
	return &Group{
		p: p, limit: milliCores(limitMilli), weight: math.Max(float64(requestMilli), 1) / 1000,
		perJob: 1, maxRun: max(maxRunning, 0),
	}
}

func milliCores(m int64) float64 {
	if m <= 0 {
		return math.Inf(1)
	}
	return float64(m) / 1000
}

// share sets every busy group's per-job rate: max-min fair shares of the
// node's capacity, weighted, each capped at the group's demand.
func (p *Processor) share() {
	type dem struct {
		g *Group
		d float64
	}
	var total float64
	ds := make([]dem, 0, len(p.busy))
	for g := range p.busy {
		n := len(g.running)
		if n == 0 && g.bg == 0 {
			g.rate, g.bgRate = 0, 0
			continue
		}
		d := math.Min(float64(n)*g.perJob+g.bg, g.limit)
		ds = append(ds, dem{g, d})
		total += d
	}
	if total <= p.capacity {
		for _, x := range ds {
			x.g.allot(x.d)
		}
		return
	}
	// Water-filling: groups whose demand per weight is below the level θ
	// get their demand; the rest share what is left by weight.
	sort.Slice(ds, func(i, j int) bool { return ds[i].d/ds[i].g.weight < ds[j].d/ds[j].g.weight })
	left := p.capacity
	var wsum float64
	for _, x := range ds {
		wsum += x.g.weight
	}
	for i, x := range ds {
		theta := left / wsum
		if x.d <= theta*x.g.weight {
			x.g.allot(x.d)
			left -= x.d
			wsum -= x.g.weight
			continue
		}
		for _, y := range ds[i:] {
			y.g.allot(theta * y.g.weight)
		}
		return
	}
}

// allot splits the cores a group receives between its jobs and its steady
// demand, in proportion to what each asks for.
func (g *Group) allot(cores float64) {
	asked := float64(len(g.running))*g.perJob + g.bg
	if asked <= 0 {
		g.rate, g.bgRate = 0, 0
		return
	}
	f := cores / asked
	g.rate, g.bgRate = g.perJob*f, g.bg*f
}

// SetSteady sets the group's steady demand to cores at now (0: none).
func (g *Group) SetSteady(now time.Time, cores float64) {
	g.p.Advance(now)
	g.bg = math.Max(cores, 0)
	if g.bg > 0 {
		g.p.busy[g] = struct{}{}
	} else {
		g.settle()
	}
	g.p.share()
}

// Submit adds a job needing work of CPU time at now to the solo container
// of a Processor made by NewProcessor.
func (p *Processor) Submit(now time.Time, work time.Duration) *Job { return p.solo.Submit(now, work) }

// Cancel withdraws a job at now (its client gave up); the CPU time it
// received stays used. Cancelling a finished job does nothing.
func (p *Processor) Cancel(now time.Time, j *Job) {
	if j.g != nil {
		j.g.Cancel(now, j)
	}
}

// Used is the CPU time the solo container consumed up to now.
func (p *Processor) Used(now time.Time) time.Duration { return p.solo.Used(now) }

// Load is the solo container's number of running and queued jobs.
func (p *Processor) Load() (running, queued int) { return p.solo.Load() }

// Submit adds a job needing work of CPU time at now.
func (g *Group) Submit(now time.Time, work time.Duration) *Job {
	g.p.Advance(now)
	j := &Job{g: g, work: math.Max(work.Seconds(), 0), index: -1, done: make(chan struct{})}
	if j.work == 0 {
		j.state = jobFinished
		close(j.done)
		return j
	}
	g.queue = append(g.queue, j)
	g.p.busy[g] = struct{}{}
	g.admit()
	g.p.share()
	return j
}

// Cancel withdraws a job at now (its client gave up); the CPU time it
// received stays used. Cancelling a finished job does nothing.
func (g *Group) Cancel(now time.Time, j *Job) {
	g.p.Advance(now)
	switch j.state {
	case jobRunning:
		heap.Remove(&g.running, j.index)
	case jobQueued:
		for i, q := range g.queue {
			if q == j {
				g.queue = append(g.queue[:i], g.queue[i+1:]...)
				break
			}
		}
	default:
		return
	}
	j.state = jobCancelled
	g.admit()
	g.settle()
	g.p.share()
}

// settle drops an idle group from the node's busy set.
func (g *Group) settle() {
	if len(g.running) == 0 && len(g.queue) == 0 && g.bg == 0 {
		delete(g.p.busy, g)
		g.rate, g.bgRate = 0, 0
	}
}

// admit moves queued jobs into service while there is room.
func (g *Group) admit() {
	for len(g.queue) > 0 && (g.maxRun == 0 || len(g.running) < g.maxRun) {
		j := g.queue[0]
		g.queue[0] = nil
		g.queue = g.queue[1:]
		j.state = jobRunning
		j.tag = g.v + j.work
		heap.Push(&g.running, j)
	}
}

// Used is the container's CPU time consumed up to now.
func (g *Group) Used(now time.Time) time.Duration {
	g.p.Advance(now)
	return time.Duration(g.used * float64(time.Second))
}

// Load is the container's number of running and queued jobs.
func (g *Group) Load() (running, queued int) { return len(g.running), len(g.queue) }

// next is the group's earliest finish: how long from the processor's now.
func (g *Group) next() (time.Duration, bool) {
	if len(g.running) == 0 || g.rate <= 0 {
		return 0, false
	}
	return durationCeil((g.running[0].tag - g.v) / g.rate), true
}

// Advance moves the node to now, finishing every job whose work is done by
// then (in order, so each completion speeds up the others).
func (p *Processor) Advance(now time.Time) {
	if !p.started {
		p.started, p.now = true, now
		return
	}
	for {
		var first *Group
		var need time.Duration
		for g := range p.busy {
			if d, ok := g.next(); ok && (first == nil || d < need) {
				first, need = g, d
			}
		}
		if first == nil {
			break
		}
		at := p.now.Add(need)
		if at.After(now) {
			break
		}
		// Every busy group progresses for need; the first one's top job
		// (and any tied with it) finishes.
		dt := need.Seconds()
		for g := range p.busy {
			if g == first {
				top := g.running[0].tag
				g.used += float64(len(g.running))*(top-g.v) + g.bgRate*dt
				g.v = top
				continue
			}
			g.progress(dt)
		}
		p.now = at
		for g := range p.busy {
			g.finishDue()
		}
		p.share()
	}
	if dt := now.Sub(p.now).Seconds(); dt > 0 {
		for g := range p.busy {
			g.progress(dt)
		}
		p.now = now
	}
}

// progress gives each running job rate·dt of service.
func (g *Group) progress(dt float64) {
	g.used += g.bgRate * dt
	if len(g.running) == 0 {
		return
	}
	g.v += g.rate * dt
	g.used += float64(len(g.running)) * g.rate * dt
}

// finishDue completes the running jobs whose work is done, admits queued
// ones, and leaves the busy set when idle.
func (g *Group) finishDue() {
	for len(g.running) > 0 && g.running[0].tag <= g.v+1e-9 {
		j := heap.Pop(&g.running).(*Job)
		j.state = jobFinished
		close(j.done)
	}
	g.admit()
	g.settle()
}

// NextEvent is when the next running job finishes if nothing else happens;
// ok is false when nothing runs.
func (p *Processor) NextEvent() (at time.Time, ok bool) {
	var need time.Duration
	for g := range p.busy {
		if d, gok := g.next(); gok && (!ok || d < need) {
			need, ok = d, true
		}
	}
	if !ok {
		return time.Time{}, false
	}
	return p.now.Add(need), true
}

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

// NodeCPU drives a node's Processor with a clock: the CPUs of the pods on
// one emulated node share its capacity through it, with one timer for the
// whole node and no real CPU spent.
type NodeCPU struct {
	clock Clock

	mu      sync.Mutex
	p       *Processor
	timer   Timer
	timerAt time.Time
	closed  bool
}

// NewNodeCPU returns a node of capacityMilli millicores (0: unlimited).
func NewNodeCPU(clock Clock, capacityMilli int64) *NodeCPU {
	n := &NodeCPU{clock: clock, p: NewNodeProcessor(capacityMilli)}
	n.p.Advance(clock.Now())
	return n
}

// NewCPU adds a container to the node: limited to limitMilli millicores (0:
// unlimited), weighted by requestMilli under contention, running at most
// maxRunning jobs at once (0: unlimited).
func (n *NodeCPU) NewCPU(limitMilli, requestMilli int64, maxRunning int) *CPU {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &CPU{n: n, g: n.p.NewGroup(limitMilli, requestMilli, maxRunning)}
}

// Close stops the timer; jobs still pending never finish (callers cancel
// them through their contexts).
func (n *NodeCPU) Close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	if n.timer != nil {
		n.timer.Stop()
		n.timer = nil
	}
}

func (n *NodeCPU) fire() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.timer = nil
	n.timerAt = time.Time{}
	n.p.Advance(n.clock.Now())
	n.scheduleLocked()
}

// scheduleLocked keeps exactly one timer set for the node's next event.
func (n *NodeCPU) scheduleLocked() {
	if n.closed {
		return
	}
	at, ok := n.p.NextEvent()
	if n.timer != nil {
		if ok && at.Equal(n.timerAt) {
			return
		}
		n.timer.Stop()
		n.timer = nil
	}
	if !ok {
		return
	}
	n.timerAt = at
	n.timer = n.clock.AfterFunc(at.Sub(n.clock.Now()), n.fire)
}

// CPU is one container's CPU on a NodeCPU: Do blocks its caller for as long
// as the work takes under processor sharing, using timers, not real CPU.
type CPU struct {
	n       *NodeCPU
	g       *Group
	private bool // alone on its own node (NewCPU)
}

// NewCPU returns a container alone on an unlimited node, limited to
// limitMilli millicores (0: unlimited) running at most maxRunning jobs at
// once (0: unlimited).
func NewCPU(clock Clock, limitMilli int64, maxRunning int) *CPU {
	c := NewNodeCPU(clock, 0).NewCPU(limitMilli, 0, maxRunning)
	c.private = true
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
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	j := c.g.Submit(c.n.clock.Now(), work)
	c.n.scheduleLocked()
	return j
}

// Cancel withdraws a job.
func (c *CPU) Cancel(j *Job) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	c.g.Cancel(c.n.clock.Now(), j)
	c.n.scheduleLocked()
}

// Used is the CPU time consumed so far.
func (c *CPU) Used() time.Duration {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	u := c.g.Used(c.n.clock.Now())
	c.n.scheduleLocked()
	return u
}

// SetSteady makes the container use milli millicores steadily besides its
// requests' work (capped at its limit together with them, and shared with
// the node's other pods like them); 0 stops it.
func (c *CPU) SetSteady(milli int64) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	c.g.SetSteady(c.n.clock.Now(), float64(milli)/1000)
	c.n.scheduleLocked()
}

// Load is the number of running and queued jobs.
func (c *CPU) Load() (running, queued int) {
	c.n.mu.Lock()
	defer c.n.mu.Unlock()
	return c.g.Load()
}

// Close stops the node's timer when the CPU is alone on its node (made by
// NewCPU); on a shared node it does nothing (the node outlives its pods).
func (c *CPU) Close() {
	if c.private {
		c.n.Close()
	}
}
