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
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
	"time"

	"sigs.k8s.io/e2e-framework/pkg/env"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"
	"sigs.k8s.io/e2e-framework/pkg/types"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
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

// Suite is one suite's environment and its run session.
type Suite struct {
	Name    string
	Env     types.Environment
	Cluster clusters.Cluster
	RunID   string
	Logger  *slog.Logger

	session  *runner.Session
	out      string
	settings clusters.Settings
}

var current *Suite

// Option shapes a suite's cluster.
type Option func(*clusters.Settings)

// WithSQS is for a suite with keda-sqs scenarios: on a real cluster the
// platform gets Valkey and LocalStack.
func WithSQS() Option { return func(s *clusters.Settings) { s.NeedsSQS = true } }

// Main is a suite's TestMain: it creates the cluster, runs the tests, writes
// the reports and tears the cluster down (always, also after a panic in a test).
func Main(m *testing.M, name string, opts ...Option) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	s := &Suite{Name: name, RunID: runner.NewRunID()}
	for _, o := range opts {
		o(&s.settings)
	}
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

func (s *Suite) createCluster(ctx context.Context, cfg *envconf.Config) (context.Context, error) {
	kind := os.Getenv(EnvCluster)
	if kind == "" {
		kind = "emulated"
	}
	p, err := all.Provider(kind)
	if err != nil {
		return ctx, fmt.Errorf("suite %s: %s=%q: %w", s.Name, EnvCluster, kind, err)
	}
	var progress io.Writer
	if testing.Verbose() {
		progress = os.Stderr
	}
	s.session = runner.NewSession(runner.SessionConfig{
		Provider: p, ClusterName: "scalebench-" + s.Name, RunID: s.RunID, Out: s.out,
		// Suites may run next to a `bench run` on the same machine.
		IngressAddr: "127.0.0.1:0", Cluster: s.settings,
		Logger: s.Logger, Progress: progress,
	})
	start := time.Now()
	cctx, cancel := context.WithTimeout(ctx, 60*time.Minute) // includes a cold component build
	defer cancel()
	if err := s.session.Create(cctx); err != nil {
		// The partial report and the work folder are dealt with now: a
		// failed setup may not reach finish.
		_, cerr := s.session.Close(ctx)
		return ctx, errors.Join(fmt.Errorf("suite %s: %w", s.Name, err), cerr)
	}
	fmt.Fprintf(os.Stderr, "suite %s: %s cluster ready in %s\n", s.Name, kind, time.Since(start).Round(100*time.Millisecond))
	s.Cluster = s.session.Cluster()
	cfg.WithKubeconfigFile(s.Cluster.KubeconfigPath())
	return ctx, nil
}

// finish closes the session: diagnostics when a scenario failed, the
// cluster deleted, the reports written.
func (s *Suite) finish(ctx context.Context, _ *envconf.Config) (context.Context, error) {
	if s.session == nil {
		return ctx, nil
	}
	if _, err := s.session.Close(ctx); err != nil {
		return ctx, fmt.Errorf("suite %s teardown: %w", s.Name, err)
	}
	fmt.Fprintf(os.Stderr, "suite %s: reports in %s\n", s.Name, s.out)
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
				t.Errorf("scenario %s: %s error: %s", sc.Metadata.Name, res.ErrorKind, res.Error)
			}
			for _, c := range res.Checks {
				switch {
				case c.Skipped:
					t.Logf("check %q not tested: %s", c.Name, c.Detail)
				case c.Passed:
					t.Logf("check %q: %s", c.Name, c.Detail)
				default:
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
	res := s.session.RunScenario(ctx, sc, opts)
	m := res.Metrics
	t.Logf("%s: decision %s s, first scale-up %s s, first ready %s s, peak %s at %s s, scale-down %s s, steps %v",
		sc.Metadata.Name, results.FormatSeconds(m.DecisionSeconds), results.FormatSeconds(m.FirstScaleUpSeconds), results.FormatSeconds(m.FirstReadySeconds),
		results.FormatCount(m.PeakReplicas), results.FormatSeconds(m.TimeToPeakSeconds), results.FormatSeconds(m.ScaleDownSeconds), res.Steps)
	return res
}

// RequireCluster skips a test under -short (suites need a cluster) and
// fails it when the suite's cluster was not created.
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
