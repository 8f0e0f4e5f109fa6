package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/manifests"
	"github.com/scalebench/scalebench/scenario"
)

// explanation is what bench explain prints (--output json).
type explanation struct {
	Source string `json:"source"`
	// Target and Autoscaler are what the manifests say (absent for a
	// scenario).
	Target     *manifests.Target     `json:"target,omitempty"`
	Autoscaler *manifests.Autoscaler `json:"autoscaler,omitempty"`
	Notes      []string              `json:"notes,omitempty"`
	Scenario   string                `json:"scenario"`
	// Load is the scenario's load in a few words.
	Load string `json:"load,omitempty"`
	// Expectations are those a run would check; Derived says which come
	// from the budget.
	Expectations scenario.Expectations `json:"expectations"`
	Derived      []string              `json:"derived,omitempty"`
	Budget       budget.Budget         `json:"budget"`
}

// explainCmd prints what scalebench understands of manifests (a file, a
// folder or - for stdin) or of a scenario (a built-in name or a scenario
// file), without running anything.
func explainCmd(_ context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("explain", stderr)
	output := fs.String("output", "text", "text or json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: bench explain [--output text|json] FILE|DIR|-|SCENARIO")
		fmt.Fprintln(stderr, "Prints the scale target, autoscaler, knobs, the budget they imply, the expectations a run checks and the predicted replica steps under a saturating load.")
		fs.PrintDefaults()
	}
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErr("explain: want one FILE, DIR, - or scenario name, got %d arguments", fs.NArg())
	}
	if *output != "text" && *output != "json" {
		return usageErr("explain: --output %q: allowed: text, json", *output)
	}
	ex, err := explain(fs.Arg(0), stdin)
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ex)
	}
	return writeExplanation(stdout, ex)
}

func explain(arg string, stdin io.Reader) (*explanation, error) {
	var s *scenario.Scenario
	ex := &explanation{Source: arg}
	if isScenario(arg) {
		var err error
		if s, err = manifests.Resolve(arg, stdin); err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
	} else {
		c, err := manifests.Load(arg, stdin)
		if err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		if s, err = c.Scenario("manifests"); err != nil {
			return nil, &ExitError{Code: ExitUsage, Err: err}
		}
		ex.Target, ex.Autoscaler, ex.Notes = &c.Target, &c.Scaler, c.Notes
	}
	if m := s.Manifests; m != nil {
		w, a := s.Spec.Workload, s.Spec.Autoscaler
		ex.Target = &manifests.Target{Kind: w.Kind, Name: w.Name, Image: w.Image, Executor: w.Executor,
			CPURequest: w.Resources.Requests.CPU, CPULimit: w.Resources.Limits.CPU, MemoryRequest: w.Resources.Requests.Memory, MemoryLimit: w.Resources.Limits.Memory}
		ex.Autoscaler = &manifests.Autoscaler{Kind: m.AutoscalerKind, Name: m.AutoscalerName, Type: a.Type, MinReplicas: *a.MinReplicas, MaxReplicas: a.MaxReplicas,
			CPUUtilization: a.CPUUtilization, Behavior: a.Behavior, HPAName: m.HPAName, ScaledObjectName: m.ScaledObjectName}
		ex.Notes = append(ex.Notes, "manifests "+m.Source+", applied as they are")
		ex.Notes = append(ex.Notes, m.Notes...)
	}
	ex.Load = loadSummary(s)
	derived, err := budget.Derive(s)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	b, err := budget.For(*s)
	if err != nil {
		return nil, &ExitError{Code: ExitUsage, Err: err}
	}
	ex.Scenario, ex.Expectations, ex.Derived, ex.Budget = s.Metadata.Name, s.Spec.Expectations, derived, b
	return ex, nil
}

// isScenario tells a scenario (a built-in name, or a file whose kind is
// Scenario) from manifests.
func isScenario(arg string) bool {
	if arg == "-" {
		return false
	}
	fi, err := os.Stat(arg)
	if err != nil {
		return true // a built-in name, or an error Resolve names
	}
	if fi.IsDir() {
		return false
	}
	b, err := os.ReadFile(arg)
	return err == nil && strings.Contains(string(b), "kind: "+scenario.Kind) && strings.Contains(string(b), scenario.APIVersion)
}

func writeExplanation(w io.Writer, ex *explanation) error {
	var err error
	p := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format, args...)
		}
	}
	p("source: %s\n", ex.Source)
	if t := ex.Target; t != nil {
		p("target: %s/%s, image %s, cpu request %s limit %s\n", t.Kind, t.Name, t.Image, dash(t.CPURequest), dash(t.CPULimit))
	}
	if a := ex.Autoscaler; a != nil {
		p("autoscaler: %s/%s (%s), replicas %d..%d, scaling HPA %s\n", a.Kind, a.Name, a.Type, a.MinReplicas, a.MaxReplicas, a.HPAName)
	}
	for _, n := range ex.Notes {
		p("note: %s\n", n)
	}
	if ex.Load != "" {
		p("load: %s\n", ex.Load)
	}
	p("\nbudget:\n")
	if err == nil {
		err = ex.Budget.WriteText(w)
	}
	p("\nexpectations a run checks:\n")
	e := ex.Expectations
	if u := e.ScaleUp; u != nil {
		p("    scaleUp: %d Ready within %s\n", u.Replicas, u.Within)
	}
	if d := e.ScaleDown; d != nil {
		p("    scaleDown: back at %d within %s of the load end\n", *d.Replicas, d.Within)
	}
	if a := e.Activation; a != nil {
		p("    activation: within %s\n", a.Within)
	}
	if r := e.MaxErrorRate; r != nil {
		p("    maxErrorRate: %g\n", *r)
	}
	for _, d := range ex.Derived {
		p("    derived: %s\n", d)
	}
	return err
}

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}

// loadSummary is a scenario's load in a few words.
func loadSummary(s *scenario.Scenario) string {
	l := s.Spec.Load
	switch {
	case l.Type == scenario.LoadHTTP && l.HTTP != nil:
		return "http " + l.HTTP.Summary()
	case l.Type == scenario.LoadCPU && l.CPU != nil:
		var steps []string
		for _, st := range l.CPU.Profile {
			steps = append(steps, fmt.Sprintf("%s for %s", st.Utilization, st.For))
		}
		return fmt.Sprintf("cpu profile (of each pod's CPU request; capped at its limit, %g%% here): %s", s.Spec.Workload.CPUCeiling(), strings.Join(steps, ", "))
	case l.Type == scenario.LoadSQS && l.SQS != nil:
		return "sqs " + l.SQS.Describe()
	}
	return ""
}
