package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"

	"github.com/scalebench/scalebench/results"
)

//go:embed report.html.tmpl
var htmlSource string

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"px":  px,
	"add": func(a, b float64) float64 { return a + b },
}).Parse(htmlSource))

type htmlPage struct {
	SchemaVersion int
	RunID         string
	Passed        bool
	Interrupted   bool
	Diagnostics   string
	Started       string
	Duration      string
	Env           htmlEnv
	Columns       []string
	Rows          []htmlRow
	Groups        []htmlGroup
	// ScaleColumns and Scale are the apps-at-once table.
	ScaleColumns []string
	Scale        []scaleRow
}

type htmlEnv struct {
	results.Environment
	Components []kv
	Knobs      []kv
}

type kv struct{ Key, Value string }

type htmlRow struct {
	Anchor, Name, Trial, Autoscaler, Outcome string
	Cells                                    []string
}

type htmlGroup struct {
	Name        string
	Multi       bool
	Passed      int
	Description string
	Aggregates  []aggregate
	Trials      []htmlTrial
}

type htmlTrial struct {
	results.Scenario
	Anchor  string
	Title   string
	Outcome string
	// ErrorTitle names the kind of Error (e.g. "Timed out").
	ErrorTitle string
	// StepsZero says what t = 0 of the steps is.
	StepsZero string
	Chart     chartModel
	Rows      []metricRow
	Absent    []string // metrics that do not apply
	Checks    []results.Check
	Knobs     []kv
	Events    []htmlEvent
	// AppsSummary and AppsRows are a multi-app scenario's distributions
	// across its apps.
	AppsSummary string
	AppsRows    []appsRow
	// Lag states the autoscalers' own lag.
	Lag []kv
	// RanWithNote says which scenarios ran at the same time ("" when none).
	RanWithNote string
}

type htmlEvent struct {
	At, Kind, Object, Detail string
}

// WriteHTML writes r as one self-contained HTML page (inline CSS and SVG, no
// scripts, fonts or external resources): a summary table, then per scenario
// trial an SVG chart of replicas and load over time, its metrics, checks,
// steps and knobs, and its raw timeline in a collapsible table; the
// environment last. All text is escaped by html/template.
func WriteHTML(w io.Writer, r results.Report) error {
	if err := htmlTemplate.Execute(w, newHTMLPage(r)); err != nil {
		return fmt.Errorf("reports: write html: %w", err)
	}
	return nil
}

func newHTMLPage(r results.Report) htmlPage {
	scale := scaleRows(r)
	r = expandApps(r)
	pg := htmlPage{SchemaVersion: results.SchemaVersion, RunID: r.RunID, Passed: r.Passed(), Interrupted: r.Interrupted, Diagnostics: r.Diagnostics}
	if !r.StartedAt.IsZero() {
		pg.Started = r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		if !r.FinishedAt.IsZero() {
			pg.Duration = results.Seconds(r.FinishedAt.Sub(r.StartedAt).Seconds())
		}
	}
	if len(scale) > 0 {
		pg.ScaleColumns, pg.Scale = scaleColumns, scale
	}
	pg.Env = htmlEnv{Environment: r.Environment, Components: kvs(r.Environment.Components), Knobs: kvs(r.Environment.Knobs)}
	for _, c := range summaryColumns {
		pg.Columns = append(pg.Columns, c.Header)
	}
	for i, s := range r.Scenarios {
		row := htmlRow{Anchor: anchor(i), Name: s.Name, Trial: absent, Autoscaler: s.Autoscaler, Outcome: outcome(s)}
		if s.Trial > 0 {
			row.Trial = fmt.Sprint(s.Trial)
		}
		for _, c := range summaryColumns {
			row.Cells = append(row.Cells, c.cell(s.Metrics))
		}
		pg.Rows = append(pg.Rows, row)
	}
	for _, g := range groups(r.Scenarios) {
		hg := htmlGroup{Name: g.Name, Multi: len(g.Trials) > 1, Passed: passedTrials(g.Trials), Description: g.Trials[0].Description}
		if hg.Multi {
			hg.Aggregates = aggregates(g.Trials)
		}
		for j, s := range g.Trials {
			t := htmlTrial{
				Scenario:    s,
				Anchor:      anchor(g.Index[j]),
				Title:       scenarioTitle(s),
				Outcome:     outcome(s),
				ErrorTitle:  errorTitle(s.ErrorKind),
				StepsZero:   stepsZero(s),
				Chart:       buildChart(s),
				Checks:      failedFirst(s.Checks),
				RanWithNote: ranWithNote(s),
				Knobs:       kvs(s.Knobs),
			}
			t.Lag = lagRows(s.AutoscalerLag)
			if s.Apps != nil {
				t.AppsSummary, t.AppsRows = appsSummary(s.Apps), appsRows(s.Apps)
			}
			for _, m := range metricRows(s.Metrics) {
				if m.Value == absent {
					t.Absent = append(t.Absent, m.Name)
				} else {
					t.Rows = append(t.Rows, m)
				}
			}
			for _, e := range s.Timeline {
				t.Events = append(t.Events, htmlEvent{At: fmtSeconds3(e.Seconds()), Kind: string(e.Kind), Object: e.Object, Detail: describe(e)})
			}
			hg.Trials = append(hg.Trials, t)
		}
		pg.Groups = append(pg.Groups, hg)
	}
	return pg
}

func anchor(i int) string { return fmt.Sprintf("scenario-%d", i+1) }

func kvs(m map[string]string) []kv {
	out := make([]kv, 0, len(m))
	for _, k := range sortedKeys(m) {
		out = append(out, kv{k, m[k]})
	}
	return out
}

// fmtSeconds3 formats an event offset to the millisecond.
func fmtSeconds3(v float64) string { return fmt.Sprintf("%.3f", v) }
