package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
)

// NewRunID makes a short, sortable run id: date, time and a random suffix.
func NewRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// Plan is a list of scenarios, each run Repeat times.
type Plan struct {
	Scenarios []*scenario.Scenario
	Repeat    int
	// Parallel runs the scenarios at the same time on the one cluster, each
	// in its own namespace and behind its own ingress host (Isolate), trial
	// by trial; each result names the others (results.Scenario.RanWith).
	Parallel bool
}

// Autoscalers are the autoscaler types the plan's scenarios use, each once,
// in the plan's order (clusters.Options.Autoscalers).
func (p Plan) Autoscalers() []string {
	out := []string{}
	for _, sc := range p.Scenarios {
		if t := sc.Spec.Autoscaler.Type; !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// DiagnosticsDir is the folder, inside the report folder, that receives the
// cluster's diagnostics when a scenario failed.
const DiagnosticsDir = "diagnostics"

// SessionConfig configures a Session.
type SessionConfig struct {
	// Provider creates the cluster.
	Provider clusters.Provider
	// ClusterName names the cluster (default "scalebench").
	ClusterName string
	// IngressAddr is clusters.Options.IngressAddr.
	IngressAddr string
	// Cluster are the user's cluster settings (clusters.Options.Settings).
	Cluster clusters.Settings
	// Autoscalers are clusters.Options.Autoscalers: the autoscaler types of
	// the scenarios the session will run (Plan.Autoscalers), so that a
	// cluster can leave out platform parts none of them needs; nil starts
	// every part.
	Autoscalers []string
	// RunID labels everything the session creates; "" makes a new one.
	RunID string
	// Out is the report folder written on Close; "" writes no reports and
	// collects no diagnostics.
	Out string
	// WorkDir holds the cluster's files; "" makes a temporary folder,
	// removed on Close unless Keep.
	WorkDir string
	// Keep leaves the cluster and the scenarios' objects in place on Close.
	Keep bool
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Progress receives human progress lines; nil is quiet.
	Progress io.Writer
	// Defaults are every scenario's run options where RunScenario's own
	// leave a field zero (Cluster, RunID and Keep are the session's).
	Defaults Options
	// RunScenario runs one scenario; nil is Run. Tests replace it.
	RunScenario func(context.Context, Options, *scenario.Scenario) results.Scenario
}

// Session is one run of scalebench: it creates a cluster, runs scenarios on
// it, and on Close collects diagnostics (only when a scenario failed),
// deletes the cluster (unless Keep) and writes the reports. The CLI, the
// suites and comparisons share it. Close must run whatever happens (defer
// it); it is safe to call more than once and from a panicking goroutine's
// deferred calls.
type Session struct {
	cfg SessionConfig

	mu         sync.Mutex
	cluster    clusters.Cluster
	createErr  error
	workDir    string
	ownWorkDir bool
	report     results.Report
	// manifests[i] are the objects report.Scenarios[i] applied.
	manifests [][]*unstructured.Unstructured

	closeOnce sync.Once
	closeErr  error
}

// NewSession returns a session that has created nothing yet.
func NewSession(cfg SessionConfig) *Session {
	if cfg.RunID == "" {
		cfg.RunID = NewRunID()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ClusterName == "" {
		cfg.ClusterName = "scalebench"
	}
	if cfg.RunScenario == nil {
		cfg.RunScenario = Run
	}
	return &Session{cfg: cfg, report: results.Report{
		SchemaVersion: results.SchemaVersion,
		RunID:         cfg.RunID,
		Scenarios:     []results.Scenario{},
	}}
}

// RunID labels everything the session creates.
func (s *Session) RunID() string { return s.cfg.RunID }

// WorkDir is the folder the cluster's files and processes run from; "" before Create.
func (s *Session) WorkDir() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.workDir
}

// Cluster is the session's cluster; nil before Create or when it failed.
func (s *Session) Cluster() clusters.Cluster {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cluster
}

// Create creates the session's cluster. On failure the provider has torn
// down what it started; scenarios run afterwards are reported as not run,
// with this error, so Close still writes a (partial) report.
func (s *Session) Create(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cluster != nil || s.createErr != nil {
		return errors.New("session: create: the cluster was already created")
	}
	s.report.StartedAt = time.Now().UTC()
	err := s.create(ctx)
	if err != nil {
		s.createErr = fmt.Errorf("create %s cluster: %w", s.cfg.Provider.Name(), err)
		return s.createErr
	}
	s.report.StartedAt = time.Now().UTC()
	return nil
}

func (s *Session) create(ctx context.Context) error {
	s.workDir = s.cfg.WorkDir
	if s.workDir == "" {
		dir, err := os.MkdirTemp("", "scalebench-"+s.cfg.RunID+"-")
		if err != nil {
			return fmt.Errorf("work dir: %w", err)
		}
		s.workDir, s.ownWorkDir = dir, true
	}
	if s.cfg.Progress != nil {
		fmt.Fprintf(s.cfg.Progress, "run %s: creating %s cluster\n", s.cfg.RunID, s.cfg.Provider.Name())
	}
	cl, err := s.cfg.Provider.Create(ctx, clusters.Options{
		Name: s.cfg.ClusterName, RunID: s.cfg.RunID, WorkDir: s.workDir, Logger: s.cfg.Logger,
		Progress: s.cfg.Progress, Keep: s.cfg.Keep, IngressAddr: s.cfg.IngressAddr, Settings: s.cfg.Cluster,
		Autoscalers: s.cfg.Autoscalers,
	})
	if err != nil {
		return err
	}
	s.cluster = cl
	return nil
}

// RunScenario runs sc once on the session's cluster and records its result
// for the report. Zero fields of opts take the session's Defaults. Without
// a cluster (Create failed or was not called) the result is an error.
func (s *Session) RunScenario(ctx context.Context, sc *scenario.Scenario, opts Options) results.Scenario {
	return s.runScenario(ctx, sc, opts, 0)
}

// RunTrial is RunScenario numbering the result as the scenario's trial
// (from 1), as a comparison of interleaved trials does.
func (s *Session) RunTrial(ctx context.Context, sc *scenario.Scenario, opts Options, trial int) results.Scenario {
	return s.runScenario(ctx, sc, opts, trial)
}

// runScenario is RunScenario numbering the result as trial (0: no number).
func (s *Session) runScenario(ctx context.Context, sc *scenario.Scenario, opts Options, trial int) results.Scenario {
	res, applied := s.execute(ctx, sc, opts, trial)
	s.record(res, applied)
	return res
}

// execute runs sc (or records why it could not run) without recording the
// result; it returns the objects the run applied.
func (s *Session) execute(ctx context.Context, sc *scenario.Scenario, opts Options, trial int) (results.Scenario, []*unstructured.Unstructured) {
	s.mu.Lock()
	cl, createErr := s.cluster, s.createErr
	s.mu.Unlock()
	var res results.Scenario
	var applied []*unstructured.Unstructured
	if cl == nil {
		res = notRun(ctx, sc, createErr)
	} else {
		o := s.options(cl, opts)
		also := o.Applied
		o.Applied = func(objs []*unstructured.Unstructured) {
			applied = append(applied, objs...)
			if also != nil {
				also(objs)
			}
		}
		res = s.cfg.RunScenario(ctx, o, sc)
	}
	res.Trial = trial
	return res, applied
}

// record adds a result and what it applied to the report.
func (s *Session) record(res results.Scenario, applied []*unstructured.Unstructured) {
	s.mu.Lock()
	s.report.Scenarios = append(s.report.Scenarios, res)
	s.manifests = append(s.manifests, applied)
	s.mu.Unlock()
}

func (s *Session) options(cl clusters.Cluster, o Options) Options {
	d := s.cfg.Defaults
	o.Cluster, o.RunID = cl, s.cfg.RunID
	o.Keep = o.Keep || s.cfg.Keep
	if o.Logger == nil {
		o.Logger = firstSet(d.Logger, s.cfg.Logger)
	}
	if o.Progress == nil {
		o.Progress = firstSet(d.Progress, s.cfg.Progress)
	}
	if o.IngressURL == "" {
		o.IngressURL = d.IngressURL
	}
	if o.Generator == nil {
		o.Generator = d.Generator
	}
	if o.ReadyTimeout == 0 {
		o.ReadyTimeout = d.ReadyTimeout
	}
	if o.DrainTimeout == 0 {
		o.DrainTimeout = d.DrainTimeout
	}
	if o.ScaleDownGrace == 0 {
		o.ScaleDownGrace = d.ScaleDownGrace
	}
	return o
}

// firstSet is the first non-zero of a and b.
func firstSet[T comparable](a, b T) T {
	var zero T
	if a != zero {
		return a
	}
	return b
}

// notRun is the result of a scenario that could not start: the cluster was
// not created. A creation cut short by the caller is interrupted; any other
// creation failure is the platform's.
func notRun(ctx context.Context, sc *scenario.Scenario, createErr error) results.Scenario {
	if createErr == nil {
		createErr = errors.New("session: no cluster (Create was not called)")
	}
	kind := results.ErrorPlatform
	if k := KindOf(createErr); k == results.ErrorInterrupted || ctx.Err() != nil {
		kind = results.ErrorInterrupted
	}
	return results.Scenario{
		Name: sc.Metadata.Name, Autoscaler: sc.Spec.Autoscaler.Type,
		Error: "cluster not created: " + createErr.Error(), ErrorKind: kind,
		Steps: []results.Step{}, Checks: []results.Check{},
	}
}

// RunPlan runs every scenario of the plan, in order, each plan.Repeat times,
// and aggregates the trials of scenarios run more than once. It stops early
// only when ctx is done; the report then holds what ran. After a failed
// Create every scenario is recorded as not run.
func (s *Session) RunPlan(ctx context.Context, plan Plan) {
	repeat := max(plan.Repeat, 1)
	progress := s.cfg.Progress
	var ran []results.Scenario
	if plan.Parallel && len(plan.Scenarios) > 1 {
		ran = s.runParallel(ctx, plan.Scenarios, repeat)
		plan.Scenarios = nil // run above
	}
	for _, sc := range plan.Scenarios {
		for trial := 1; trial <= repeat; trial++ {
			if ctx.Err() != nil && s.Cluster() != nil {
				break
			}
			if progress != nil {
				fmt.Fprintf(progress, "scenario %s (trial %d/%d)\n", sc.Metadata.Name, trial, repeat)
			}
			numbered := 0
			if repeat > 1 {
				numbered = trial
			}
			res := s.runScenario(ctx, sc, Options{}, numbered)
			ran = append(ran, res)
			if progress != nil {
				printVerdict(progress, res, trial, repeat)
			}
			if s.Cluster() == nil {
				break // one "not run" result per scenario is enough
			}
		}
	}
	if repeat <= 1 {
		return
	}
	var names []string
	for _, r := range ran {
		if !slices.Contains(names, r.Name) {
			names = append(names, r.Name)
		}
	}
	for _, name := range names {
		var trials []results.Scenario
		for _, r := range ran {
			if r.Name == name {
				trials = append(trials, r)
			}
		}
		if len(trials) > 1 {
			s.mu.Lock()
			s.report.Aggregates = append(s.report.Aggregates, analysis.Aggregate(name, trials))
			s.mu.Unlock()
		}
	}
}

func printVerdict(w io.Writer, res results.Scenario, trial, repeat int) {
	verdict := "PASS"
	if !res.Passed {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "scenario %s (trial %d/%d): %s\n", res.Name, trial, repeat, verdict)
	if served := res.Metrics.ServedLine(); served != "" {
		fmt.Fprintf(w, "  served: %s\n", served)
	}
	if res.Error != "" {
		fmt.Fprintf(w, "  error (%s): %s\n", res.ErrorKind, res.Error)
	}
	for _, c := range res.Checks {
		if !c.Passed && !c.Skipped {
			fmt.Fprintf(w, "  failed check %q: %s\n", c.Name, c.Detail)
		}
	}
}

// Close ends the session: it fingerprints the environment, collects the
// cluster's diagnostics into Out/diagnostics when a scenario failed, deletes
// the cluster (unless Keep: the provider then leaves it running), removes
// the temporary work folder, and writes the reports to Out. Teardown runs
// even when ctx is already done; a done ctx (or a scenario or creation cut
// short by it) marks the report Interrupted, and an interrupted run collects
// no diagnostics, so that the teardown ends soon after the signal. It
// returns the report and the teardown and report-writing errors, joined; a
// failed diagnostics collection is only logged (the run's verdict does not
// depend on it). Later calls return the same.
func (s *Session) Close(ctx context.Context) (results.Report, error) {
	s.closeOnce.Do(func() { s.closeErr = s.close(context.WithoutCancel(ctx), ctx.Err() != nil) })
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.report, s.closeErr
}

func (s *Session) close(ctx context.Context, cancelled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	rep := &s.report
	rep.Interrupted = cancelled || KindOf(s.createErr) == results.ErrorInterrupted
	for _, sc := range rep.Scenarios {
		if sc.ErrorKind == results.ErrorInterrupted {
			rep.Interrupted = true
		}
	}
	if s.cluster != nil {
		// Taken at the end: components a scenario starts on demand (the
		// SQS emulator and the store) are part of the fingerprint.
		rep.Environment = s.cluster.Environment()
	} else {
		rep.Environment = results.Environment{Provider: s.cfg.Provider.Name(), Emulated: []string{}}
	}
	rep.Environment.Host = results.LocalHost()
	rep.FinishedAt = time.Now().UTC()
	switch {
	case s.cluster == nil || s.cfg.Out == "" || rep.Passed():
	case rep.Interrupted:
		// The user is waiting for the exit: teardown first. Only a check
		// that failed is worth a diagnostics bundle.
		s.cfg.Logger.Info("interrupted: no diagnostics collected", "run", s.cfg.RunID)
	default:
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		dir := filepath.Join(s.cfg.Out, DiagnosticsDir)
		if err := s.cluster.CollectDiagnostics(dctx, dir); err != nil {
			s.cfg.Logger.Warn("collecting diagnostics", "run", s.cfg.RunID, "err", err)
		}
		cancel()
		if err := writeScenarioDiagnostics(dir, rep.Scenarios, s.manifests); err != nil {
			s.cfg.Logger.Warn("writing the scenarios' diagnostics", "run", s.cfg.RunID, "err", err)
		}
		if _, err := os.Stat(dir); err == nil {
			rep.Diagnostics = DiagnosticsDir + "/"
		}
	}
	if s.cluster != nil {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		if err := s.cluster.Delete(dctx); err != nil {
			errs = append(errs, fmt.Errorf("delete %s cluster: %w", s.cfg.Provider.Name(), err))
		}
		cancel()
	}
	if s.ownWorkDir && !s.cfg.Keep {
		if err := os.RemoveAll(s.workDir); err != nil {
			errs = append(errs, fmt.Errorf("remove work dir: %w", err))
		}
	}
	if s.cfg.Out != "" {
		if err := reports.WriteAll(s.cfg.Out, *rep); err != nil {
			errs = append(errs, fmt.Errorf("write reports to %s: %w", s.cfg.Out, err))
		}
	}
	return errors.Join(errs...)
}

// RunSession is a whole session: create the cluster, run the plan, close
// (always, also when a scenario panics through). The report is partial when
// the cluster could not be created; err is the creation error, else the
// error of Close.
func RunSession(ctx context.Context, cfg SessionConfig, plan Plan) (rep results.Report, err error) {
	s := NewSession(cfg)
	defer func() {
		crep, cerr := s.Close(ctx)
		rep, err = crep, errors.Join(err, cerr)
	}()
	err = s.Create(ctx)
	s.RunPlan(ctx, plan)
	return rep, err
}
