package platform

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"k8s.io/client-go/rest"
)

// EnsureOptions say how EnsureInstalled treats a cluster's missing components.
type EnsureOptions struct {
	// RunID labels everything installed (required when something is installed).
	RunID string
	// Plan shapes the full plan (versions overridden per run); only its missing components are installed.
	Plan Options
	// Install allows installing the missing components; without it a missing component is an error naming
	// each one and Hint.
	Install bool
	// Hint says how to allow the install (a flag), in the error when Install is false.
	Hint string
	// Timeout bounds each component's install; 0 is DefaultTimeout.
	Timeout  time.Duration
	Logger   *slog.Logger
	Progress io.Writer
}

// Report is what EnsureInstalled found and did.
type Report struct {
	// Before and After are what the cluster had of the full plan before and after the install.
	Before, After Installed
	// Installed is the plan of the components this run installed (empty when none were missing).
	Installed Plan
	Outcomes  []Outcome

	uninstall func(ctx context.Context, p Plan) error
}

// Uninstall removes what this run installed (nothing when it installed nothing).
func (r Report) Uninstall(ctx context.Context) error {
	if r.uninstall == nil || len(r.Installed.Components) == 0 {
		return nil
	}
	return r.uninstall(ctx, r.Installed)
}

// InstalledByRun reports whether this run installed the component.
func (r Report) InstalledByRun(name string) bool {
	_, ok := r.Installed.Component(name)
	return ok
}

// EnsureInstalled is the one way a cluster provider gets the platform onto a cluster: it detects what the
// cluster has of the plan, and installs (with Installer) only the components it lacks — never upgrading or
// changing one it finds, whoever installed it. Without opts.Install a missing component is an error naming it.
// cert-manager is needed only to install the Spin operator: a cluster that has the operator may lack it.
func EnsureInstalled(ctx context.Context, cfg *rest.Config, opts EnsureOptions) (Report, error) {
	in := &Installer{Config: cfg, RunID: opts.RunID, Timeout: opts.Timeout, Logger: opts.Logger, Progress: opts.Progress}
	return ensure(ctx, opts, func(ctx context.Context, p Plan) (Installed, error) { return Detect(ctx, cfg, p) }, in)
}

// installer is what ensure needs of an Installer (a fake in unit tests).
type installer interface {
	Install(ctx context.Context, p Plan) ([]Outcome, error)
	Uninstall(ctx context.Context, p Plan) error
}

func ensure(ctx context.Context, opts EnsureOptions, detect func(context.Context, Plan) (Installed, error), in installer) (Report, error) {
	full, err := NewPlan(opts.Plan)
	if err != nil {
		return Report{}, err
	}
	before, err := detect(ctx, full)
	if err != nil {
		return Report{}, err
	}
	r := Report{Before: before, After: before}
	missing := needed(before)
	if len(missing) == 0 {
		return r, nil
	}
	if !opts.Install {
		hint := ""
		if opts.Hint != "" {
			hint = ": " + opts.Hint
		}
		return r, fmt.Errorf("platform: the cluster lacks %s%s", strings.Join(missing, ", "), hint)
	}
	po := opts.Plan
	po.Only = missing
	p, err := NewPlan(po)
	if err != nil {
		return r, err
	}
	r.Installed, r.uninstall = p, in.Uninstall
	out, err := in.Install(ctx, p)
	r.Outcomes = out
	if err != nil {
		return r, err
	}
	after, err := detect(ctx, full)
	if err != nil {
		return r, err
	}
	r.After = after
	return r, nil
}

// needed are the missing components a run needs: all of them, except cert-manager when the Spin operator (the
// only component that uses it, for its webhooks' certificates) is present already and so is not installed.
func needed(have Installed) []string {
	var out []string
	for _, n := range have.Missing() {
		if n == CertManager {
			if so, ok := have.Of(SpinOperator); ok && so.Present {
				continue
			}
		}
		out = append(out, n)
	}
	return out
}
