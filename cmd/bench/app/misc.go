package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/manifests"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

func scenariosCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("scenarios", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	bs, err := scenario.Builtins()
	if err != nil {
		return harnessErr(err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tAUTOSCALER\tREPLICAS\tLOAD\tKNOBS\tDESCRIPTION")
	for _, s := range bs {
		a := s.Spec.Autoscaler
		knobs := analysis.Knobs(s)
		var kv []string
		for _, k := range []string{"cpuUtilizationPercent", "pollingIntervalSeconds", "cooldownPeriodSeconds", "queueLength", "scaledownPeriodSeconds", "httpAddOnAPI", "scaleDownStabilizationSeconds", "maxErrorRate"} {
			if v, ok := knobs[k]; ok {
				kv = append(kv, k+"="+v)
			}
		}
		var ld string
		if h := s.Spec.Load.HTTP; h != nil {
			ld = "http " + h.Summary()
		}
		if q := s.Spec.Load.SQS; q != nil && len(q.Profile) > 0 {
			ld = "sqs profile " + scenario.DescribeProfile(q.Profile)
		} else if q != nil {
			ld = fmt.Sprintf("sqs %d msgs, batches of %d", q.Messages, q.BatchSize)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d..%d\t%s\t%s\t%s\n", s.Metadata.Name, a.Type, *a.MinReplicas, a.MaxReplicas, ld, strings.Join(kv, " "), s.Metadata.Description)
	}
	return tw.Flush()
}

func reportCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("report", stderr)
	out := fs.String("out", "", "folder for the re-rendered reports (default: the JSON file's folder)")
	if err := parse(fs, reorder(args)); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("report: want exactly one report.json path")
	}
	in := fs.Arg(0)
	f, err := os.Open(in)
	if err != nil {
		return usageErr("report: %v", err)
	}
	defer f.Close()
	rep, err := reports.ReadJSON(f)
	if err != nil {
		return usageErr("report %s: %v", in, err)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Dir(in)
	}
	if err := reports.WriteAll(dir, rep); err != nil {
		return harnessErr(err)
	}
	fmt.Fprintf(stdout, "wrote %s, %s, %s and %s in %s\n", reports.JSONFile, reports.JUnitFile, reports.MarkdownFile, reports.HTMLFile, dir)
	return nil
}

// reorder moves flags before positional arguments, so "report FILE --out D" works.
func reorder(args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			if !strings.Contains(a, "=") && i+1 < len(args) && (a == "--out" || a == "-out") {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return append(flags, pos...)
}

func componentsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("components", stderr)
	list := fs.Bool("list", false, "only list, do not build")
	progress := fs.String("progress", "auto", "progress lines on stderr: auto (when a terminal), always, never")
	var names stringList
	fs.Var(&names, "scenario", "build only what the emulated cluster runs for this built-in scenario or scenario file (repeatable; default: every component)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("components: unexpected arguments %q", fs.Args())
	}
	// Without --scenario every binary is wanted (make components, CI).
	var want []string
	if len(names) > 0 {
		scs, err := resolveScenarios(names)
		if err != nil {
			return err
		}
		want = emulated.RequiredBinaries(runner.Plan{Scenarios: scs}.Autoscalers())
	}
	dir, err := components.DefaultCacheDir()
	if err != nil {
		return harnessErr(err)
	}
	b := &components.Builder{CacheDir: dir, Versions: components.DefaultVersions(), Logger: slog.New(slog.DiscardHandler), Progress: progressWriter(stderr, *progress)}
	print := func() (missing int) {
		st := b.Status()
		sort.SliceStable(st, func(i, j int) bool { return st[i].Component < st[j].Component })
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "BINARY\tCOMPONENT\tVERSION\tSTATE")
		for _, s := range st {
			state := "cached"
			switch {
			case !s.Cached && want != nil && !slices.Contains(want, s.Binary):
				state = "missing (not needed by these scenarios)"
			case !s.Cached:
				state = "missing"
				missing++
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Binary, s.Component, s.Version, state)
		}
		tw.Flush()
		return missing
	}
	fmt.Fprintf(stdout, "cache: %s\n", dir)
	missing := print()
	if *list || missing == 0 {
		return nil
	}
	fmt.Fprintf(stdout, "building %d missing binaries (a cold build of every component takes about 20 minutes on 2 cores)\n", missing)
	start := time.Now()
	if _, err := b.Ensure(ctx, want...); err != nil {
		return harnessErr(err)
	}
	fmt.Fprintf(stdout, "built in %s\n", time.Since(start).Round(time.Second))
	print()
	return nil
}

// resolveScenario reads a built-in scenario or a scenario file, and the
// manifests its workload names ("-": stdin).
func resolveScenario(nameOrPath string) (*scenario.Scenario, error) {
	return manifests.Resolve(nameOrPath, os.Stdin)
}

// resolveScenarios resolves every name (resolveScenario) before anything is
// created; the errors of all that fail are one usage error.
func resolveScenarios(names []string) ([]*scenario.Scenario, error) {
	var scs []*scenario.Scenario
	var errs []error
	for _, n := range names {
		s, err := resolveScenario(n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scs = append(scs, s)
	}
	if len(errs) > 0 {
		return nil, &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
	}
	return scs, nil
}

// checkLoads refuses, before anything is created, a load the cluster kind
// cannot send: a CPU profile needs a data plane that drives the pods' CPU.
func checkLoads(cmd, kind string, provider clusters.Provider, scs []*scenario.Scenario) error {
	var errs []error
	for _, s := range scs {
		if s.Spec.Load.Type != scenario.LoadCPU {
			continue
		}
		if d, ok := provider.(clusters.CPUDriverProvider); ok && d.DrivesCPU() {
			continue
		}
		errs = append(errs, fmt.Errorf("%s: scenario %s: spec.load.type: cpu is not supported on cluster kind %q: a CPU profile is driven through the emulated data plane, and the pods of a real cluster run the real app (use --cluster emulated, or load type http)", cmd, s.Metadata.Name, kind))
	}
	if len(errs) > 0 {
		return &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
	}
	return nil
}

// planNodes hands the scenarios' node needs (spec.cluster.nodes, maximum
// replicas of all their apps, pod requests) to a provider that creates its nodes as needed;
// after --node-cpu, which sets the per-node CPU they are counted in. A
// scenario's node settings on a cluster kind with fixed nodes are ignored
// (real clusters have the nodes they have); the report's environment
// states the emulated cluster's.
func planNodes(cmd string, provider clusters.Provider, scs []*scenario.Scenario) error {
	np, ok := provider.(clusters.NodePlanner)
	if !ok {
		return nil
	}
	var needs []clusters.NodeNeed
	for _, s := range scs {
		n := clusters.NodeNeed{
			Scenario:      s.Metadata.Name,
			MaxReplicas:   int(s.Spec.Autoscaler.MaxReplicas) * s.AppCount(), // K copies at once
			CPURequest:    s.Spec.Workload.Resources.Requests.CPU,
			MemoryRequest: s.Spec.Workload.Resources.Requests.Memory,
		}
		if c := s.Spec.Cluster; c != nil && c.Nodes != nil {
			n.Count, n.CPU, n.Memory, n.Pods = int(c.Nodes.Count), c.Nodes.CPU, c.Nodes.Memory, int(c.Nodes.Pods)
		}
		needs = append(needs, n)
	}
	if err := np.PlanNodes(needs); err != nil {
		return usageErr("%s: %v", cmd, err)
	}
	return nil
}
