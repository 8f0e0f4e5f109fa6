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
	"text/tabwriter"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/reports"
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
	out         string
	keep        bool
	ingressURL  string
	ingressAddr string
	nodeCPU     string
	progress    string
	verbose     bool
}

func runCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f runFlags
	fs := newFlagSet("run", stderr)
	fs.StringVar(&f.cluster, "cluster", "emulated", "cluster kind: "+strings.Join(all.Kinds, ", "))
	fs.Var(&f.scenarios, "scenario", "built-in scenario name or scenario file (repeatable; default: "+strings.Join(DefaultScenarios, ", ")+")")
	fs.IntVar(&f.repeat, "repeat", 1, "run each scenario N times")
	fs.StringVar(&f.out, "out", "", "report folder (default scalebench-results/<run id>)")
	fs.BoolVar(&f.keep, "keep", false, "keep the cluster and the scenarios' objects afterwards, for debugging")
	fs.StringVar(&f.ingressURL, "ingress-url", "", "where HTTP load is sent (default: the cluster's ingress, http://localhost:8081)")
	fs.StringVar(&f.ingressAddr, "ingress-addr", "127.0.0.1:8081", "emulated cluster: where its ingress listens (the docs' load balancer port); 127.0.0.1:0 picks a free port")
	fs.StringVar(&f.nodeCPU, "node-cpu", "", "emulated cluster: CPU capacity of each of its 3 nodes, shared by their pods (default 32)")
	fs.StringVar(&f.progress, "progress", "auto", "progress lines on stderr: auto (when a terminal), always, never")
	fs.BoolVar(&f.verbose, "v", false, "verbose logs on stderr")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("run: unexpected arguments %q", fs.Args())
	}
	if !all.Valid(f.cluster) {
		return usageErr("run: --cluster %q: unknown (allowed: %s)", f.cluster, strings.Join(all.Kinds, ", "))
	}
	if f.repeat < 1 {
		return usageErr("run: --repeat %d: must be >= 1", f.repeat)
	}
	if f.progress != "auto" && f.progress != "always" && f.progress != "never" {
		return usageErr("run: --progress %q: allowed: auto, always, never", f.progress)
	}
	names := []string(f.scenarios)
	if len(names) == 0 {
		names = DefaultScenarios
	}
	// Every scenario is loaded and validated before anything is created.
	var plan runner.Plan
	var errs []error
	for _, n := range names {
		s, err := scenario.Resolve(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		plan.Scenarios = append(plan.Scenarios, s)
	}
	if len(errs) > 0 {
		return &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
	}
	plan.Repeat = f.repeat

	provider, err := all.Provider(f.cluster)
	if err != nil {
		return usageErr("run: %v", err)
	}
	if ep, ok := provider.(*emulated.Provider); ok {
		ep.IngressAddr = f.ingressAddr
		if f.nodeCPU != "" {
			if err := ep.SetNodeCPU(f.nodeCPU); err != nil {
				return usageErr("run: --node-cpu: %v", err)
			}
		}
	}
	if ni, ok := provider.(clusters.NotImplemented); ok {
		_, err := ni.Create(ctx, clusters.Options{})
		return usageErr("run: %v", err)
	}

	runID := runner.NewRunID()
	out := f.out
	if out == "" {
		out = filepath.Join("scalebench-results", runID)
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return harnessErr(fmt.Errorf("report folder: %w", err))
	}
	progress := progressWriter(stderr, f.progress)
	level := slog.LevelWarn
	if f.verbose {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	workDir, err := os.MkdirTemp("", "scalebench-"+runID+"-")
	if err != nil {
		return harnessErr(err)
	}
	if progress != nil {
		fmt.Fprintf(progress, "run %s: creating %s cluster\n", runID, f.cluster)
	}
	started := time.Now()
	cl, err := provider.Create(ctx, clusters.Options{Name: "scalebench", RunID: runID, WorkDir: workDir, Logger: logger, Progress: progress, Keep: f.keep})
	if err != nil {
		rep := results.Report{SchemaVersion: results.SchemaVersion, RunID: runID, StartedAt: started.UTC(), FinishedAt: time.Now().UTC(),
			Environment: results.Environment{Provider: f.cluster, Emulated: []string{}, Host: results.LocalHost()}, Scenarios: []results.Scenario{}}
		for _, s := range plan.Scenarios {
			rep.Scenarios = append(rep.Scenarios, results.Scenario{Name: s.Metadata.Name, Autoscaler: s.Spec.Autoscaler.Type, Error: "cluster not created: " + err.Error(), Steps: []results.Step{}, Checks: []results.Check{}})
		}
		if werr := reports.WriteAll(out, rep); werr != nil {
			logger.Warn("writing the partial report", "err", werr)
		}
		if !f.keep {
			os.RemoveAll(workDir)
		}
		hint := ""
		if strings.Contains(err.Error(), "address already in use") {
			hint = "; another run may hold the port: pass --ingress-addr 127.0.0.1:0"
		}
		return harnessErr(fmt.Errorf("create %s cluster: %w (partial report in %s)%s", f.cluster, err, out, hint))
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if err := cl.Delete(dctx); err != nil {
			logger.Warn("cluster teardown", "err", err)
		}
		if !f.keep {
			os.RemoveAll(workDir)
		}
	}()

	rep := runner.RunPlan(ctx, runner.Options{Cluster: cl, RunID: runID, Logger: logger, Progress: progress, IngressURL: f.ingressURL, Keep: f.keep}, plan)
	harnessFailed := ctx.Err() != nil
	for _, s := range rep.Scenarios {
		if s.Error != "" {
			harnessFailed = true
		}
	}
	if !rep.Passed() {
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		if err := cl.CollectDiagnostics(dctx, filepath.Join(out, "diagnostics")); err != nil {
			logger.Warn("collecting diagnostics", "err", err)
		}
		cancel()
	}
	if err := reports.WriteAll(out, rep); err != nil {
		return harnessErr(fmt.Errorf("write reports: %w", err))
	}
	printSummary(stdout, rep, out)
	switch {
	case harnessFailed:
		return harnessErr(fmt.Errorf("run %s did not complete (see %s)", runID, out))
	case !rep.Passed():
		return &ExitError{Code: ExitViolation, Err: fmt.Errorf("expectations violated")}
	}
	return nil
}

func printSummary(w io.Writer, rep results.Report, out string) {
	fmt.Fprintf(w, "run %s on %s cluster", rep.RunID, rep.Environment.Provider)
	if len(rep.Environment.Emulated) > 0 {
		fmt.Fprintf(w, " (emulated: %s)", strings.Join(rep.Environment.Emulated, "; "))
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SCENARIO\tTRIAL\tRESULT\tDECISION s\tFIRST UP s\tFIRST READY s\tPEAK\tTO PEAK s\tSCALE-DOWN s\tREQUESTS\tERRORS\tP99 s")
	for _, s := range rep.Scenarios {
		m := s.Metrics
		verdict := "pass"
		if !s.Passed {
			verdict = "FAIL"
		}
		if s.Error != "" {
			verdict = "ERROR"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, max(s.Trial, 1), verdict,
			f64(m.DecisionSeconds), f64(m.FirstScaleUpSeconds), f64(m.FirstReadySeconds), i32(m.PeakReplicas), f64(m.TimeToPeakSeconds),
			f64(m.ScaleDownSeconds), i64(m.Requests), i64(m.Errors), f64(m.P99LatencySeconds))
	}
	tw.Flush()
	for _, s := range rep.Scenarios {
		if s.Error != "" {
			fmt.Fprintf(w, "%s: error: %s\n", s.Name, s.Error)
		}
		for _, c := range s.Checks {
			if !c.Passed {
				fmt.Fprintf(w, "%s: failed check %q: %s\n", s.Name, c.Name, c.Detail)
			}
		}
	}
	fmt.Fprintf(w, "reports: %s\n", out)
}

func f64(p *float64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprintf("%.1f", *p)
}

func i32(p *int32) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprint(*p)
}

func i64(p *int64) string {
	if p == nil {
		return "–"
	}
	return fmt.Sprint(*p)
}
