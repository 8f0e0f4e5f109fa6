package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
	"github.com/scalebench/scalebench/compare"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/stats"
)

type compareFlags struct {
	cluster     string
	scenarios   stringList
	trials      int
	out         string
	seed        uint64
	resamples   int
	restTimeout time.Duration
	ingressURL  string
	ingressAddr string
	nodeCPU     string
	progress    string
	verbose     bool
}

func compareCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f compareFlags
	fs := newFlagSet("compare", stderr)
	fs.StringVar(&f.cluster, "cluster", "emulated", "cluster kind: "+strings.Join(all.Kinds, ", "))
	fs.Var(&f.scenarios, "scenario", "built-in scenario name or scenario file, two or more (repeatable; default: "+strings.Join(DefaultScenarios, ", ")+")")
	fs.IntVar(&f.trials, "trials", 5, "trials of each scenario, interleaved A B A B …")
	fs.StringVar(&f.out, "out", "", "report folder (default scalebench-results/<run id>)")
	fs.Uint64Var(&f.seed, "seed", stats.DefaultBootstrap.Seed, "seed of the bootstrap resampling (stated in the report; same seed, same intervals)")
	fs.IntVar(&f.resamples, "resamples", stats.DefaultBootstrap.Resamples, "bootstrap resamples")
	fs.DurationVar(&f.restTimeout, "rest-timeout", 4*time.Minute, "longest wait, before each trial, for the cluster to be at rest")
	fs.StringVar(&f.ingressURL, "ingress-url", "", "where HTTP load is sent (default: the cluster's ingress)")
	fs.StringVar(&f.ingressAddr, "ingress-addr", "127.0.0.1:8081", "emulated cluster: where its ingress listens; 127.0.0.1:0 picks a free port")
	fs.StringVar(&f.nodeCPU, "node-cpu", "", "emulated cluster: CPU capacity of each of its nodes (default 32)")
	fs.StringVar(&f.progress, "progress", "auto", "progress lines on stderr: auto (when a terminal), always, never")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("compare: unexpected arguments %q", fs.Args())
	}
	if !all.Valid(f.cluster) {
		return usageErr("compare: --cluster %q: unknown (allowed: %s)", f.cluster, strings.Join(all.Kinds, ", "))
	}
	if f.trials < 1 {
		return usageErr("compare: --trials %d: must be >= 1", f.trials)
	}
	if f.resamples < 100 {
		return usageErr("compare: --resamples %d: must be >= 100", f.resamples)
	}
	if f.restTimeout <= 0 {
		return usageErr("compare: --rest-timeout %s: must be > 0", f.restTimeout)
	}
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		return usageErr("compare: --progress %q: allowed: auto, always, never", f.progress)
	}
	names := []string(f.scenarios)
	if len(names) == 0 {
		names = DefaultScenarios
	}
	if len(names) < 2 {
		return usageErr("compare: --scenario: give two or more scenarios (got %d)", len(names))
	}
	var scs []*scenario.Scenario
	var errs []error
	seen := map[string]bool{}
	for _, n := range names {
		s, err := resolveScenario(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[s.Metadata.Name] {
			errs = append(errs, fmt.Errorf("compare: --scenario %s: scenario %q given twice", n, s.Metadata.Name))
			continue
		}
		seen[s.Metadata.Name] = true
		scs = append(scs, s)
	}
	if len(errs) > 0 {
		return &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
	}
	provider, err := providerFor(f.cluster)
	if err != nil {
		return usageErr("compare: %v", err)
	}
	if err := checkLoads("compare", f.cluster, provider, scs); err != nil {
		return err
	}
	if f.nodeCPU != "" {
		ns, ok := provider.(clusters.NodeSizer)
		if !ok {
			return usageErr("compare: --node-cpu: cluster kind %q has no configurable node capacity (only emulated)", f.cluster)
		}
		if err := ns.SetNodeCPU(f.nodeCPU); err != nil {
			return usageErr("compare: --node-cpu: %v", err)
		}
	}
	if err := planNodes("compare", provider, scs); err != nil {
		return err
	}

	runID := runner.NewRunID()
	out := f.out
	if out == "" {
		out = filepath.Join("scalebench-results", runID)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return harnessErr(fmt.Errorf("report folder: %w", err))
	}
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	progress := progressWriter(stderr, f.progress)
	sess := runner.NewSession(runner.SessionConfig{
		Provider: provider, RunID: runID, Out: out, IngressAddr: f.ingressAddr,
		Autoscalers: runner.Plan{Scenarios: scs}.Autoscalers(),
		// A keda-sqs scenario's queue and store (Valkey and LocalStack on
		// k3d, kind or --install-platform) are planned as bench run plans them.
		Cluster: clusters.Settings{NeedsSQS: needsSQS(scs)},
		Logger:  logger, Progress: progress,
		Defaults:    runner.Options{IngressURL: f.ingressURL},
		RunScenario: scenarioRunner,
	})
	started := time.Now()
	var createErr, runErr error
	var trials []results.Trial
	rep, closeErr := func() (results.Report, error) {
		defer sess.Close(ctx) // also when a trial panics through
		if createErr = sess.Create(ctx); createErr != nil {
			return sess.Close(ctx)
		}
		trials, runErr = compare.Run(ctx, sess, compare.Config{
			Scenarios: scs, Trials: f.trials, RestTimeout: f.restTimeout, Logger: logger, Progress: progress,
			AtRest: compareAtRest, DeleteNamespace: compareDeleteNamespace,
		})
		return sess.Close(ctx)
	}()
	if createErr != nil && (ctx.Err() != nil || rep.Interrupted) {
		return &ExitError{Code: ExitInterrupted, Err: errors.Join(fmt.Errorf("comparison %s interrupted (partial report in %s)", runID, out), closeErr)}
	}
	if createErr != nil {
		hint := ""
		if errors.Is(createErr, syscall.EADDRINUSE) {
			hint = "; another run may hold the port: pass --ingress-addr 127.0.0.1:0"
		}
		return harnessErr(errors.Join(fmt.Errorf("%w (partial report in %s)%s", createErr, out, hint), closeErr))
	}
	cmp := results.Comparison{
		RunID: runID, StartedAt: rep.StartedAt, FinishedAt: rep.FinishedAt, TrialsPerScenario: f.trials,
		Environment: rep.Environment, Trials: trials,
	}
	if cmp.StartedAt.IsZero() {
		cmp.StartedAt = started.UTC()
	}
	for _, s := range scs {
		cmp.Scenarios = append(cmp.Scenarios, s.Metadata.Name)
	}
	if cmp.Trials == nil {
		cmp.Trials = []results.Trial{}
	}
	if runErr != nil {
		cmp.Error = runErr.Error()
	}
	cmp.Metrics, cmp.Statistics = compare.Build(cmp.Scenarios, trials, stats.Bootstrap{Seed: f.seed, Resamples: f.resamples, Confidence: 0.95})
	writeErr := reports.WriteCompareAll(out, cmp)
	printComparison(stdout, cmp, out, time.Since(started))

	if ctx.Err() != nil || rep.Interrupted {
		return &ExitError{Code: ExitInterrupted, Err: errors.Join(fmt.Errorf("comparison %s interrupted (partial reports in %s)", runID, out), closeErr, writeErr)}
	}
	harnessFailed := runErr != nil || closeErr != nil || writeErr != nil
	checksFailed := false
	for _, t := range trials {
		if t.Result.Error != "" {
			harnessFailed = true
		}
		if !t.Result.Passed {
			checksFailed = true
		}
	}
	switch {
	case harnessFailed:
		return harnessErr(errors.Join(fmt.Errorf("comparison %s did not complete (see %s)", runID, out), runErr, closeErr, writeErr))
	case checksFailed:
		return &ExitError{Code: ExitViolation, Err: errors.New("a trial violated its scenario's expectations")}
	}
	return nil
}

