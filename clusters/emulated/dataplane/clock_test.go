package dataplane

import (
	"sort"
	"sync"
	"time"
)

// fakeClock runs AfterFunc callbacks synchronously, in time order, when
// stepped; callbacks may set new timers.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	seq     int
	waiters []*fakeTimer
}

type fakeTimer struct {
	c   *fakeClock
	at  time.Time
	seq int
	f   func()
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seq++
	t := &fakeTimer{c: c, at: c.now.Add(d), seq: c.seq, f: f}
	c.waiters = append(c.waiters, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, w := range t.c.waiters {
		if w == t {
			t.c.waiters = append(t.c.waiters[:i], t.c.waiters[i+1:]...)
			return true
		}
	}
	return false
}

// Step moves the clock forward by d, firing due timers at their own times.
func (c *fakeClock) Step(d time.Duration) {
	c.mu.Lock()
	end := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.Slice(c.waiters, func(i, j int) bool {
			if !c.waiters[i].at.Equal(c.waiters[j].at) {
				return c.waiters[i].at.Before(c.waiters[j].at)
			}
			return c.waiters[i].seq < c.waiters[j].seq
		})
		if len(c.waiters) == 0 || c.waiters[0].at.After(end) {
			c.now = end
			c.mu.Unlock()
			return
		}
		t := c.waiters[0]
		c.waiters = c.waiters[1:]
		if t.at.After(c.now) {
			c.now = t.at
		}
		c.mu.Unlock()
		t.f()
	}
}

// pending is the number of timers set.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}
