// Package app is the bench command line: one flag set per subcommand, and
// Run returning an error whose exit code is documented.
package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/scalebench/scalebench/loadjob"
)

// Exit codes.
const (
	ExitOK        = 0
	ExitViolation = 1
	ExitUsage     = 2
	ExitHarness   = 3
)

// ExitError carries an exit code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

func usageErr(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

func harnessErr(err error) error { return &ExitError{Code: ExitHarness, Err: err} }

const usage = `bench — autoscaling benchmarks for Spin apps on Kubernetes

Usage:
  bench run [--cluster emulated|k3d|kind|existing] [--scenario NAME|FILE]... [--repeat N] [--out DIR] [--keep]
            [--kubeconfig FILE] [--context NAME] [--install-platform] [--node-image IMAGE] [--agents N] [--port MAP]...
  bench compare [--scenario NAME|FILE]... [--trials N] [--seed S] [--out DIR]
                             compare two or more scenarios over N interleaved trials each on one
                             cluster: medians, bootstrap intervals, verdicts (compare.json/.md/.html)
  bench diff OLD NEW [--rel F] [--abs-seconds S] ...
                             compare two report.json or compare.json; exit 1 on a regression
  bench plan [--cluster KIND] [--scenario NAME|FILE]... [--platform-version NAME=VERSION]...
                             print what a run would create, install and apply, touching nothing
  bench scenarios            list the built-in scenarios and their knobs
  bench report FILE [--out DIR]
                             re-render report.md, report.html and report.xml from a report.json
  bench cluster up           keep an emulated cluster running until interrupted; prints its kubeconfig
  bench components [--list]  list the emulated cluster's components and build the missing ones
  bench explain [--output text|json] FILE|DIR|-|SCENARIO
                             what scalebench understands of manifests or a scenario: target,
                             autoscaler, knobs, budget, expectations, predicted steps
  bench calibrate [--again]  measure (once per machine, cached) the CPU cost of one cpu-load-gen request
  bench cleanup [--yes] [--kept]
                             list what crashed runs left (clusters, processes); --yes removes it
  bench loadgen --url URL [--pods N --start-at TIME] ...
                             what an in-cluster load pod runs (load.placement: cluster): its share of
                             the load, per-second samples as JSON lines on stdout

Exit codes: 0 all expectations met, 1 an expectation violated, 2 usage error, 3 harness error,
130 interrupted (SIGINT/SIGTERM: the load stops, what the run started is torn down and the
partial report written; a second signal exits at once).
Run "bench COMMAND -h" for a command's flags.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	err := Run(ctx, args, stdout, stderr)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Code != ExitViolation {
			fmt.Fprintf(stderr, "bench: %v\n", ee.Err)
		}
		return ee.Code
	}
	fmt.Fprintf(stderr, "bench: %v\n", err)
	return ExitHarness
}

// Run runs one bench command.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usageErr("no command given")
	}
	switch args[0] {
	case "run":
		return runCmd(ctx, args[1:], stdout, stderr)
	case "compare":
		return compareCmd(ctx, args[1:], stdout, stderr)
	case "diff":
		return diffCmd(args[1:], stdout, stderr)
	case "plan":
		return planCmd(ctx, args[1:], stdout, stderr)
	case "scenarios":
		return scenariosCmd(args[1:], stdout, stderr)
	case "report":
		return reportCmd(args[1:], stdout, stderr)
	case "cluster":
		return clusterCmd(ctx, args[1:], stdout, stderr)
	case "components":
		return componentsCmd(ctx, args[1:], stdout, stderr)
	case "calibrate":
		return calibrateCmd(ctx, args[1:], stdout, stderr)
	case "cleanup":
		return cleanupCmd(ctx, args[1:], stdout, stderr)
	case "explain":
		return explainCmd(ctx, args[1:], os.Stdin, stdout, stderr)
	case loadjob.CommandName:
		return loadgenCmd(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return usageErr("unknown command %q (commands: run, plan, compare, diff, scenarios, report, cluster, components, calibrate, cleanup, explain, loadgen)", args[0])
}

func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("bench "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &ExitError{Code: ExitUsage, Err: err}
	}
	return nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error {
	*s = append(*s, v)
	return nil
}

// progressWriter is stderr when it is a terminal, else nil (quiet).
func progressWriter(stderr io.Writer, mode string) io.Writer {
	switch mode {
	case "always":
		return stderr
	case "never":
		return nil
	}
	if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		return stderr
	}
	return nil
}
