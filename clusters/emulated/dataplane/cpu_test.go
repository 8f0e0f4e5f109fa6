package dataplane

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func finished(j *Job) bool {
	select {
	case <-j.Done():
		return true
	default:
		return false
	}
}

func TestProcessorTwoRequestsAtHalfCore(t *testing.T) {
	p := NewProcessor(500, 0)
	a := p.Submit(at(0), time.Second)
	b := p.Submit(at(0), time.Second)
	if next, ok := p.NextEvent(); !ok || !next.Equal(at(4*time.Second)) {
		t.Fatalf("NextEvent = %v, %v; want t0+4s", next.Sub(t0), ok)
	}
	p.Advance(at(4*time.Second - time.Millisecond))
	if finished(a) || finished(b) {
		t.Fatal("finished before 4s")
	}
	p.Advance(at(4 * time.Second))
	if !finished(a) || !finished(b) || !a.Finished() {
		t.Fatal("not finished at 4s")
	}
	if got := p.Used(at(4 * time.Second)); got != 2*time.Second {
		t.Errorf("Used = %v, want 2s", got)
	}
	if got := p.Used(at(10 * time.Second)); got != 2*time.Second {
		t.Errorf("Used when idle = %v, want 2s", got)
	}
}

func TestProcessorOneJobUsesAtMostOneCore(t *testing.T) {
	p := NewProcessor(2000, 0)
	a := p.Submit(at(0), time.Second)
	p.Advance(at(time.Second))
	if !finished(a) {
		t.Fatal("1s job at limit 2 cores not done after 1s")
	}
	p = NewProcessor(0, 0) // unlimited
	var jobs []*Job
	for range 3 {
		jobs = append(jobs, p.Submit(at(0), time.Second))
	}
	p.Advance(at(time.Second))
	for _, j := range jobs {
		if !finished(j) {
			t.Fatal("unlimited: job not done after 1s")
		}
	}
	if got := p.Used(at(time.Second)); got != 3*time.Second {
		t.Errorf("Used = %v, want 3s", got)
	}
}

func TestProcessorStaggeredArrival(t *testing.T) {
	p := NewProcessor(500, 0)
	a := p.Submit(at(0), time.Second)
	b := p.Submit(at(time.Second), time.Second) // a has 0.5s done
	// both at 0.25: a needs 0.5 more → t=3; then b (0.5 left) alone at 0.5 → t=4.
	p.Advance(at(3 * time.Second))
	if !finished(a) || finished(b) {
		t.Fatalf("at 3s: a=%v b=%v, want a done only", finished(a), finished(b))
	}
	if next, _ := p.NextEvent(); !next.Equal(at(4 * time.Second)) {
		t.Fatalf("next = %v, want 4s", next.Sub(t0))
	}
	p.Advance(at(4 * time.Second))
	if !finished(b) {
		t.Fatal("b not done at 4s")
	}
}

func TestProcessorCancelReleasesShare(t *testing.T) {
	p := NewProcessor(500, 0)
	a := p.Submit(at(0), time.Second)
	b := p.Submit(at(0), time.Second)
	p.Cancel(at(2*time.Second), b) // each has 0.5s
	if r, q := p.Load(); r != 1 || q != 0 {
		t.Fatalf("Load = %d, %d", r, q)
	}
	p.Advance(at(3 * time.Second))
	if !finished(a) {
		t.Fatal("a not done at 3s after b gave up at 2s")
	}
	if finished(b) {
		t.Fatal("cancelled job reported done")
	}
	if got := p.Used(at(3 * time.Second)); got != 1500*time.Millisecond {
		t.Errorf("Used = %v, want 1.5s", got)
	}
	p.Cancel(at(3*time.Second), a) // no-op on a finished job
	if !a.Finished() {
		t.Error("cancel changed a finished job")
	}
}

