package reports

import (
	"bufio"
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/timeline"
)

// WriteMarkdown writes a GitHub-flavoured Markdown summary of r, meant for
// $GITHUB_STEP_SUMMARY: a heading with the run id, provider and what was
// emulated; a summary table of every scenario trial (absent metrics as "–");
// then per scenario an aggregate over its trials (when it ran more than
// one), and per trial its error, checks (failed first), steps and knobs.
// The timeline itself is left to report.json and report.html.
func WriteMarkdown(w io.Writer, r results.Report) error {
	bw := bufio.NewWriter(w)
	md := mdWriter{w: bw}
	md.report(expandApps(r))
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("reports: write markdown: %w", err)
	}
	return nil
}

type mdWriter struct{ w *bufio.Writer }

func (m mdWriter) p(format string, args ...any) { fmt.Fprintf(m.w, format, args...) }

func (m mdWriter) report(r results.Report) {
	verdict := "❌ FAIL"
	if r.Passed() {
		verdict = "✅ PASS"
	}
	if r.Interrupted {
		verdict += " (interrupted)"
	}
	m.p("# scalebench run %s — %s\n\n", mdCode(r.RunID), verdict)
	if r.Interrupted {
		m.p("- **Interrupted:** the run was stopped before its plan ended; what follows is partial.\n")
	}
	if r.Diagnostics != "" {
		m.p("- **Diagnostics:** [%s](%s) (events, autoscaler status history, component logs, applied manifests)\n", mdText(r.Diagnostics), r.Diagnostics)
	}
	env := r.Environment
	m.p("- **Provider:** %s", mdText(env.Provider))
	if env.KubernetesVersion != "" {
		m.p(" · Kubernetes %s", mdText(env.KubernetesVersion))
	}
	m.p("\n")
	if len(env.Emulated) > 0 {
		parts := make([]string, len(env.Emulated))
		for i, e := range env.Emulated {
			parts[i] = mdText(e)
		}
		m.p("- **Emulated:** %s\n", strings.Join(parts, "; "))
	} else {
		m.p("- **Emulated:** nothing (all components real)\n")
	}
	if !r.StartedAt.IsZero() {
		m.p("- **Started:** %s", r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC"))
		if !r.FinishedAt.IsZero() {
			m.p(" · **duration** %s s", results.Seconds(r.FinishedAt.Sub(r.StartedAt).Seconds()))
		}
		m.p("\n")
	}
	if len(env.Components) > 0 {
		var cs []string
		for _, k := range sortedKeys(env.Components) {
			cs = append(cs, mdText(k)+" "+mdText(env.Components[k]))
		}
		m.p("- **Components:** %s\n", strings.Join(cs, ", "))
	}
	if len(env.Platform) > 0 {
		var ps []string
		for _, k := range sortedKeys(env.Platform) {
			ps = append(ps, mdText(k)+": "+mdText(env.Platform[k]))
		}
		m.p("- **Platform detected:** %s\n", strings.Join(ps, "; "))
	}
	h := env.Host
	m.p("- **Host:** %s/%s, %d CPUs", mdText(h.OS), mdText(h.Arch), h.CPUs)
	if h.CPUModel != "" {
		m.p(" (%s)", mdText(h.CPUModel))
	}
	m.p(", %s\n\n", mdText(h.GoVersion))

	if len(r.Scenarios) == 0 {
		m.p("_No scenarios ran._\n")
		return
	}
	m.summary(r.Scenarios)
	m.scale(r)
	for _, g := range groups(r.Scenarios) {
		m.group(g)
	}
	if len(env.Knobs) > 0 {
		m.p("## Cluster knobs\n\n")
		m.knobs(env.Knobs)
	}
}

func (m mdWriter) summary(ss []results.Scenario) {
	m.p("| scenario | trial | autoscaler | result |")
	for _, c := range summaryColumns {
		m.p(" %s |", c.Header)
	}
	m.p("\n|---|---:|---|---|")
	for range summaryColumns {
		m.p("---:|")
	}
	m.p("\n")
	for _, s := range ss {
		trial := absent
		if s.Trial > 0 {
			trial = fmt.Sprint(s.Trial)
		}
		m.p("| %s | %s | %s | %s |", mdText(s.Name), trial, mdText(s.Autoscaler), mdOutcome(s))
		for _, c := range summaryColumns {
			m.p(" %s |", c.cell(s.Metrics))
		}
		m.p("\n")
	}
	m.p("\n")
}

func (m mdWriter) group(g group) {
	multi := len(g.Trials) > 1
	if multi {
		m.p("## %s — %d/%d trials passed\n\n", mdText(g.Name), passedTrials(g.Trials), len(g.Trials))
		if d := g.Trials[0].Description; d != "" {
			m.p("%s\n\n", mdText(d))
		}
		if aggs := aggregates(g.Trials); len(aggs) > 0 {
			m.p("**Across %d trials**\n\n| metric | n | median | min | max |\n|---|---:|---:|---:|---:|\n", len(g.Trials))
			for _, a := range aggs {
				m.p("| %s | %d | %s | %s | %s |\n", a.Metric, a.N, a.Median, a.Min, a.Max)
			}
			m.p("\n")
		}
	}
	for _, s := range g.Trials {
		if multi {
			m.p("### Trial %d — %s\n\n", s.Trial, mdOutcome(s))
		} else {
			m.p("## %s — %s\n\n", mdText(scenarioTitle(s)), mdOutcome(s))
			if s.Description != "" {
				m.p("%s\n\n", mdText(s.Description))
			}
		}
		m.trial(s)
	}
}

func (m mdWriter) trial(s results.Scenario) {
	m.p("Autoscaler: **%s**\n\n", mdText(s.Autoscaler))
	if n := ranWithNote(s); n != "" {
		m.p("%s\n\n", mdText(n))
	}
	if s.Error != "" {
		m.p("> [!CAUTION]\n> **%s:** %s\n\n", errorTitle(s.ErrorKind), mdLines(s.Error, "> "))
	}
	if len(s.Checks) > 0 {
		m.p("**Checks**\n\n")
		for _, c := range failedFirst(s.Checks) {
			mark := "✅"
			switch {
			case c.Skipped:
				mark = "➖"
			case !c.Passed:
				mark = "❌"
			}
			m.p("- %s **%s**", mark, mdText(c.Name))
			if c.Skipped {
				m.p(" (not tested)")
			}
			if c.Detail != "" {
				m.p(" — %s", mdLines(c.Detail, "  "))
			}
			m.p("\n")
		}
		m.p("\n")
	}
	if a := s.Apps; a != nil {
		m.p("**Across %d apps** — %s\n\n", a.Count, mdText(appsSummary(a)))
		m.p("| metric | apps | min | p50 | p95 | max | absent in |\n|---|---:|---:|---:|---:|---:|---|\n")
		for _, row := range appsRows(a) {
			m.p("| %s | %s | %s | %s | %s | %s | %s |\n", row.Metric, row.N, row.Min, row.P50, row.P95, row.Max, mdText(row.Absent))
		}
		m.p("\n")
		m.lag(s.AutoscalerLag)
		m.p("Each app's own section follows.\n\n")
		if len(s.Knobs) > 0 {
			m.p("<details><summary>Knobs</summary>\n\n")
			m.knobs(s.Knobs)
			m.p("</details>\n\n")
		}
		return
	}
	m.budget(s)
	m.lag(s.AutoscalerLag)
	if len(s.Steps) > 0 {
		m.p("**Steps** (%s)\n\n| at s | replicas |\n|---:|---|\n", stepsZero(s))
		for _, st := range s.Steps {
			m.p("| %s | %d → %d |\n", fmtAt(st.AtSeconds), st.From, st.To)
		}
		m.p("\n")
	} else {
		m.p("_No scale steps._\n\n")
	}
	m.cpuProfile(s)
	m.rateProfile(s)
	if len(s.Knobs) > 0 {
		m.p("<details><summary>Knobs</summary>\n\n")
		m.knobs(s.Knobs)
		m.p("</details>\n\n")
	}
}

// cpuProfile lists a CPU profile's steps as the data plane took them, with
// the replica steps and the HPA's CPU readings in between, in time order.
func (m mdWriter) cpuProfile(s results.Scenario) {
	type row struct {
		at        float64
		cpu, what string
	}
	var rows []row
	hpa := ""
	cpu := absent
	for _, e := range s.Timeline {
		if e.Marker != nil && e.Marker.Name == timeline.MarkerCPUStep {
			cpu = e.Marker.Detail
			rows = append(rows, row{e.Seconds(), cpu, "profile step"})
		}
	}
	if len(rows) == 0 {
		return
	}
	for _, st := range s.Steps {
		rows = append(rows, row{st.AtSeconds, "", fmt.Sprintf("replicas %d → %d", st.From, st.To)})
	}
	for _, e := range s.Timeline {
		if a := e.Autoscaler; a != nil && a.Metric != "" && a.Metric != hpa {
			hpa = a.Metric
			rows = append(rows, row{e.Seconds(), "", fmt.Sprintf("HPA reads %s (current %d, desired %d)", a.Metric, a.Current, a.Desired)})
		}
	}
	slices.SortStableFunc(rows, func(a, b row) int { return cmp.Compare(a.at, b.at) })
	m.p("**CPU profile under the replica timeline** (profile: %% of each pod's CPU request, capped at its limit; %s)\n\n| at s | profile | event |\n|---:|---:|---|\n", stepsZero(s))
	cur := absent
	for _, r := range rows {
		if r.cpu != "" {
			cur = r.cpu
		}
		m.p("| %s | %s | %s |\n", fmtAt(r.at), mdText(cur), mdText(r.what))
	}
	m.p("\n")
}

// rateProfile tabulates an arrival profile step by step: the rate
// scheduled, the arrivals scheduled and sent, the rate achieved, and the
// replica steps taken during the step.
func (m mdWriter) rateProfile(s results.Scenario) {
	if len(s.Profile) == 0 {
		return
	}
	unit := s.Profile[0].Unit
	m.p("**Arrival profile under the replica timeline** (%s per second, scheduled beside sent; %s)\n\n", unit, stepsZero(s))
	m.p("| step | from s | to s | scheduled rate | scheduled | sent | achieved rate | missed | replica steps in it |\n|---:|---:|---:|---|---:|---:|---:|---:|---|\n")
	for i, st := range s.Profile {
		rate := rateText(st.FromPerSecond)
		switch {
		case st.Ramp:
			rate = "ramp " + rate + " → " + rateText(st.ToPerSecond)
		case st.FromPerSecond == 0:
			rate = "pause"
		}
		missed := absent
		if st.Missed != nil {
			missed = strconv.FormatInt(*st.Missed, 10)
		}
		var steps []string
		for _, rs := range s.Steps {
			if rs.AtSeconds >= st.StartSeconds && (rs.AtSeconds < st.EndSeconds || i == len(s.Profile)-1) {
				steps = append(steps, fmt.Sprintf("%d → %d at %s s", rs.From, rs.To, fmtAt(rs.AtSeconds)))
			}
		}
		if i == len(s.Profile)-1 && len(steps) > 0 {
			steps[0] = "(to the run's end) " + steps[0]
		}
		m.p("| %d | %s | %s | %s | %d | %d | %s | %s | %s |\n", i+1, fmtAt(st.StartSeconds), fmtAt(st.EndSeconds), rate,
			st.Scheduled, st.Sent, rateText(st.AchievedPerSecond()), missed, mdText(strings.Join(steps, ", ")))
	}
	m.p("\n")
}

// rateText is "12.5/s".
func rateText(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64) + "/s"
}

