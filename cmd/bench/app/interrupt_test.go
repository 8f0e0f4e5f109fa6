package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// blockingProvider's Create waits for ctx when block is set, as a component
// build or a control plane start does, and fails with ctx's error.
type blockingProvider struct {
	block   bool
	cluster *fakeCluster
	started chan struct{}
}

func (p *blockingProvider) Name() string { return "emulated" }
func (p *blockingProvider) Create(ctx context.Context, _ clusters.Options) (clusters.Cluster, error) {
	close(p.started)
	if p.block {
		<-ctx.Done()
		return nil, fmt.Errorf("emulated: create: component binaries: %w", context.Cause(ctx))
	}
	p.cluster = &fakeCluster{}
	return p.cluster, nil
}

func readReportFile(t *testing.T, dir string) results.Report {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatalf("no report: %v", err)
	}
	defer f.Close()
	rep, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// An interruption in any phase ends the command with 130, the cluster (if
// any) deleted without diagnostics, and the partial report marked
// interrupted, with the timeline of the scenario cut short.
func TestRunInterruptedInEachPhase(t *testing.T) {
	for _, phase := range []string{"create", "load", "between trials"} {
		t.Run(phase, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			p := &blockingProvider{block: phase == "create", started: make(chan struct{})}
			oldP, oldR := providerFor, scenarioRunner
			t.Cleanup(func() { providerFor, scenarioRunner = oldP, oldR })
			providerFor = func(string) (clusters.Provider, error) { return p, nil }
			var trials atomic.Int32
			scenarioRunner = func(ctx context.Context, _ runner.Options, s *scenario.Scenario) results.Scenario {
				res := results.Scenario{Name: s.Metadata.Name, Steps: []results.Step{}, Checks: []results.Check{}}
				if trials.Add(1) == 1 && phase == "between trials" {
					res.Passed = true
					cancel(errInterrupted) // the signal arrives as the first trial ends
					return res
				}
				res.Timeline = []timeline.Event{{Kind: timeline.KindMarker, At: time.Second, Marker: &timeline.Marker{Name: timeline.MarkerLoadStart}}}
				<-ctx.Done() // the load runs until the signal
				res.Timeline = append(res.Timeline, timeline.Event{Kind: timeline.KindMarker, At: 2 * time.Second, Marker: &timeline.Marker{Name: timeline.MarkerLoadStop}})
				res.Error, res.ErrorKind = "load: "+context.Cause(ctx).Error(), results.ErrorInterrupted
				return res
			}
			if phase != "between trials" {
				go func() {
					<-p.started
					time.Sleep(50 * time.Millisecond)
					cancel(errInterrupted)
				}()
			}
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := Main(ctx, []string{"run", "--scenario", "hpa-cpu-fast", "--repeat", "3", "--out", out, "--progress", "never"}, &stdout, &stderr)
			if code != ExitInterrupted {
				t.Fatalf("exit %d, want %d; stderr %q", code, ExitInterrupted, stderr.String())
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s after a fake interruption", d)
			}
			if !strings.Contains(stderr.String(), "interrupted (partial report in "+out) {
				t.Errorf("stderr %q does not say where the partial report is", stderr.String())
			}
			rep := readReportFile(t, out)
			if !rep.Interrupted || rep.Passed() {
				t.Errorf("report interrupted=%v passed=%v, want an interrupted, not passed report", rep.Interrupted, rep.Passed())
			}
			switch phase {
			case "create":
				if p.cluster != nil || len(rep.Scenarios) != 1 || rep.Scenarios[0].ErrorKind != results.ErrorInterrupted {
					t.Errorf("want one not-run interrupted scenario, got %+v", rep.Scenarios)
				}
			case "load":
				if len(rep.Scenarios) != 1 || len(rep.Scenarios[0].Timeline) != 2 {
					t.Errorf("want the cut scenario with its timeline so far, got %+v", rep.Scenarios)
				}
			case "between trials":
				if n := trials.Load(); n != 1 || len(rep.Scenarios) != 1 || !rep.Scenarios[0].Passed {
					t.Errorf("want no trial started after the signal: ran %d, report %+v", n, rep.Scenarios)
				}
			}
			if c := p.cluster; c != nil && (c.deletes != 1 || c.diagnostics != 0) {
				t.Errorf("deletes %d diagnostics %d, want the cluster deleted once and no diagnostics", c.deletes, c.diagnostics)
			}
			md, err := os.ReadFile(filepath.Join(out, reports.MarkdownFile))
			if err != nil || !bytes.Contains(md, []byte("(interrupted)")) {
				t.Errorf("report.md does not say interrupted (%v)", err)
			}
		})
	}
}

// The first signal cancels the context with an interruption as its cause;
// a second exits 130 at once; without one, the grace ends in exit 130 too.
func TestWithSignals(t *testing.T) {
	exits := make(chan int, 1)
	var stderr syncBuffer
	ctx, stop := withSignals(context.Background(), &stderr, func(c int) { exits <- c }, time.Hour, syscall.SIGUSR1)
	defer stop()
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the first signal did not cancel the context")
	}
	if !errors.Is(context.Cause(ctx), errInterrupted) || runner.KindOf(context.Cause(ctx)) != results.ErrorInterrupted {
		t.Errorf("cause %v, want an interruption", context.Cause(ctx))
	}
	select {
	case c := <-exits:
		t.Fatalf("exited %d on the first signal", c)
	case <-time.After(100 * time.Millisecond):
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-exits:
		if c != ExitInterrupted {
			t.Errorf("exit %d, want %d", c, ExitInterrupted)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the second signal did not exit")
	}
	if !strings.Contains(stderr.String(), "again: exiting now") {
		t.Errorf("stderr %q", stderr.String())
	}

	// The grace bounds the teardown.
	ctx2, stop2 := withSignals(context.Background(), &stderr, func(c int) { exits <- c }, 50*time.Millisecond, syscall.SIGUSR1)
	defer stop2()
	_ = syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case c := <-exits:
		if c != ExitInterrupted || ctx2.Err() == nil {
			t.Errorf("exit %d (ctx %v), want %d after the grace", c, ctx2.Err(), ExitInterrupted)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the grace did not end in an exit")
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