func TestProcessorQueueBeyondMaxRunning(t *testing.T) {
	p := NewProcessor(500, 1)
	a := p.Submit(at(0), time.Second)
	b := p.Submit(at(0), time.Second)
	c := p.Submit(at(0), time.Second)
	if r, q := p.Load(); r != 1 || q != 2 {
		t.Fatalf("Load = %d, %d; want 1, 2", r, q)
	}
	p.Cancel(at(time.Second), b) // queued, leaves
	p.Advance(at(2 * time.Second))
	if !finished(a) || finished(c) {
		t.Fatal("at 2s want a done, c running")
	}
	p.Advance(at(4 * time.Second))
	if !finished(c) {
		t.Fatal("c not done at 4s")
	}
}

func TestProcessorZeroWork(t *testing.T) {
	p := NewProcessor(500, 0)
	if j := p.Submit(at(0), 0); !finished(j) {
		t.Fatal("zero work not done at once")
	}
}

// TestProcessorMatchesStepSimulation compares the event-driven model with a
// brute-force 1ms-step simulation of processor sharing.
func TestProcessorMatchesStepSimulation(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	type req struct {
		arrive, work time.Duration
		cancel       time.Duration // 0: never
	}
	const limit = 0.7
	var reqs []req
	for i := range 40 {
		r := req{arrive: time.Duration(i*150+rng.Intn(100)) * time.Millisecond,
			work: time.Duration(50+rng.Intn(900)) * time.Millisecond}
		if rng.Intn(4) == 0 {
			r.cancel = r.arrive + time.Duration(rng.Intn(3000))*time.Millisecond
		}
		reqs = append(reqs, r)
	}
	// Step simulation.
	const step = time.Millisecond
	remaining := make([]float64, len(reqs))
	doneAt := make([]time.Duration, len(reqs))
	active := make([]bool, len(reqs))
	for i, r := range reqs {
		remaining[i] = r.work.Seconds()
	}
	for now := time.Duration(0); now < 60*time.Second; now += step {
		n := 0
		for i, r := range reqs {
			active[i] = r.arrive <= now && remaining[i] > 1e-12 && (r.cancel == 0 || now < r.cancel)
			if active[i] {
				n++
			}
		}
		if n == 0 {
			continue
		}
		rate := math.Min(1, limit/float64(n))
		for i := range reqs {
			if active[i] {
				remaining[i] -= rate * step.Seconds()
				if remaining[i] <= 1e-12 {
					doneAt[i] = now + step
				}
			}
		}
	}
	// Event model, driven at the same instants the requests change.
	p := NewProcessor(700, 0)
	jobs := make([]*Job, len(reqs))
	gotAt := make([]time.Duration, len(reqs))
	for now := time.Duration(0); now < 60*time.Second; now += step {
		for i, r := range reqs {
			if r.arrive == now {
				jobs[i] = p.Submit(at(now), r.work)
			}
			if r.cancel != 0 && r.cancel == now && jobs[i] != nil {
				p.Cancel(at(now), jobs[i])
			}
		}
		p.Advance(at(now))
		for i, j := range jobs {
			if j != nil && gotAt[i] == 0 && finished(j) {
				gotAt[i] = now
			}
		}
	}
	for i := range reqs {
		if (doneAt[i] == 0) != (gotAt[i] == 0) {
			t.Errorf("req %d: step sim done=%v, model done=%v", i, doneAt[i], gotAt[i])
			continue
		}
		if d := doneAt[i] - gotAt[i]; d > 5*time.Millisecond || d < -5*time.Millisecond {
			t.Errorf("req %d: step sim finishes at %v, model at %v", i, doneAt[i], gotAt[i])
		}
	}
}