// stepsZero says what t = 0 of the steps (and of every timeline offset) is.
func stepsZero(s results.Scenario) string {
	z := "t = 0 s is the start of the scenario's run, before its workload was applied"
	for _, e := range s.Timeline {
		if e.Kind == timeline.KindMarker && e.Marker != nil && e.Marker.Name == timeline.MarkerLoadStart {
			return z + fmt.Sprintf("; the load started at %s s", fmtAt(e.Seconds()))
		}
	}
	return z + "; the load never started"
}

// errorTitle names a scenario's error by its kind.
func errorTitle(k results.ErrorKind) string {
	switch k {
	case results.ErrorRejected:
		return "Rejected by the API server"
	case results.ErrorPlatform:
		return "Platform component failed"
	case results.ErrorInterrupted:
		return "Interrupted"
	case results.ErrorTimeout:
		return "Timed out"
	}
	return "Harness error"
}

func (m mdWriter) knobs(k map[string]string) {
	m.p("| knob | value |\n|---|---|\n")
	for _, key := range sortedKeys(k) {
		m.p("| %s | %s |\n", mdText(key), mdText(k[key]))
	}
	m.p("\n")
}

func mdOutcome(s results.Scenario) string {
	switch outcome(s) {
	case "pass":
		return "✅ pass"
	case "error":
		if s.ErrorKind != "" {
			return "💥 error (" + mdText(string(s.ErrorKind)) + ")"
		}
		return "💥 error"
	}
	return "❌ fail"
}

