package app

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/scalebench/scalebench/compare"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
)

func diffCmd(args []string, stdout, stderr io.Writer) error {
	th := compare.DefaultThresholds()
	fs := newFlagSet("diff", stderr)
	fs.Float64Var(&th.Relative, "rel", th.Relative, "relative threshold: a regression is worse by more than this fraction of the old value")
	absSeconds := fs.Float64("abs-seconds", th.Absolute[results.UnitSeconds], "absolute threshold of durations and latencies, seconds")
	absRatio := fs.Float64("abs-ratio", th.Absolute[results.UnitRatio], "absolute threshold of error rates (0.02 = 2 percentage points)")
	absReplica := fs.Float64("abs-replica-seconds", th.Absolute[results.UnitReplicaSeconds], "absolute threshold of replicaSeconds")
	absRate := fs.Float64("abs-per-second", th.Absolute[results.UnitPerSecond], "absolute threshold of goodput, requests/s")
	md := fs.String("md", "", "also write the Markdown table to this file (e.g. the job summary)")
	var opts compare.DiffOptions
	metrics := fs.String("metrics", "", "compare only these metrics, comma-separated (default: every metric)")
	fs.BoolVar(&opts.TwoSided, "two-sided", false, "fail a change beyond the thresholds in either direction (do two runs agree?), not only a worse one")
	syncPeriods := fs.Int("sync-periods", 0, "add N HPA sync periods to --abs-seconds, read from both reports' environment.knobs hpa.syncPeriod (which must agree)")
	fs.BoolVar(&opts.RequirePass, "require-pass", false, "also fail a scenario that did not pass every check (or errored, or was interrupted) in either report")
	if err := parse(fs, reorderDiff(fs, args)); err != nil {
		return err
	}
	if *metrics != "" {
		opts.Metrics = strings.Split(*metrics, ",")
		if err := compare.CheckMetrics(opts.Metrics); err != nil {
			return usageErr("diff: --metrics: %v", err)
		}
	}
	if *syncPeriods < 0 {
		return usageErr("diff: --sync-periods %d: must be >= 0", *syncPeriods)
	}
	if fs.NArg() != 2 {
		return usageErr("diff: want OLD and NEW (two report.json or compare.json files), got %d arguments", fs.NArg())
	}
	for name, v := range map[string]float64{"--rel": th.Relative, "--abs-seconds": *absSeconds, "--abs-ratio": *absRatio, "--abs-replica-seconds": *absReplica, "--abs-per-second": *absRate} {
		if v < 0 {
			return usageErr("diff: %s %g: must be >= 0", name, v)
		}
	}
	th.Absolute = map[string]float64{results.UnitSeconds: *absSeconds, results.UnitRatio: *absRatio, results.UnitReplicaSeconds: *absReplica, results.UnitPerSecond: *absRate}
	old, err := readFigures(fs.Arg(0))
	if err != nil {
		return err
	}
	cur, err := readFigures(fs.Arg(1))
	if err != nil {
		return err
	}
	if *syncPeriods > 0 {
		sync, err := compare.SyncPeriod(old, cur)
		if err != nil {
			return usageErr("diff: --sync-periods: %v", err)
		}
		extra := float64(*syncPeriods) * sync.Seconds()
		th.AbsoluteWhy = map[string]string{results.UnitSeconds: fmt.Sprintf("%s margin + %d × the HPA sync period (environment.knobs hpa.syncPeriod %s)",
			results.FormatValue(*absSeconds, results.UnitSeconds, false), *syncPeriods, sync)}
		th.Absolute[results.UnitSeconds] += extra
	}
	opts.Thresholds = th
	res := compare.Diff(old, cur, opts)
	if err := res.WriteMarkdown(stdout, fs.Arg(0), fs.Arg(1)); err != nil {
		return harnessErr(err)
	}
	if *md != "" {
		f, err := os.Create(*md)
		if err != nil {
			return harnessErr(fmt.Errorf("diff: --md: %w", err))
		}
		werr := res.WriteMarkdown(f, fs.Arg(0), fs.Arg(1))
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return harnessErr(fmt.Errorf("diff: --md: %w", werr))
		}
	}
	if res.Regressions > 0 {
		return &ExitError{Code: ExitViolation, Err: fmt.Errorf("%d regressions", res.Regressions)}
	}
	return nil
}

func readFigures(path string) (compare.Figures, error) {
	f, err := os.Open(path)
	if err != nil {
		return compare.Figures{}, usageErr("diff: %v", err)
	}
	defer f.Close()
	doc, err := reports.ReadDocument(f)
	if err != nil {
		return compare.Figures{}, usageErr("diff %s: %v", path, err)
	}
	if doc.Comparison != nil {
		return compare.FiguresOfComparison(*doc.Comparison), nil
	}
	return compare.FiguresOfReport(*doc.Report), nil
}

// reorderDiff moves flags before the two paths, so "diff OLD NEW --rel 0.1" works.
// A boolean flag (--two-sided) takes no value from the next argument.
func reorderDiff(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) > 1 && a[0] == '-' {
			flags = append(flags, a)
			if !containsEq(a) && !isBoolFlag(fs, strings.TrimLeft(a, "-")) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func isBoolFlag(fs *flag.FlagSet, name string) bool {
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func containsEq(s string) bool {
	for _, c := range s {
		if c == '=' {
			return true
		}
	}
	return false
}