func TestCPUWithClock(t *testing.T) {
	clk := newFakeClock()
	c := NewCPU(clk, 500, 0)
	a := c.Submit(time.Second)
	b := c.Submit(time.Second)
	if n := clk.pending(); n != 1 {
		t.Fatalf("%d timers set, want 1", n)
	}
	clk.Step(4*time.Second - time.Nanosecond)
	if finished(a) || finished(b) {
		t.Fatal("finished early")
	}
	clk.Step(time.Nanosecond)
	if !finished(a) || !finished(b) {
		t.Fatal("not finished at 4s")
	}
	if n := clk.pending(); n != 0 {
		t.Errorf("%d timers left when idle", n)
	}
	if got := c.Used(); got != 2*time.Second {
		t.Errorf("Used = %v", got)
	}
}

func TestCPUDoGivesUp(t *testing.T) {
	clk := newFakeClock()
	c := NewCPU(clk, 500, 0)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- c.Do(ctx, time.Second) }()
	other := c.Submit(time.Second)
	for {
		if r, _ := c.Load(); r == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	clk.Step(2 * time.Second)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Do = %v, want context.Canceled", err)
	}
	clk.Step(time.Second) // other had 0.5s, alone at 0.5 → 1s more
	if !finished(other) {
		t.Fatal("remaining job did not speed up after the other gave up")
	}
}

func TestCPUDoReal(t *testing.T) {
	c := NewCPU(RealClock{}, 1000, 0)
	defer c.Close()
	start := time.Now()
	if err := c.Do(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Fatalf("Do returned after %v, want >= 20ms", el)
	}
}

func TestNodeSharesCapacityBetweenContainers(t *testing.T) {
	// Two containers limited to 500m each on a node of 500m: each gets 250m.
	p := NewNodeProcessor(500)
	a := p.NewGroup(500, 100, 0)
	b := p.NewGroup(500, 100, 0)
	ja := a.Submit(at(0), time.Second)
	jb := b.Submit(at(0), time.Second)
	if next, ok := p.NextEvent(); !ok || !next.Equal(at(4*time.Second)) {
		t.Fatalf("NextEvent = %v, %v; want t0+4s (250m each)", next.Sub(t0), ok)
	}
	p.Advance(at(4 * time.Second))
	if !finished(ja) || !finished(jb) {
		t.Fatal("not finished at 4s")
	}
	if ua, ub := a.Used(at(4*time.Second)), b.Used(at(4*time.Second)); ua != time.Second || ub != time.Second {
		t.Errorf("used %v, %v; want 1s each", ua, ub)
	}
}

func TestNodeWeightsAndCapsShares(t *testing.T) {
	// Weights 100m:300m on one core, both unlimited: 250m and 750m.
	p := NewNodeProcessor(1000)
	a := p.NewGroup(0, 100, 0)
	b := p.NewGroup(0, 300, 0)
	a.Submit(at(0), 10*time.Second)
	b.Submit(at(0), 10*time.Second)
	p.Advance(at(4 * time.Second))
	if ua, ub := a.Used(at(4*time.Second)), b.Used(at(4*time.Second)); !near(ua, time.Second) || !near(ub, 3*time.Second) {
		t.Errorf("used %v, %v; want 1s and 3s", ua, ub)
	}

	// A container capped below its fair share leaves the rest to the other:
	// a 200m limit and an unlimited one with two jobs on one core.
	p = NewNodeProcessor(1000)
	c := p.NewGroup(200, 100, 0)
	d := p.NewGroup(0, 100, 0)
	c.Submit(at(0), 10*time.Second)
	d.Submit(at(0), 10*time.Second)
	d.Submit(at(0), 10*time.Second)
	p.Advance(at(10 * time.Second))
	if uc, ud := c.Used(at(10*time.Second)), d.Used(at(10*time.Second)); !near(uc, 2*time.Second) || !near(ud, 8*time.Second) {
		t.Errorf("used %v, %v; want 2s and 8s", uc, ud)
	}
}

