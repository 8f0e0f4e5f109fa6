package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
)

// cleanupCmd lists what crashed (or --keep) runs left behind, for every
// cluster kind that can tell (clusters.LeftoverCleaner), and with --yes
// removes it. Without --yes nothing is touched (a dry run).
func cleanupCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("cleanup", stderr)
	yes := fs.Bool("yes", false, "remove what is listed (default: only list it)")
	kept := fs.Bool("kept", false, "also list and remove clusters kept with --keep")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("cleanup: unexpected arguments %q", fs.Args())
	}
	type found struct {
		cleaner clusters.LeftoverCleaner
		kind    string
		ls      []clusters.Leftover
	}
	var kinds []found
	var errs []error
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER KIND\tWHAT\tRUN\tNAME\tWHY")
	n, skippedKept := 0, 0
	for _, kind := range all.Kinds {
		p, err := cleanupProviderFor(kind)
		if err != nil {
			continue // a kind not built yet left nothing
		}
		c, ok := p.(clusters.LeftoverCleaner)
		if !ok {
			continue
		}
		ls, err := c.Leftovers(ctx)
		if err != nil {
			errs = append(errs, fmt.Errorf("cleanup: %s: %w", kind, err))
			continue
		}
		var pick []clusters.Leftover
		for _, l := range ls {
			if l.Kept && !*kept {
				skippedKept++
				continue
			}
			pick = append(pick, l)
			run := l.RunID
			if run == "" {
				run = "?"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", kind, l.Kind, run, l.Name, l.Reason)
			n++
		}
		kinds = append(kinds, found{c, kind, pick})
	}
	if n == 0 {
		fmt.Fprintln(stdout, "nothing left over by scalebench runs")
	} else {
		tw.Flush()
	}
	if skippedKept > 0 {
		fmt.Fprintf(stdout, "%d item(s) of clusters kept with --keep not listed (add --kept)\n", skippedKept)
	}
	if n > 0 && !*yes {
		fmt.Fprintln(stdout, "dry run: nothing removed; run `bench cleanup --yes` to remove the above")
	}
	if *yes {
		for _, f := range kinds {
			if len(f.ls) == 0 {
				continue
			}
			if err := f.cleaner.RemoveLeftovers(ctx, f.ls); err != nil {
				errs = append(errs, fmt.Errorf("cleanup: %s: %w", f.kind, err))
				continue
			}
			fmt.Fprintf(stdout, "removed %d item(s) of %s clusters\n", len(f.ls), f.kind)
		}
	}
	if len(errs) > 0 {
		return harnessErr(errors.Join(errs...))
	}
	return nil
}

// cleanupProviderFor is where cleanup finds providers (tests replace it).
var cleanupProviderFor = all.Provider
