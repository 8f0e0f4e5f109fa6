package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/stats"
)

// The files a comparison writes.
const (
	CompareJSONFile     = "compare.json"
	CompareMarkdownFile = "compare.md"
	CompareHTMLFile     = "compare.html"
)

// WriteCompareAll writes compare.json, compare.md and compare.html to dir.
func WriteCompareAll(dir string, c results.Comparison) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: %w", err)
	}
	var errs []error
	for _, f := range []struct {
		name  string
		write func(io.Writer, results.Comparison) error
	}{{CompareJSONFile, WriteCompareJSON}, {CompareMarkdownFile, WriteCompareMarkdown}, {CompareHTMLFile, WriteCompareHTML}} {
		var buf bytes.Buffer
		if err := f.write(&buf, c); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, f.name), buf.Bytes(), 0o644); err != nil {
			errs = append(errs, fmt.Errorf("reports: %w", err))
		}
	}
	return errors.Join(errs...)
}

// WriteCompareJSON writes c as indented JSON; a zero SchemaVersion or Kind
// is filled in, another version is refused with a *VersionError.
func WriteCompareJSON(w io.Writer, c results.Comparison) error {
	switch c.SchemaVersion {
	case 0:
		c.SchemaVersion = results.CompareSchemaVersion
	case results.CompareSchemaVersion:
	default:
		return fmt.Errorf("reports: write compare json: %w", &VersionError{Got: c.SchemaVersion, Want: results.CompareSchemaVersion})
	}
	c.Kind = results.CompareKind
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("reports: write compare json: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// Document is a report.json or a compare.json, as ReadDocument found it.
type Document struct {
	Report     *results.Report
	Comparison *results.Comparison
}

// ReadDocument reads a report.json or a compare.json (told apart by the
// "kind" field), checking the schema version of either.
func ReadDocument(rd io.Reader) (Document, error) {
	b, err := io.ReadAll(rd)
	if err != nil {
		return Document{}, fmt.Errorf("reports: read json: %w", err)
	}
	var head struct {
		SchemaVersion *int   `json:"schemaVersion"`
		Kind          string `json:"kind"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return Document{}, fmt.Errorf("reports: read json: %w", err)
	}
	if head.Kind != results.CompareKind {
		if head.Kind != "" {
			return Document{}, fmt.Errorf("reports: read json: kind %q: not a scalebench report (allowed: no kind for report.json, %q for compare.json)", head.Kind, results.CompareKind)
		}
		r, err := ReadJSON(bytes.NewReader(b))
		if err != nil {
			return Document{}, err
		}
		return Document{Report: &r}, nil
	}
	if head.SchemaVersion == nil {
		return Document{}, fmt.Errorf("reports: read compare json: %w", &VersionError{Missing: true, Want: results.CompareSchemaVersion})
	}
	if got := *head.SchemaVersion; got != results.CompareSchemaVersion {
		return Document{}, fmt.Errorf("reports: read compare json: %w", &VersionError{Got: got, Want: results.CompareSchemaVersion})
	}
	var c results.Comparison
	if err := json.Unmarshal(b, &c); err != nil {
		return Document{}, fmt.Errorf("reports: read compare json: %w", err)
	}
	return Document{Comparison: &c}, nil
}

// WriteCompareMarkdown writes the comparison as Markdown for a job summary:
// one table of medians, differences with intervals and verdicts, then what
// the table cannot say (metrics not measured, trials left out).
func WriteCompareMarkdown(w io.Writer, c results.Comparison) error {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# scalebench comparison %s\n\n", mdText(c.RunID))
	st := c.Statistics
	p("%s, %d trials each asked, %s (A B A B …) on one %s cluster", mdText(strings.Join(c.Scenarios, " vs ")), c.TrialsPerScenario,
		mdText(st.Order), mdText(c.Environment.Provider))
	if len(c.Environment.Emulated) > 0 {
		p(" (emulated: %s)", mdText(strings.Join(c.Environment.Emulated, "; ")))
	}
	p(".\n\n")
	if c.Error != "" {
		p("**The comparison stopped early:** %s\n\n", mdText(c.Error))
	}
	p("Cells: median \\[min – max\\] (trials measured). Difference: median of the later scenario − the earlier, with its %g %% interval (%s; %d resamples, seed %d). ",
		st.Bootstrap.Confidence*100, mdText(st.Method), st.Bootstrap.Resamples, st.Bootstrap.Seed)
	p("A winner is named only when the interval excludes zero; %s. ", mdText(st.Note))
	p("Budget: what the scenario's knobs imply (the budget model: slowest clock alignment, fastest–slowest in brackets) and the knob that dominates it.\n\n")

	p("| metric |")
	for _, s := range c.Scenarios {
		p(" %s |", mdText(s))
	}
	pairs := comparePairs(c)
	for _, pr := range pairs {
		p(" %s − %s [interval] | verdict |", mdText(pr[1]), mdText(pr[0]))
	}
	p("\n|---|")
	for range c.Scenarios {
		p("---|")
	}
	for range pairs {
		p("---|---|")
	}
	p("\n")
	var notes []string
	for _, m := range c.Metrics {
		dir := "lower is better"
		if m.HigherIsBetter {
			dir = "higher is better"
		}
		p("| %s (%s; %s) |", mdText(m.Metric), mdText(results.UnitLabel(m.Unit)), dir)
		for _, s := range m.Scenarios {
			cell := cellStats(s, m.Unit)
			if b := budgetText(s); b != "" {
				cell += "; " + b
			}
			p(" %s |", mdText(cell))
			for _, r := range s.Reasons {
				notes = append(notes, fmt.Sprintf("%s, %s: absent in %d trials: %s", m.Metric, s.Scenario, s.Absent, r))
			}
		}
		for _, pr := range m.Pairs {
			diff := "–"
			if d := pr.Difference; d != nil {
				diff = diffText(*d, m.Unit)
			}
			p(" %s | %s |", mdText(diff), mdVerdict(pr))
		}
		p("\n")
	}
	p("\n")
	for _, t := range c.Trials {
		if !t.Used {
			notes = append(notes, fmt.Sprintf("%s trial %d left out of the statistics: %s (%s)", t.Scenario, t.Trial, firstLine(t.Result.Error), t.Result.ErrorKind))
		}
	}
	if len(notes) > 0 {
		p("Not measured:\n\n")
		for _, n := range notes {
			p("- %s\n", mdText(n))
		}
		p("\n")
	}
	p("Trials in the order they ran:")
	for i, t := range c.Trials {
		sep := ","
		if i == 0 {
			sep = ""
		}
		state := "pass"
		switch {
		case t.Result.Error != "":
			state = "error"
		case !t.Result.Passed:
			state = "fail"
		}
		p("%s %s #%d (%s)", sep, mdText(t.Scenario), t.Trial, state)
	}
	p(".\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// comparePairs are the (A, B) pairs of the comparison, from its first
// metric (every metric has the same pairs).
func comparePairs(c results.Comparison) [][2]string {
	var out [][2]string
	for i, a := range c.Scenarios {
		for _, b := range c.Scenarios[i+1:] {
			out = append(out, [2]string{a, b})
		}
	}
	return out
}

func cellStats(s results.ScenarioStats, unit string) string {
	if s.Median == nil {
		return "not measured"
	}
	return fmt.Sprintf("%s [%s – %s] (%d)", results.FormatNumber(*s.Median, unit, false), results.FormatNumber(*s.Min, unit, false), results.FormatNumber(*s.Max, unit, false), len(s.Samples))
}

// budgetText is the budget the scenario's knobs imply, beside the median.
func budgetText(s results.ScenarioStats) string {
	e := s.Budget
	if e == nil {
		return ""
	}
	return fmt.Sprintf("budget %s (%s–%s) by %s", results.Seconds(e.MaxSeconds), results.Seconds(e.MinSeconds), results.Seconds(e.MaxSeconds), e.Dominant)
}

func diffText(d stats.Difference, unit string) string {
	return fmt.Sprintf("%s [%s, %s]", results.FormatNumber(d.Estimate, unit, true), results.FormatNumber(d.Low, unit, true), results.FormatNumber(d.High, unit, true))
}

// mdVerdict is verdictText with the winner in bold (its name escaped).
func mdVerdict(p results.Pair) string {
	if p.Verdict == results.VerdictWinner {
		return "**" + mdText(p.Winner) + "** better"
	}
	return mdText(VerdictText(p))
}

// VerdictText says a pair's verdict in a few words, as the reports and the
// terminal show it.
func VerdictText(p results.Pair) string {
	switch p.Verdict {
	case results.VerdictWinner:
		return p.Winner + " better"
	case results.VerdictNoDifference:
		if d := p.Difference; d != nil && d.ExcludesZero() {
			return "no difference shown (too few trials)"
		}
		return "no difference shown"
	case results.VerdictNotComparable:
		return p.Verdict + ": " + strings.SplitN(p.Detail, ";", 2)[0]
	}
	return p.Verdict
}
