// Package suite wires scalebench scenarios into sigs.k8s.io/e2e-framework:
// one environment per suite whose setup creates the cluster through our
// cluster providers (SCALEBENCH_CLUSTER, default emulated), one feature per
// scenario (labelled with its name and autoscaler), and reports written at
// the end exactly as `bench run` writes them.
//
// Suites need a cluster, so they skip under `go test -short`.
package suite

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"sync"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	"sigs.k8s.io/e2e-framework/pkg/types"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

// Environment variables the suites read.
const (
	// EnvCluster selects the cluster kind (default emulated).
	EnvCluster = "SCALEBENCH_CLUSTER"
	// EnvOut is the report folder root (default scalebench-results/suites at the repository root).
	EnvOut = "SCALEBENCH_OUT"
	// EnvFull runs the full-length scenarios instead of the fast CI variants.
	EnvFull = "SCALEBENCH_FULL"
)

// Suite is one suite's environment and what it collected.
type Suite struct {
	Name    string
	Env     types.Environment
	Cluster clusters.Cluster
	RunID   string
	Logger  *slog.Logger

	mu      sync.Mutex
	results []results.Scenario
	workDir string
	out     string
}

var current *Suite

// Main is a suite's TestMain: it creates the cluster, runs the tests, writes
// the reports and tears the cluster down (always, also after a panic in a test).
func Main(m *testing.M, name string) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	s := &Suite{Name: name, RunID: runner.NewRunID()}
	s.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.out = os.Getenv(EnvOut)
	if s.out == "" {
		s.out = filepath.Join("..", "..", "scalebench-results", "suites")
	}
	s.out = filepath.Join(s.out, name)
	s.Env = env.NewWithConfig(envconf.New())
	s.Env.Setup(s.createCluster).Finish(s.finish)
	current = s
	return s.Env.Run(m)
}

// Current is the running suite (nil under -short).
func Current() *Suite { return current }

func (s *Suite) createCluster(ctx context.Context, cfg *envconf.Config) (context.Context, error) {
	kind := os.Getenv(EnvCluster)
	if kind == "" {
		kind = "emulated"
	}
	p, err := all.Provider(kind)
	if err != nil {
		return ctx, err
	}
	if ep, ok := p.(*emulated.Provider); ok {
		// Suites may run next to a `bench run` on the same machine.
		ep.IngressAddr = "127.0.0.1:0"
	}
	s.workDir, err = os.MkdirTemp("", "scalebench-suite-"+s.Name+"-")
	if err != nil {
		return ctx, err
	}
	var progress io.Writer
	if testing.Verbose() {
		progress = os.Stderr
	}
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Minute) // includes a cold component build
	defer cancel()
	cl, err := p.Create(cctx, clusters.Options{Name: "scalebench-" + s.Name, RunID: s.RunID, WorkDir: s.workDir, Logger: s.Logger, Progress: progress})
	if err != nil {
		return ctx, fmt.Errorf("suite %s: create %s cluster: %w", s.Name, kind, err)
	}
	fmt.Fprintf(os.Stderr, "suite %s: %s cluster ready in %s\n", s.Name, kind, time.Since(start).Round(100*time.Millisecond))
	s.Cluster = cl
	cfg.WithKubeconfigFile(cl.KubeconfigPath())
	return ctx, nil
}

