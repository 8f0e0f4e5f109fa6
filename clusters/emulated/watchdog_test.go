package emulated

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
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

// A control-plane process kwokctl started (not the supervisor's child) that
// dies or is replaced is a failure naming it and its symptom.
func TestFailuresSeesControlPlaneProcesses(t *testing.T) {
	sup, err := proc.New(proc.Options{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sup.StopAll(context.Background()) })
	kwok := t.TempDir()
	c := &Cluster{sup: sup, kwokWorkDir: kwok, kwokName: "c"}
	pids := filepath.Join(kwok, "clusters", "c", "pids")
	if err := os.MkdirAll(pids, 0o755); err != nil {
		t.Fatal(err)
	}
	// A stand-in for metrics-server: runs in the cluster's folder, as
	// kwokctl's processes do.
	cmd := exec.Command("sleep", "300")
	cmd.Dir = kwok
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	if err := os.WriteFile(filepath.Join(pids, "metrics-server.pid"), []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	if pid, ok := c.ComponentPID("metrics-server"); !ok || pid != cmd.Process.Pid {
		t.Fatalf("ComponentPID(metrics-server) = %d, %v; want %d", pid, ok, cmd.Process.Pid)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	failures := c.Failures(ctx)
	select {
	case err := <-failures:
		t.Fatalf("a failure while every process runs: %v", err)
	case <-time.After(2 * controlPlanePoll):
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	select {
	case err := <-failures:
		for _, want := range []string{`"metrics-server"`, "is gone", "no CPU metric for the HPA"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("failure %q does not say %q", err, want)
			}
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the control-plane process's death was not delivered")
	}
}
