package suite

import (
	"context"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The check must be able to fail: a goroutine or a process a run leaves
// behind is named, and once it ends the check passes.

// leftoverBound is short: these leftovers stay until the test ends them,
// so the check can only time out (or, once they ended, pass at once).
const leftoverBound = 3 * time.Second

func TestLeftoversFindsAGoroutine(t *testing.T) {
	b, err := newBaseline(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	ended := make(chan struct{})
	go leakedByTheRun(stop, ended)
	_, err = b.leftovers(context.Background(), leftoverBound, noneKept, false)
	if err == nil || !strings.Contains(err.Error(), "goroutines:") || !strings.Contains(err.Error(), "leakedByTheRun") {
		t.Errorf("a goroutine left running: want an error naming it, got %v", err)
	} else {
		t.Logf("reported: %v", err)
	}
	close(stop)
	<-ended
	if _, err := b.leftovers(context.Background(), leftoverBound, noneKept, false); err != nil {
		t.Errorf("the goroutine ended: %v", err)
	}
}

func leakedByTheRun(stop <-chan struct{}, ended chan<- struct{}) {
	<-stop
	close(ended)
}

func TestLeftoversFindsAProcess(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	dir := t.TempDir()
	b, err := newBaseline(dir)
	if err != nil {
		t.Fatal(err)
	}
	// A process started from the work folder, as a component is: its
	// command line names the folder.
	cmd := exec.Command(sleep, "60")
	cmd.Args[0] = filepath.Join(dir, "component")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	}()
	_, err = b.leftovers(context.Background(), leftoverBound, noneKept, false)
	if want := "pid " + strconv.Itoa(pid) + ": " + cmd.Args[0]; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a process left running: want an error naming %q, got %v", want, err)
	} else {
		t.Logf("reported: %v", err)
	}
	// The cluster's own (a component it restarted) is not the run's.
	procs, err := b.leftovers(context.Background(), leftoverBound, func() map[int]bool { return map[int]bool{pid: true} }, false)
	if err != nil || len(procs) != 1 {
		t.Errorf("the process is the cluster's: want no error and it listed, got %v, %v", procs, err)
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := b.leftovers(context.Background(), leftoverBound, noneKept, false); err != nil {
		t.Errorf("the process ended: %v", err)
	}
}

func noneKept() map[int]bool { return nil }

func TestNewProcesses(t *testing.T) {
	before := map[int]string{1: "a", 2: "b"}
	now := map[int]string{2: "b", 3: "c", 4: "d"}
	got := newProcesses(before, now, map[int]bool{4: true})
	if want := []string{"pid 3: c"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

// After a restart, a goroutine that one of the cluster's, running before
// the fault, starts (an informer re-opening its watch) is the cluster's;
// one the test's goroutine starts (the run) is still reported, and without
// a restart both are.
func TestLeftoversAfterARestart(t *testing.T) {
	respawn := make(chan struct{})
	stop := make(chan struct{})
	started := make(chan struct{})
	ended := make(chan struct{}, 2)
	go func() { // the cluster's informer, running before the fault
		<-respawn
		go leakedByTheCluster(stop, ended)
		close(started)
		<-stop
	}()
	b, err := newBaseline(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	close(respawn)
	<-started
	if _, err := b.leftovers(context.Background(), leftoverBound, noneKept, true); err != nil {
		t.Errorf("after a restart, the cluster's new goroutine is its own: %v", err)
	}
	if _, err := b.leftovers(context.Background(), leftoverBound, noneKept, false); err == nil || !strings.Contains(err.Error(), "leakedByTheCluster") {
		t.Errorf("without a restart a new goroutine is the run's: want it named, got %v", err)
	}
	runStop := make(chan struct{})
	runEnded := make(chan struct{})
	go leakedByTheRun(runStop, runEnded)
	if _, err := b.leftovers(context.Background(), leftoverBound, noneKept, true); err == nil || !strings.Contains(err.Error(), "leakedByTheRun") {
		t.Errorf("after a restart, the run's goroutine: want it named, got %v", err)
	}
	close(runStop)
	<-runEnded
	close(stop)
	<-ended
}

func leakedByTheCluster(stop <-chan struct{}, ended chan<- struct{}) {
	<-stop
	ended <- struct{}{}
}
