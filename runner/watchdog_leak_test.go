package runner

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
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

// lateWatchdog reports a component's death a moment after the run starts,
// as the emulated cluster's control-plane poll does.
type lateWatchdog struct {
	fakeCluster
	after time.Duration
}

func (c *lateWatchdog) Failures(ctx context.Context) <-chan error {
	ch := make(chan error, 1)
	go func() {
		select {
		case <-time.After(c.after):
			ch <- errors.New(`control-plane process "kube-apiserver" is gone: the Kubernetes API does not answer`)
		case <-ctx.Done():
		}
	}()
	return ch
}

// A client error that comes before the watchdog's report (connection
// refused, the API server just died) still ends as the platform error
// naming the component, with the client's error after it.
func TestHarnessErrorWaitsForTheWatchdog(t *testing.T) {
	sc := testScenario(t, "late")
	old := newClients
	t.Cleanup(func() { newClients = old })
	newClients = func(*rest.Config, ...kube.WarningFunc) (*kube.Clients, error) {
		return nil, errors.New("dial tcp 127.0.0.1:6443: connect: connection refused")
	}
	res := Run(context.Background(), Options{Cluster: &lateWatchdog{after: 300 * time.Millisecond}}, sc)
	if res.ErrorKind != results.ErrorPlatform || !strings.Contains(res.Error, "kube-apiserver") || !strings.Contains(res.Error, "connection refused") {
		t.Errorf("want a platform error naming kube-apiserver, then the client's error; got %s %q", res.ErrorKind, res.Error)
	}
	// Without a report, the harness error stands after the grace.
	start := time.Now()
	res = Run(context.Background(), Options{Cluster: &lateWatchdog{after: time.Hour}}, sc)
	if res.ErrorKind != results.ErrorHarness || time.Since(start) > watchdogGrace+5*time.Second {
		t.Errorf("without a report: %s %q after %s, want the harness error within the grace", res.ErrorKind, res.Error, time.Since(start))
	}
}

// failingWatchdog counts the subscriptions and reports through one channel.
type failingWatchdog struct {
	fakeCluster
	subs     atomic.Int32
	failures chan error
}

func (c *failingWatchdog) Failures(context.Context) <-chan error {
	c.subs.Add(1)
	return c.failures
}

// The apps of a multi-app scenario share one watchdog subscription (each
// polled the control plane's processes every second), and a component's
// failure still stops every app with the platform's reason.
func TestAppsShareOneWatchdogSubscription(t *testing.T) {
	sc := testScenario(t, "apps")
	sc.Spec.Apps = &scenario.Apps{Count: 3, Load: scenario.AppsLoadReplicate}
	api := fakeAPI(t, sc.Spec.Namespace)
	old := newClients
	t.Cleanup(func() { newClients = old })
	newClients = func(*rest.Config, ...kube.WarningFunc) (*kube.Clients, error) { return api, nil }
	cl := &failingWatchdog{failures: make(chan error, 1)}
	go func() {
		// The apps wait for their Deployments, which the fake API never
		// makes ready.
		time.Sleep(time.Second)
		cl.failures <- errors.New(`component "keda-operator" exited unexpectedly`)
	}()
	res := Run(context.Background(), Options{Cluster: cl, Keep: true, ReadyTimeout: time.Minute}, sc)
	if n := cl.subs.Load(); n != 1 {
		t.Errorf("%d watchdog subscriptions for 3 apps, want 1", n)
	}
	if res.Apps == nil || len(res.Apps.Results) != 3 {
		t.Fatalf("apps: %+v", res.Apps)
	}
	for _, a := range res.Apps.Results {
		if a.ErrorKind != results.ErrorPlatform || !strings.Contains(a.Error, "keda-operator") {
			t.Errorf("app %s: error %s %q, want the platform's failure naming keda-operator", a.Name, a.ErrorKind, a.Error)
		}
	}
}