// mdReplacer escapes what Markdown (and GitHub's HTML sanitiser) would
// otherwise interpret, including the table cell separator.
var mdReplacer = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", `*`, `\*`, `_`, `\_`, `[`, `\[`, `]`, `\]`,
	`<`, `&lt;`, `>`, `&gt;`, `|`, `\|`, "\r", "", "\n", " ",
)

// mdText escapes s for a single Markdown line or table cell.
func mdText(s string) string { return mdReplacer.Replace(s) }

// mdLines escapes s and continues its lines with prefix (a quote or a list
// item indentation) using hard line breaks.
func mdLines(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = mdText(l)
	}
	return strings.Join(lines, "<br>\n"+prefix)
}

// mdCode puts s in a code span, choosing a fence the text does not contain.
func mdCode(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	fence := "`"
	for strings.Contains(s, fence) {
		fence += "`"
	}
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// budget writes the reaction budget the knobs imply beside the observed
// figures, the predicted steps, and the expectations derived from it.
func (m mdWriter) budget(s results.Scenario) {
	if len(s.DerivedExpectations) > 0 {
		m.p("**Derived expectations** (not in the scenario file; from the budget below)\n\n")
		for _, d := range s.DerivedExpectations {
			m.p("- %s\n", mdText(d))
		}
		m.p("\n")
	}
	b := s.Budget
	if b == nil {
		if s.BudgetAbsent != "" {
			m.p("_No budget: %s_\n\n", mdText(s.BudgetAbsent))
		}
		return
	}
	m.p("**Budget vs observed** (load: %s)\n\n", mdText(b.Load))
	if b.NoScaleUp != "" {
		m.p("No scale-up predicted: %s\n\n", mdText(b.NoScaleUp))
	}
	rows := budgetRows(s)
	if len(rows) > 0 {
		m.p("| quantity | observed s | budget s | fastest s | dominant knob |\n|---|---:|---:|---:|---|\n")
		for _, r := range rows {
			m.p("| %s | %s | %s | %s | %s |\n", mdText(r.Name), r.Observed, r.Budget, r.Fastest, mdText(r.Dominant))
		}
		m.p("\n")
	}
	if len(b.Steps) > 0 {
		parts := make([]string, len(b.Steps))
		for i, st := range b.Steps {
			parts[i] = fmt.Sprintf("%d→%d at %s s", st.From, st.To, fmtAt(st.AtSeconds))
		}
		m.p("Predicted steps (slowest alignment): %s\n\n", mdText(strings.Join(parts, ", ")))
	}
}

// lag states the autoscalers' own lag, sampled from their metrics.
func (m mdWriter) lag(l *results.AutoscalerLag) {
	rows := lagRows(l)
	if len(rows) == 0 {
		return
	}
	m.p("**Autoscaler lag** (from their metrics, every %s s, %d samples)\n\n", results.Seconds(l.SampleIntervalSeconds), l.Samples)
	for _, r := range rows {
		m.p("- %s: %s\n", mdText(r.Key), mdText(r.Value))
	}
	m.p("\n")
}

// scale is the apps-at-once table: each multi-app scenario's reaction
// metrics across its apps (p50 / p95 / max, seconds) and the autoscalers'
// own lag, one row per scenario, so a sweep over K reads down the rows.
func (m mdWriter) scale(r results.Report) {
	rows := scaleRows(r)
	if len(rows) == 0 {
		return
	}
	m.p("## Apps at once\n\nPer reaction metric, p50 / p95 / max across the apps, in seconds; KEDA scale-loop latency p50 / p95 / max in seconds, HPA workqueue depth p95 / max, both as sampled.\n\n| scenario | apps | load | passed |")
	for _, c := range scaleColumns {
		m.p(" %s |", c)
	}
	m.p(" KEDA scale loop | HPA queue depth |\n|---|---:|---|---:|")
	for range scaleColumns {
		m.p("---:|")
	}
	m.p("---:|---:|\n")
	for _, row := range rows {
		m.p("| %s | %s | %s | %s |", mdText(row.Name), row.Apps, row.Load, row.Passed)
		for _, c := range row.Cells {
			m.p(" %s |", c)
		}
		m.p(" %s | %s |\n", row.KEDALoop, row.HPADepth)
	}
	m.p("\n")
}