// Seams for the command's tests: nil waits for rest and deletes trial
// namespaces on the session's cluster.
var (
	compareAtRest          func(ctx context.Context, earlier []string) (string, error)
	compareDeleteNamespace func(ctx context.Context, namespace string)
)

func printComparison(w io.Writer, c results.Comparison, out string, took time.Duration) {
	fmt.Fprintf(w, "comparison %s on %s cluster: %s, %d trials each, in %s\n", c.RunID, c.Environment.Provider,
		strings.Join(c.Scenarios, " vs "), c.TrialsPerScenario, took.Round(time.Second))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "METRIC")
	for _, s := range c.Scenarios {
		fmt.Fprintf(tw, "\t%s", s)
	}
	fmt.Fprint(tw, "\tDIFFERENCE [95% INTERVAL]\tVERDICT\n")
	for _, m := range c.Metrics {
		fmt.Fprint(tw, m.Metric)
		for _, s := range m.Scenarios {
			cell := "–"
			if s.Median != nil {
				cell = fmt.Sprintf("%s (n=%d)", results.FormatValue(*s.Median, m.Unit, false), len(s.Samples))
			}
			fmt.Fprintf(tw, "\t%s", cell)
		}
		var diffs, verdicts []string
		for _, p := range m.Pairs {
			d := "–"
			if p.Difference != nil {
				d = fmt.Sprintf("%s−%s %s [%s, %s]", p.B, p.A, results.FormatValue(p.Difference.Estimate, m.Unit, true),
					results.FormatValue(p.Difference.Low, m.Unit, true), results.FormatValue(p.Difference.High, m.Unit, true))
			}
			diffs = append(diffs, d)
			verdicts = append(verdicts, reports.VerdictText(p))
		}
		fmt.Fprintf(tw, "\t%s\t%s\n", strings.Join(diffs, "; "), strings.Join(verdicts, "; "))
	}
	tw.Flush()
	if c.Error != "" {
		fmt.Fprintf(w, "stopped early: %s\n", c.Error)
	}
	fmt.Fprintf(w, "bootstrap seed %d, %d resamples; reports: %s\n", c.Statistics.Bootstrap.Seed, c.Statistics.Bootstrap.Resamples, out)
}