func (s *Suite) finish(ctx context.Context, _ *envconf.Config) (context.Context, error) {
	rep := results.Report{SchemaVersion: results.SchemaVersion, RunID: s.RunID, StartedAt: time.Now().UTC(), Scenarios: s.results}
	if rep.Scenarios == nil {
		rep.Scenarios = []results.Scenario{}
	}
	var errs []error
	if s.Cluster != nil {
		rep.Environment = s.Cluster.Environment()
		rep.Environment.Host = results.LocalHost()
		if !rep.Passed() {
			dctx, cancel := context.WithTimeout(ctx, time.Minute)
			if err := s.Cluster.CollectDiagnostics(dctx, filepath.Join(s.out, "diagnostics")); err != nil {
				errs = append(errs, err)
			}
			cancel()
		}
		dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		if err := s.Cluster.Delete(dctx); err != nil {
			errs = append(errs, err)
		}
		cancel()
	}
	if err := reports.WriteAll(s.out, rep); err != nil {
		errs = append(errs, err)
	} else {
		fmt.Fprintf(os.Stderr, "suite %s: reports in %s\n", s.Name, s.out)
	}
	if s.workDir != "" {
		os.RemoveAll(s.workDir)
	}
	if len(errs) > 0 {
		return ctx, fmt.Errorf("suite %s teardown: %v", s.Name, errs)
	}
	return ctx, nil
}

// Scenario loads a built-in scenario, or its fast variant unless
// SCALEBENCH_FULL is set.
func Scenario(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	if os.Getenv(EnvFull) == "" {
		if s, err := scenario.Resolve(name + "-fast"); err == nil {
			return s
		}
	}
	s, err := scenario.Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Feature runs a scenario as an e2e-framework feature; assess receives its
// result for the suite's own assertions (beyond the scenario's checks, which
// are asserted here).
func (s *Suite) Feature(sc *scenario.Scenario, opts runner.Options, assess func(t *testing.T, res results.Scenario)) features.Feature {
	return features.New(sc.Metadata.Name).
		WithLabel("scenario", sc.Metadata.Name).
		WithLabel("autoscaler", sc.Spec.Autoscaler.Type).
		Assess("autoscaling meets the scenario's expectations", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			defer Recover(t)
			res := s.Run(ctx, t, sc, opts)
			if res.Error != "" {
				t.Errorf("scenario %s: harness error: %s", sc.Metadata.Name, res.Error)
			}
			for _, c := range res.Checks {
				if c.Passed {
					t.Logf("check %q: %s", c.Name, c.Detail)
				} else {
					t.Errorf("check %q failed: %s", c.Name, c.Detail)
				}
			}
			if assess != nil {
				assess(t, res)
			}
			return ctx
		}).Feature()
}

// Run runs a scenario on the suite's cluster and records its result for the
// suite's report.
func (s *Suite) Run(ctx context.Context, t *testing.T, sc *scenario.Scenario, opts runner.Options) results.Scenario {
	t.Helper()
	opts.Cluster = s.Cluster
	opts.RunID = s.RunID
	if opts.Logger == nil {
		opts.Logger = s.Logger
	}
	if opts.Progress == nil && testing.Verbose() {
		opts.Progress = os.Stderr
	}
	res := runner.Run(ctx, opts, sc)
	s.mu.Lock()
	s.results = append(s.results, res)
	s.mu.Unlock()
	m := res.Metrics
	t.Logf("%s: decision %s s, first scale-up %s s, first ready %s s, peak %s at %s s, scale-down %s s, steps %v",
		sc.Metadata.Name, f(m.DecisionSeconds), f(m.FirstScaleUpSeconds), f(m.FirstReadySeconds), i(m.PeakReplicas), f(m.TimeToPeakSeconds), f(m.ScaleDownSeconds), res.Steps)
	return res
}

func f(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *p)
}

func i(p *int32) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprint(*p)
}

// RequireShort skips a test under -short (suites need a cluster).
func RequireCluster(t *testing.T) *Suite {
	t.Helper()
	if testing.Short() || current == nil {
		t.Skip("needs a cluster; skipped under -short")
	}
	if current.Cluster == nil {
		t.Fatal("the suite's cluster was not created (see the setup error above)")
	}
	return current
}

// Recover turns a panic in a test's assessment into a test failure, so the
// test binary lives on to tear the cluster down (a crashed binary would
// leave the control plane running). Defer it first in every assessment.
func Recover(t *testing.T) {
	if p := recover(); p != nil {
		t.Errorf("panic: %v\n%s", p, debug.Stack())
	}
}
