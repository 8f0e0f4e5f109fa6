package compare

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

// Config configures Run.
type Config struct {
	// Scenarios are compared in this order (at least two).
	Scenarios []*scenario.Scenario
	// Trials is the number of trials of each scenario (at least one).
	Trials int
	// RestTimeout bounds the wait for the cluster to be at rest before
	// each trial (default 4 minutes).
	RestTimeout time.Duration
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Progress receives "trial k of n" lines with the time left; nil is quiet.
	Progress io.Writer
	// Now is the clock for the time-left estimate (default time.Now).
	Now func() time.Time
	// RunTrial runs one trial; nil is the session's RunTrial. Tests replace it.
	RunTrial func(ctx context.Context, sc *scenario.Scenario, trial int) results.Scenario
	// AtRest waits for the cluster to be at rest, given the namespaces of
	// earlier trials; nil is WaitAtRest on the session's cluster. It
	// returns a description of what it checked.
	AtRest func(ctx context.Context, earlier []string) (string, error)
	// DeleteNamespace deletes a trial's namespace after it; nil deletes it
	// on the session's cluster (the next rest wait waits for it to go).
	DeleteNamespace func(ctx context.Context, namespace string)
}

// Schedule is the interleaved order of the trials: round k runs every
// scenario's k-th trial, in the scenarios' order (A B A B …), so that a
// drift of the machine hits every scenario alike.
func Schedule(scenarios []*scenario.Scenario, trials int) []results.Trial {
	var out []results.Trial
	for k := 1; k <= trials; k++ {
		for _, sc := range scenarios {
			out = append(out, results.Trial{Scenario: sc.Metadata.Name, Trial: k, Namespace: TrialNamespace(sc.Metadata.Name, k)})
		}
	}
	return out
}

// TrialNamespace is the fresh namespace of one trial.
func TrialNamespace(scenarioName string, trial int) string {
	suffix := fmt.Sprintf("-t%d", trial)
	base := "cmp-" + scenarioName
	if len(base)+len(suffix) > 63 {
		base = base[:63-len(suffix)]
	}
	return base + suffix
}

// Run runs the trials on the session's cluster (already created), each in
// its fresh namespace, each only once the cluster is at rest, and deletes
// each trial's namespace afterwards. It returns the trials that ran; the
// error says why it stopped early (the context ended, or the cluster did
// not come to rest). A trial that errored is kept but not used.
func Run(ctx context.Context, sess *runner.Session, cfg Config) ([]results.Trial, error) {
	if len(cfg.Scenarios) < 2 {
		return nil, errors.New("compare: need at least two scenarios")
	}
	if cfg.Trials < 1 {
		return nil, fmt.Errorf("compare: trials %d: want >= 1", cfg.Trials)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.RestTimeout == 0 {
		cfg.RestTimeout = 4 * time.Minute
	}
	byName := map[string]*scenario.Scenario{}
	for _, sc := range cfg.Scenarios {
		if byName[sc.Metadata.Name] != nil {
			return nil, fmt.Errorf("compare: scenario %q given twice", sc.Metadata.Name)
		}
		byName[sc.Metadata.Name] = sc
	}
	var clients *kube.Clients
	client := func() (*kube.Clients, error) {
		if clients != nil {
			return clients, nil
		}
		cl := sess.Cluster()
		if cl == nil {
			return nil, errors.New("compare: the session has no cluster")
		}
		c, err := kube.NewClients(cl.RESTConfig())
		clients = c
		return c, err
	}
	if sess == nil && (cfg.RunTrial == nil || cfg.AtRest == nil || cfg.DeleteNamespace == nil) {
		return nil, errors.New("compare: no session")
	}
	if cfg.RunTrial == nil {
		cfg.RunTrial = func(ctx context.Context, sc *scenario.Scenario, trial int) results.Scenario {
			return sess.RunTrial(ctx, sc, runner.Options{}, trial)
		}
	}
	if cfg.AtRest == nil {
		cfg.AtRest = func(ctx context.Context, earlier []string) (string, error) {
			c, err := client()
			if err != nil {
				return "", err
			}
			return WaitAtRest(ctx, c, earlier, cfg.RestTimeout)
		}
	}
	if cfg.DeleteNamespace == nil {
		cfg.DeleteNamespace = func(ctx context.Context, ns string) {
			c, err := client()
			if err != nil {
				cfg.Logger.Warn("delete trial namespace", "namespace", ns, "err", err)
				return
			}
			deleteNamespace(ctx, c, ns, cfg.Logger)
		}
	}
	plan := Schedule(cfg.Scenarios, cfg.Trials)
	start := cfg.Now()
	var done []results.Trial
	var earlier []string
	for i, t := range plan {
		if ctx.Err() != nil {
			return done, fmt.Errorf("compare: stopped before trial %d of %d: %w", i+1, len(plan), context.Cause(ctx))
		}
		if cfg.Progress != nil {
			left := "estimating the time left after the first trial"
			if i > 0 {
				per := cfg.Now().Sub(start) / time.Duration(i)
				left = fmt.Sprintf("about %s left", (per * time.Duration(len(plan)-i)).Round(time.Second))
			}
			fmt.Fprintf(cfg.Progress, "compare: trial %d of %d: %s (its trial %d of %d); %s\n", i+1, len(plan), t.Scenario, t.Trial, cfg.Trials, left)
		}
		restStart := cfg.Now()
		rest, err := cfg.AtRest(ctx, earlier)
		if err != nil {
			return done, fmt.Errorf("compare: before trial %d of %d (%s #%d): the cluster did not come to rest: %w", i+1, len(plan), t.Scenario, t.Trial, err)
		}
		t.RestWaitSeconds = round(cfg.Now().Sub(restStart).Seconds(), 3)
		t.Rest = rest
		sc := *byName[t.Scenario]
		sc.Spec.Namespace = t.Namespace
		t.Result = cfg.RunTrial(ctx, &sc, t.Trial)
		t.Used = t.Result.Error == ""
		earlier = append(earlier, t.Namespace)
		done = append(done, t)
		if cfg.Progress != nil {
			verdict := "passed its checks"
			switch {
			case t.Result.Error != "":
				verdict = fmt.Sprintf("error (%s), left out of the statistics: %s", t.Result.ErrorKind, t.Result.Error)
			case !t.Result.Passed:
				verdict = "failed a check (still measured)"
			}
			fmt.Fprintf(cfg.Progress, "compare: trial %d of %d: %s #%d %s\n", i+1, len(plan), t.Scenario, t.Trial, verdict)
		}
		cfg.DeleteNamespace(ctx, t.Namespace)
	}
	return done, nil
}
