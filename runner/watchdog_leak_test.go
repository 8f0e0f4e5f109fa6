package runner

import (
	"context"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/kube"
)

// watchdogCluster counts the Watchdog subscriptions still open.
type watchdogCluster struct {
	fakeCluster
	open atomic.Int32
}

func (c *watchdogCluster) Failures(ctx context.Context) <-chan error {
	c.open.Add(1)
	ch := make(chan error, 1)
	go func() {
		<-ctx.Done()
		c.open.Add(-1)
	}()
	return ch
}

// Each run ends its watchdog subscription and the goroutine reading it: a
// suite of many trials used to leak one of each per trial.
func TestRunEndsItsWatchdogSubscription(t *testing.T) {
	sc := testScenario(t, "leak")
	api := fakeAPI(t, sc.Spec.Namespace)
	old := newClients
	t.Cleanup(func() { newClients = old })
	newClients = func(*rest.Config, ...kube.WarningFunc) (*kube.Clients, error) { return api, nil }
	cl := &watchdogCluster{}
	run := func() {
		Run(context.Background(), Options{Cluster: cl, Keep: true, ReadyTimeout: 10 * time.Second}, sc)
	}
	run() // warm up: client-go starts its own long-lived goroutines once
	settle := func(want func() bool) bool {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if want() {
				return true
			}
		}
		return false
	}
	settle(func() bool { return cl.open.Load() == 0 })
	before := runtime.NumGoroutine()
	const trials = 20
	for range trials {
		run()
	}
	if !settle(func() bool { return cl.open.Load() == 0 }) {
		t.Errorf("%d watchdog subscriptions still open after %d runs", cl.open.Load(), trials)
	}
	if !settle(func() bool { return runtime.NumGoroutine() <= before+2 }) {
		t.Errorf("goroutines %d before %d runs, %d after: leaking per run", before, trials, runtime.NumGoroutine())
	}
}