func TestNodeFinishingSpeedsUpOthers(t *testing.T) {
	// 1 core, two containers: a 1s job and a 3s job. Shared 500m each until
	// the 1s job ends at 2s; then the other runs at a full core: 2s of its
	// work remain at 2s → done at 4s.
	p := NewNodeProcessor(1000)
	a := p.NewGroup(0, 100, 0)
	b := p.NewGroup(0, 100, 0)
	ja := a.Submit(at(0), time.Second)
	jb := b.Submit(at(0), 3*time.Second)
	p.Advance(at(2 * time.Second))
	if !finished(ja) || finished(jb) {
		t.Fatalf("at 2s: a done %v, b done %v; want a only", finished(ja), finished(jb))
	}
	if next, ok := p.NextEvent(); !ok || !next.Equal(at(4*time.Second)) {
		t.Fatalf("NextEvent = %v; want t0+4s", next.Sub(t0))
	}
	p.Advance(at(4 * time.Second))
	if !finished(jb) {
		t.Fatal("b not finished at 4s")
	}
}

func TestNodeCPUWithClock(t *testing.T) {
	clk := newFakeClock()
	n := NewNodeCPU(clk, 500)
	a, b := n.NewCPU(500, 100, 0), n.NewCPU(500, 100, 0)
	ja, jb := a.Submit(time.Second), b.Submit(time.Second)
	if k := clk.pending(); k != 1 {
		t.Fatalf("%d timers set, want 1 for the node", k)
	}
	clk.Step(4*time.Second - time.Nanosecond)
	if finished(ja) || finished(jb) {
		t.Fatal("finished early")
	}
	clk.Step(time.Nanosecond)
	if !finished(ja) || !finished(jb) {
		t.Fatal("not finished at 4s")
	}
}

func near(a, b time.Duration) bool { return math.Abs(float64(a-b)) < float64(time.Millisecond) }

// A steady demand (a CPU profile's level) is capped at the limit, shares the
// limit with requests in proportion to demand, and counts as used.
func TestProcessorSteadyDemand(t *testing.T) {
	p := NewNodeProcessor(0)
	g := p.NewGroup(500, 500, 0)
	g.SetSteady(at(0), 0.9) // 180 % of a 500m request: capped at 500m
	if got := g.Used(at(10 * time.Second)); !near(got, 5*time.Second) {
		t.Errorf("900m steady under a 500m limit: used %v in 10 s, want 5s", got)
	}
	g.SetSteady(at(10*time.Second), 0.1)
	j := g.Submit(at(10*time.Second), time.Second)
	// 1.1 cores asked of 0.5: the job gets 0.5/1.1 of a core, done after 2.2 s.
	p.Advance(at(10*time.Second + 2199*time.Millisecond))
	if finished(j) {
		t.Fatal("job done before 2.2 s")
	}
	p.Advance(at(10*time.Second + 2201*time.Millisecond))
	if !finished(j) {
		t.Fatal("job not done after 2.2 s")
	}
	if got := g.Used(at(20 * time.Second)); !near(got, 5*time.Second+1100*time.Millisecond+780*time.Millisecond) {
		t.Errorf("used %v, want 6.88s (5 s, then 0.5 × 2.2 s, then 0.1 × 7.8 s)", got)
	}
	g.SetSteady(at(20*time.Second), 0)
	if got := g.Used(at(30 * time.Second)); !near(got, 6880*time.Millisecond) {
		t.Errorf("after the steady demand stopped: used %v, want 6.88s", got)
	}
	if len(p.busy) != 0 {
		t.Errorf("idle group still busy")
	}
}

// Steady demands on a full node share it by weight like requests do.
func TestProcessorSteadyDemandContended(t *testing.T) {
	p := NewNodeProcessor(1000)
	a := p.NewGroup(1000, 300, 0)
	b := p.NewGroup(1000, 100, 0)
	a.SetSteady(at(0), 1)
	b.SetSteady(at(0), 1)
	if ua, ub := a.Used(at(4*time.Second)), b.Used(at(4*time.Second)); !near(ua, 3*time.Second) || !near(ub, time.Second) {
		t.Errorf("used %v and %v on a 1-core node weighted 3:1, want 3s and 1s", ua, ub)
	}
}
