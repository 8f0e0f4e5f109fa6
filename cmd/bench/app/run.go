package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

// DefaultScenarios run when no --scenario is given.
var DefaultScenarios = []string{"hpa-cpu", "keda-cpu"}

type runFlags struct {
	cluster     string
	scenarios   stringList
	repeat      int
	apps        string
	out         string
	keep        bool
	ingressURL  string
	ingressAddr string
	nodeCPU     string
	progress    string
	verbose     bool
	dryRun      bool
	parallel    bool
	clusterSet  clusterFlags
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := newFlagSet("run", stderr)
	fs.StringVar(&f.cluster, "cluster", "emulated", "cluster kind: "+strings.Join(all.Kinds, ", "))
	fs.Var(&f.scenarios, "scenario", "built-in scenario name or scenario file (repeatable; default: "+strings.Join(DefaultScenarios, ", ")+")")
	fs.IntVar(&f.repeat, "repeat", 1, "run each scenario N times")
	fs.StringVar(&f.apps, "apps", "", "K: run K independent copies of each scenario's app at once, each with its own autoscaler and load (sets spec.apps.count; default: the scenario's, 1); a list K1,K2,... runs each scenario once per K, named <scenario>-k<K>")
	fs.StringVar(&f.out, "out", "", "report folder (default scalebench-results/<run id>)")
	fs.BoolVar(&f.keep, "keep", false, "keep the cluster and the scenarios' objects afterwards, for debugging")
	fs.StringVar(&f.ingressURL, "ingress-url", "", "where HTTP load is sent (default: the cluster's ingress, http://localhost:8081)")
	fs.StringVar(&f.ingressAddr, "ingress-addr", "127.0.0.1:8081", "emulated cluster: where its ingress listens (the docs' load balancer port); 127.0.0.1:0 picks a free port")
	fs.StringVar(&f.nodeCPU, "node-cpu", "", "emulated cluster: CPU capacity of each of its nodes, shared by their pods (default 32)")
	fs.StringVar(&f.progress, "progress", "auto", "progress lines on stderr: auto (when a terminal), always, never")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs on stderr")
	fs.BoolVar(&f.parallel, "parallel", false, "run the scenarios at the same time on the one cluster, each in its own namespace and behind its own ingress host (trial by trial with --repeat)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print what the run would create, install and apply (as bench plan), touching nothing")
	f.clusterSet.register(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("run: unexpected arguments %q", fs.Args())
	}
	settings, err := f.clusterSet.settings(fs)
	if err != nil {
		return usageErr("run: %v", err)
	}
	if !all.Valid(f.cluster) {
		return usageErr("run: --cluster %q: unknown (allowed: %s)", f.cluster, strings.Join(all.Kinds, ", "))
	}
	if f.repeat < 1 {
		return usageErr("run: --repeat %d: must be >= 1", f.repeat)
	}
	appCounts, err := parseApps(f.apps)
	if err != nil {
		return usageErr("run: %v", err)
	}
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		return usageErr("run: --progress %q: allowed: auto, always, never", f.progress)
	}
	if f.dryRun {
		return printPlan(ctx, "run", planFlags{cluster: f.cluster, scenarios: f.scenarios, apps: f.apps, platformVersions: f.clusterSet.platform, settings: settings, manifests: true}, stdout)
	}
	names := []string(f.scenarios)
	if len(names) == 0 {
		names = DefaultScenarios
	}
	// Every scenario is loaded and validated before anything is created.
	var plan runner.Plan
	resolved, err := resolveScenarios(names)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range resolved {
		scs, err := withApps(s, appCounts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plan.Scenarios = append(plan.Scenarios, scs...)
	}
	if len(errs) > 0 {
		return &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
	}
	plan.Repeat = f.repeat
	if f.parallel {
		if _, err := runner.Isolate(plan.Scenarios); err != nil {
			return usageErr("run: --parallel: %v", err)
		}
		plan.Parallel = true
	}
	settings.NeedsSQS = needsSQS(plan.Scenarios)

	// A provider that can check its prerequisites does so before anything
	// is created (a missing Docker engine: exit 3, one line).
	provider, err := providerFor(f.cluster)
	if err != nil {
		return usageErr("run: %v", err)
	}
	if err := checkLoads("run", f.cluster, provider, plan.Scenarios); err != nil {
		return err
	}
	if err := preflight(ctx, provider, clusters.Options{Settings: settings, RunID: "preflight"}); err != nil {
		return err
	}
	if f.nodeCPU != "" {
		ns, ok := provider.(clusters.NodeSizer)
		if !ok {
			return usageErr("run: --node-cpu: cluster kind %q has no configurable node capacity (only emulated)", f.cluster)
		}
		if err := ns.SetNodeCPU(f.nodeCPU); err != nil {
			return usageErr("run: --node-cpu: %v", err)
		}
	}
	if err := planNodes("run", provider, plan.Scenarios); err != nil {
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
	sess := runner.NewSession(runner.SessionConfig{
		Provider: provider, RunID: runID, Out: out, Keep: f.keep, IngressAddr: f.ingressAddr, Cluster: settings,
		Autoscalers: plan.Autoscalers(),
		Logger:      logger, Progress: progressWriter(stderr, f.progress),
		Defaults:    runner.Options{IngressURL: f.ingressURL},
		RunScenario: scenarioRunner,
	})
	var createErr error
	rep, closeErr := func() (results.Report, error) {
		defer sess.Close(ctx) // also when a scenario panics through
		createErr = sess.Create(ctx)
		sess.RunPlan(ctx, plan)
		return sess.Close(ctx)
	}()
	if ctx.Err() != nil || rep.Interrupted {
		printSummary(stdout, rep, out)
		return &ExitError{Code: ExitInterrupted, Err: errors.Join(fmt.Errorf("run %s interrupted (partial report in %s)", runID, out), closeErr)}
	}
	if createErr != nil {
		hint := ""
		if errors.Is(createErr, syscall.EADDRINUSE) {
			hint = "; another run may hold the port: pass --ingress-addr 127.0.0.1:0"
		}
		return harnessErr(errors.Join(fmt.Errorf("%w (partial report in %s)%s", createErr, out, hint), closeErr))
	}
	printSummary(stdout, rep, out)
	harnessFailed := ctx.Err() != nil || closeErr != nil
	for _, s := range rep.Scenarios {
		if s.Error != "" {
			harnessFailed = true
		}
	}
	switch {
	case harnessFailed:
		return harnessErr(errors.Join(fmt.Errorf("run %s did not complete (see %s)", runID, out), closeErr))
	case !rep.Passed():
		return &ExitError{Code: ExitViolation, Err: fmt.Errorf("expectations violated")}
	}
	return nil
}

// Seams for the command's tests: where providers and scenario runs come from.
var (
	providerFor    = all.Provider
	scenarioRunner = runner.Run
)

func printSummary(w io.Writer, rep results.Report, out string) {
	fmt.Fprintf(w, "run %s on %s cluster", rep.RunID, rep.Environment.Provider)
	if len(rep.Environment.Emulated) > 0 {
		fmt.Fprintf(w, " (emulated: %s)", strings.Join(rep.Environment.Emulated, "; "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tTRIAL\tRESULT\tDECISION s\tFIRST UP s\tFIRST READY s\tPEAK\tTO PEAK s\tSCALE-DOWN s\tREQUESTS\tSUCCESSFUL\tERROR RATE\tGOODPUT/s\tAT PEAK/s\tP99 s")
	for _, s := range rep.Scenarios {
		m := s.Metrics
		verdict := "pass"
		if !s.Passed {
			verdict = "FAIL"
		}
		if s.Error != "" {
			verdict = "ERROR"
		}
		var atPeak *float64
		if m.Goodput != nil && m.Goodput.AtPeak != nil {
			atPeak = &m.Goodput.AtPeak.GoodputPerSecond
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, max(s.Trial, 1), verdict,
			results.FormatSeconds(m.DecisionSeconds), results.FormatSeconds(m.FirstScaleUpSeconds), results.FormatSeconds(m.FirstReadySeconds), results.FormatCount(m.PeakReplicas), results.FormatSeconds(m.TimeToPeakSeconds),
			results.FormatSeconds(m.ScaleDownSeconds), results.FormatCount(m.Requests), results.FormatCount(m.SuccessfulRequests), results.FormatPercent(m.ErrorRate),
			results.FormatSeconds(m.GoodputPerSecond), results.FormatSeconds(atPeak), results.FormatSeconds(m.P99LatencySeconds))
	}
	tw.Flush()
	for _, s := range rep.Scenarios {
		printApps(w, s)
	}
	for _, s := range rep.Scenarios {
		if s.Error != "" {
			fmt.Fprintf(w, "%s: error (%s): %s\n", s.Name, s.ErrorKind, s.Error)
		}
		for _, c := range s.Checks {
			if !c.Passed && !c.Skipped {
				fmt.Fprintf(w, "%s: failed check %q: %s\n", s.Name, c.Name, c.Detail)
			}
		}
	}
	fmt.Fprintf(w, "reports: %s\n", out)
}

// printApps states a multi-app scenario's apps: how many passed, and the
// reaction metrics' distributions across them (p50/p95/max).
func printApps(w io.Writer, s results.Scenario) {
	a := s.Apps
	if a == nil {
		return
	}
	fmt.Fprintf(w, "%s: %d apps at once (load %s), %d passed", s.Name, a.Count, a.Load, a.Passed)
	if len(a.Failed) > 0 {
		fmt.Fprintf(w, ", failed: %s", strings.Join(a.Failed, ", "))
	}
	fmt.Fprintln(w)
	for _, k := range []string{"firstScaleUpSeconds", "firstReadySeconds", "coldStartSeconds", "timeToPeakSeconds", "scaleDownSeconds"} {
		if d := a.Metrics[k]; d != nil {
			fmt.Fprintf(w, "  %s across %d/%d apps: p50 %s, p95 %s, max %s\n", k, d.N, a.Count, results.Seconds(d.P50), results.Seconds(d.P95), results.Seconds(d.Max))
		}
	}
	if l := s.AutoscalerLag; l != nil {
		if d := l.KEDAScaleLoopLatencySeconds; d != nil {
			fmt.Fprintf(w, "  KEDA scale-loop latency: p50 %s, p95 %s, max %s s (%d readings)\n", results.Seconds(d.P50), results.Seconds(d.P95), results.Seconds(d.Max), d.N)
		}
		if d := l.HPAWorkqueueDepth; d != nil {
			fmt.Fprintf(w, "  HPA workqueue depth: p50 %s, p95 %s, max %s (%d samples)\n", results.Seconds(d.P50), results.Seconds(d.P95), results.Seconds(d.Max), d.N)
		}
	}
}

// parseApps reads --apps: "" (the scenarios' own), K, or K1,K2,... each
// 1..scenario.MaxApps.
func parseApps(v string) ([]int, error) {
	if v == "" {
		return nil, nil
	}
	var ks []int
	for _, part := range strings.Split(v, ",") {
		k, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || k < 1 || k > scenario.MaxApps {
			return nil, fmt.Errorf("--apps %s: allowed K or K1,K2,... with each K in 1..%d (spec.apps.count)", v, scenario.MaxApps)
		}
		ks = append(ks, k)
	}
	return ks, nil
}

// withApps is s with spec.apps.count set to each of ks: s itself for one
// K, else one copy per K named <name>-k<K>; each validated again (the
// count bounds what the load can be split into). No ks: s as it is.
func withApps(s *scenario.Scenario, ks []int) ([]*scenario.Scenario, error) {
	if len(ks) == 0 {
		return []*scenario.Scenario{s}, nil
	}
	var out []*scenario.Scenario
	for _, k := range ks {
		c := s
		if len(ks) > 1 {
			cp, err := scenario.Copy(s)
			if err != nil {
				return nil, err
			}
			cp.Metadata.Name = fmt.Sprintf("%s-k%d", s.Metadata.Name, k)
			c = cp
		}
		c.SetApps(k)
		if verrs := scenario.Validate(c); len(verrs) > 0 {
			return nil, fmt.Errorf("scenario %s with --apps %d: %w", s.Metadata.Name, k, verrs.ToAggregate())
		}
		out = append(out, c)
	}
	return out, nil
}
