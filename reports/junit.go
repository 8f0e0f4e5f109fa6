package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/scalebench/scalebench/results"
)

// JUnit XML, in the subset that GitHub test reporters (and Jenkins, GitLab)
// read: testsuites > testsuite > properties, testcase > failure | error.

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Hostname   string          `xml:"hostname,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  *junitText      `xml:"system-out"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr,omitempty"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
	// Skipped marks a check that was not tested (it could not fail).
	Skipped *junitSkipped `xml:"skipped"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",cdata"`
}

type junitText struct {
	Text string `xml:",cdata"`
}

// harnessCase names the test case that carries a scenario's harness error.
const harnessCase = "harness"

// WriteJUnit writes r as JUnit XML: one <testsuite> per scenario trial, one
// <testcase> per check (a failed check carries a <failure> with its detail),
// and a scenario's harness Error as an extra "harness" test case with an
// <error>. The environment fingerprint and the scenario's knobs are suite
// properties; metrics and steps go to <system-out>.
func WriteJUnit(w io.Writer, r results.Report) error {
	doc := junitSuites{Name: "scalebench " + r.RunID}
	if !r.StartedAt.IsZero() && !r.FinishedAt.IsZero() {
		doc.Time = junitTime(r.FinishedAt.Sub(r.StartedAt).Seconds())
	}
	env := envProperties(r)
	// A multi-app scenario is a suite with one case per app, and each
	// app a suite of its own with one case per check.
	for _, s := range expandApps(r).Scenarios {
		suite := junitSuite{
			Name:       scenarioTitle(s),
			Time:       junitTime(span(s)),
			Hostname:   r.Environment.Host.Hostname,
			Properties: append(scenarioProperties(s), env...),
			SystemOut:  &junitText{systemOut(s)},
		}
		if !r.StartedAt.IsZero() {
			suite.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
		}
		class := s.Name
		for _, c := range s.Checks {
			tc := junitCase{Name: c.Name, Classname: class}
			switch {
			case c.Skipped:
				tc.Skipped = &junitSkipped{Message: c.Detail}
				suite.Skipped++
			case !c.Passed:
				tc.Failure = &junitProblem{Message: firstLine(c.Detail), Type: "CheckFailed", Text: c.Detail}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, tc)
		}
		if s.Error != "" {
			suite.Cases = append(suite.Cases, junitCase{
				Name:      harnessCase,
				Classname: class,
				Error:     &junitProblem{Message: firstLine(s.Error), Type: "HarnessError", Text: s.Error},
			})
			suite.Errors++
		}
		if len(suite.Cases) == 0 || (!s.Passed && suite.Failures == 0 && suite.Errors == 0) {
			// A scenario without checks still shows up, with its verdict.
			tc := junitCase{Name: "scenario", Classname: class}
			if !s.Passed {
				tc.Failure = &junitProblem{Message: "scenario failed", Type: "ScenarioFailed", Text: "scenario failed without a failed check"}
				suite.Failures++
			}
			suite.Cases = append(suite.Cases, tc)
		}
		suite.Tests = len(suite.Cases)
		doc.Tests += suite.Tests
		doc.Failures += suite.Failures
		doc.Errors += suite.Errors
		doc.Suites = append(doc.Suites, suite)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("reports: write junit: %w", err)
	}
	return nil
}

func junitTime(sec float64) string { return strconv.FormatFloat(sec, 'f', 3, 64) }

func scenarioProperties(s results.Scenario) []junitProperty {
	ps := []junitProperty{
		{"scenario", s.Name},
		{"autoscaler", s.Autoscaler},
		{"outcome", outcome(s)},
	}
	if s.Trial > 0 {
		ps = append(ps, junitProperty{"trial", strconv.Itoa(s.Trial)})
	}
	if s.Description != "" {
		ps = append(ps, junitProperty{"description", s.Description})
	}
	for _, k := range sortedKeys(s.Knobs) {
		ps = append(ps, junitProperty{"knob." + k, s.Knobs[k]})
	}
	return ps
}

// envProperties is the environment fingerprint as properties.
func envProperties(r results.Report) []junitProperty {
	e := r.Environment
	ps := []junitProperty{
		{"run.id", r.RunID},
		{"env.provider", e.Provider},
	}
	if e.KubernetesVersion != "" {
		ps = append(ps, junitProperty{"env.kubernetesVersion", e.KubernetesVersion})
	}
	if len(e.Emulated) > 0 {
		ps = append(ps, junitProperty{"env.emulated", strings.Join(e.Emulated, "; ")})
	}
	for _, k := range sortedKeys(e.Components) {
		ps = append(ps, junitProperty{"env.component." + k, e.Components[k]})
	}
	for _, k := range sortedKeys(e.Knobs) {
		ps = append(ps, junitProperty{"env.knob." + k, e.Knobs[k]})
	}
	h := e.Host
	ps = append(ps,
		junitProperty{"host.os", h.OS},
		junitProperty{"host.arch", h.Arch},
		junitProperty{"host.cpus", strconv.Itoa(h.CPUs)},
		junitProperty{"host.goVersion", h.GoVersion},
	)
	if !r.StartedAt.IsZero() {
		ps = append(ps, junitProperty{"run.startedAt", r.StartedAt.UTC().Format(time.RFC3339Nano)})
	}
	return ps
}

// systemOut is a plain-text account of a scenario's metrics and steps.
func systemOut(s results.Scenario) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s\n", scenarioTitle(s), outcome(s))
	for _, m := range metricRows(s.Metrics) {
		if m.Value != absent {
			fmt.Fprintf(&b, "%s: %s\n", m.Name, m.Value)
		}
	}
	for _, st := range s.Steps {
		fmt.Fprintf(&b, "step at %s s: %d -> %d\n", fmtAt(st.AtSeconds), st.From, st.To)
	}
	return b.String()
}
