package real

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/platform"
)

// Ensure is how the providers get the platform onto a cluster; a variable
// so unit tests replace it with a fake.
var Ensure = platform.EnsureInstalled

// PlatformSettings are what EnsurePlatform needs beyond the cluster.
type PlatformSettings struct {
	// Install allows installing the missing parts; Hint is how a user
	// allows it, named in the error when Install is false.
	Install bool
	Hint    string
	// UninstallOnDelete makes Delete uninstall what this run installed
	// before the provider's own teardown (a cluster the run did not create).
	UninstallOnDelete bool
}

// EnsurePlatform detects the platform parts on the cluster and installs
// the missing ones (package platform, with the Helm SDK), labelled with
// the run id, with the versions of the run (opts.PlatformVersions). The
// parts found and installed, with their versions, are the cluster's
// Platform() and its environment's components.
func (c *Cluster) EnsurePlatform(ctx context.Context, opts clusters.Options, s PlatformSettings) error {
	var versions platform.Versions
	for _, o := range opts.PlatformVersions {
		if err := versions.Set(o); err != nil {
			return fmt.Errorf("%s: --platform-version: %w", c.Kind, err)
		}
	}
	rep, err := Ensure(ctx, c.Config, platform.EnsureOptions{
		RunID: opts.RunID, Plan: platform.Options{Versions: versions, SQS: opts.NeedsSQS},
		Install: s.Install, Hint: s.Hint,
		Logger: opts.Logger, Progress: opts.Progress,
	})
	c.Parts = parts(rep)
	c.LogNamespaces = logNamespaces(opts, versions, rep)
	if s.UninstallOnDelete && len(rep.Installed.Components) > 0 {
		prev := c.Teardown
		c.Teardown = func(ctx context.Context) error {
			err := rep.Uninstall(ctx)
			if prev != nil {
				err = errors.Join(err, prev(ctx))
			}
			return err
		}
	}
	if err != nil {
		return fmt.Errorf("%s cluster: %w", c.Kind, err)
	}
	return nil
}

// parts turns what platform found and installed into the cluster's parts.
func parts(rep platform.Report) []clusters.PlatformPart {
	var out []clusters.PlatformPart
	for _, p := range rep.After.Components {
		part := clusters.PlatformPart{Name: p.Component, Present: p.Present, Version: p.Version, InstalledByRun: rep.InstalledByRun(p.Component)}
		switch {
		case part.InstalledByRun && p.Present:
			part.Detail = "installed by this run with Helm"
		case p.Present:
			part.Detail = "found: " + strings.Join(p.Evidence, ", ")
		default:
			part.Detail = "missing: " + strings.Join(p.Missing, ", ")
		}
		out = append(out, part)
	}
	return out
}

// logNamespaces are where the plan puts its components and where their
// releases were found, sorted, each once.
func logNamespaces(opts clusters.Options, versions platform.Versions, rep platform.Report) []string {
	set := map[string]bool{}
	if p, err := platform.NewPlan(platform.Options{Versions: versions, SQS: opts.NeedsSQS}); err == nil {
		for _, c := range p.Components {
			set[c.Namespace] = true
		}
	}
	for _, pr := range rep.After.Components {
		if pr.ReleaseNamespace != "" {
			set[pr.ReleaseNamespace] = true
		}
	}
	return slices.Sorted(maps.Keys(set))
}
