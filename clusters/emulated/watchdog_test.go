package emulated

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/proc"
)

// Failures ends its subscription and goroutine with its context, and
// delivers a component's death to a live subscription.
func TestFailuresEndsWithItsContext(t *testing.T) {
	sup, err := proc.New(proc.Options{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.StopAll(context.Background()) })
	c := &Cluster{sup: sup}
	settle := func(want func() bool) bool {
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if want() {
				return true
			}
		}
		return false
	}
	before := runtime.NumGoroutine()
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		c.Failures(ctx)
		cancel()
	}
	if !settle(func() bool { return runtime.NumGoroutine() <= before }) {
		t.Errorf("goroutines %d before 20 subscriptions, %d after they ended", before, runtime.NumGoroutine())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failures := c.Failures(ctx)
	if _, err := sup.Start(proc.Spec{Name: "short-lived", Path: "/bin/sh", Args: []string{"-c", "exit 3"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failures:
		if !strings.Contains(err.Error(), `"short-lived" exited unexpectedly`) {
			t.Errorf("failure %q does not name the component", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a component's death was not delivered")
	}
}
