package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/timeline"
)

//go:embed compare.html.tmpl
var compareHTMLSource string

// The comparison page shares the report page's stylesheet and chart drawing.
var compareHTMLTemplate = template.Must(template.Must(htmlTemplate.Clone()).Funcs(template.FuncMap{
	"add1": func(i int) int { return i + 1 },
}).New("compare").Parse(compareHTMLSource))

// trialClasses colour the overlaid trials (the stylesheet cycles them).
const trialClasses = 8

type compareHTMLPage struct {
	results.Comparison
	Started string
	// Confidence is the interval's level in percent.
	Confidence float64
	Pairs      [][2]string
	Rows       []compareHTMLRow
	Charts     []namedChart
	Dists      []distChart
	Notes      []string
	Env        htmlEnv
}

type namedChart struct {
	Name  string
	Chart chartModel
}

type compareHTMLRow struct {
	Metric, Unit, Direction, What string
	Cells                         []string
	Pairs                         []compareHTMLPair
}

type compareHTMLPair struct {
	Diff, Verdict, Detail string
	Winner                bool
}

// distChart shows one metric's trials per scenario side by side: a row of
// dots per scenario with its median marked.
type distChart struct {
	Title, Unit string
	W, H        float64
	Plot        rect
	Ticks       []tick
	Rows        []distRow
}

type distRow struct {
	Label      string
	Y          float64
	Class      string
	Dots       []distDot
	MedianX    float64
	HasMedian  bool
	MedianText string
}

type distDot struct {
	X, Y  float64
	Title string
}

// WriteCompareHTML writes the comparison as one self-contained page: the
// table of the Markdown, each scenario's trials' ready replicas overlaid
// (aligned at the load start), and each metric's trials per scenario side
// by side.
func WriteCompareHTML(w io.Writer, c results.Comparison) error {
	page := compareHTMLPage{Comparison: c, Pairs: comparePairs(c), Confidence: c.Statistics.Bootstrap.Confidence * 100}
	if !c.StartedAt.IsZero() {
		page.Started = c.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
	}
	page.Env = htmlEnv{Environment: c.Environment, Components: kvs(c.Environment.Components), Knobs: kvs(c.Environment.Knobs)}
	for _, m := range c.Metrics {
		dir := "lower is better"
		if m.HigherIsBetter {
			dir = "higher is better"
		}
		row := compareHTMLRow{Metric: m.Metric, Unit: results.UnitLabel(m.Unit), Direction: dir, What: m.What}
		for _, s := range m.Scenarios {
			cell := cellStats(s, m.Unit)
			if b := budgetText(s); b != "" {
				cell += "; " + b
			}
			row.Cells = append(row.Cells, cell)
			for _, r := range s.Reasons {
				page.Notes = append(page.Notes, fmt.Sprintf("%s, %s: absent in %d trials: %s", m.Metric, s.Scenario, s.Absent, r))
			}
		}
		for _, p := range m.Pairs {
			hp := compareHTMLPair{Diff: "–", Verdict: VerdictText(p), Detail: p.Detail, Winner: p.Verdict == results.VerdictWinner}
			if d := p.Difference; d != nil {
				hp.Diff = diffText(*d, m.Unit)
			}
			row.Pairs = append(row.Pairs, hp)
		}
		page.Rows = append(page.Rows, row)
		if dc, ok := buildDist(m); ok {
			page.Dists = append(page.Dists, dc)
		}
	}
	for _, t := range c.Trials {
		if !t.Used {
			page.Notes = append(page.Notes, fmt.Sprintf("%s trial %d left out of the statistics: %s (%s)", t.Scenario, t.Trial, firstLine(t.Result.Error), t.Result.ErrorKind))
		}
	}
	for _, s := range c.Scenarios {
		page.Charts = append(page.Charts, namedChart{Name: s, Chart: overlayChart(s, c.Trials)})
	}
	if err := compareHTMLTemplate.ExecuteTemplate(w, "compare", page); err != nil {
		return fmt.Errorf("reports: write compare html: %w", err)
	}
	return nil
}

// overlayChart draws the ready replicas of every trial of one scenario,
// each from its own load start, so the trials' reactions line up.
func overlayChart(name string, trials []results.Trial) chartModel {
	c := chartModel{W: chartW, H: chartH, Title: "Ready replicas of every trial of " + name + ", from the load start"}
	type line struct {
		label string
		class string
		pts   []point
	}
	var lines []line
	end, peak := 1.0, 1.0
	for _, t := range trials {
		if t.Scenario != name {
			continue
		}
		start, ok := loadStart(t.Result.Timeline)
		if !ok {
			continue
		}
		d := collect(t.Result)
		var pts []point
		for _, p := range d.Ready {
			pts = append(pts, point{T: p.T - start, V: p.V})
		}
		if len(pts) == 0 {
			continue
		}
		label := fmt.Sprintf("trial %d", t.Trial)
		if !t.Used {
			label += " (error)"
		}
		lines = append(lines, line{label: label, class: fmt.Sprintf("t-%d", (t.Trial-1)%trialClasses+1), pts: pts})
		end = max(end, d.End-start)
		peak = max(peak, maxV(pts))
	}
	if len(lines) == 0 {
		c.Empty = true
		return c
	}
	p := rect{X: plotLeft, W: chartW - plotLeft - rightPad}
	var entries []legendEntry
	for _, l := range lines {
		entries = append(entries, legendEntry{l.class, "line", l.label})
	}
	legend, rows := layoutLegend(entries, p.X)
	c.Legend = legend
	p.Y = legendY + float64(rows-1)*legendRowH + 22
	p.H = chartH - plotBottom - p.Y
	c.Plot = p
	xStep := niceStep(end/10, []float64{1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600})
	xMax := math.Ceil(end/xStep-0.02) * xStep
	// Trials start before the load (set-up): the axis starts at 0, the load start.
	xOf := func(t float64) float64 { return p.X + p.W*clamp(t/xMax) }
	for v := 0.0; v <= xMax+xStep/2; v += xStep {
		c.XTicks = append(c.XTicks, tick{xOf(v), fmtTick(v, xStep) + "s"})
	}
	c.XLabel = "time since the load start (s)"
	c.XTitle = xy{p.X + p.W/2, p.Bottom() + 38}
	yStep := max(niceStep(peak*1.1/6, nil), 1)
	yMax := math.Ceil(peak*1.1/yStep) * yStep
	yOf := func(v float64) float64 { return p.Bottom() - p.H*clamp(v/yMax) }
	for v := 0.0; v <= yMax+yStep/2; v += yStep {
		c.LeftTicks = append(c.LeftTicks, tick{yOf(v), fmtTick(v, yStep)})
	}
	c.LeftLabel = "ready replicas"
	c.LeftTitle = xy{16, p.Y + p.H/2}
	for _, l := range lines {
		var pts []point
		for i, pt := range l.pts {
			// Keep the state at the load start: the last point before it.
			if pt.T < 0 && i+1 < len(l.pts) && l.pts[i+1].T <= 0 {
				continue
			}
			pts = append(pts, point{T: max(pt.T, 0), V: pt.V})
		}
		c.Series = append(c.Series, series{Name: l.label, Class: l.class, Segments: []string{stepline(pts, end, xOf, yOf)}})
	}
	return c
}

func loadStart(evs []timeline.Event) (float64, bool) {
	for _, e := range evs {
		if e.Marker != nil && e.Marker.Name == timeline.MarkerLoadStart {
			return e.Seconds(), true
		}
	}
	return 0, false
}

// Distribution chart geometry.
const (
	distW     = 1100
	distRowH  = 30
	distLeft  = 200
	distRight = 30
	distTop   = 10
	distAxisH = 34
)

func buildDist(m results.MetricComparison) (distChart, bool) {
	hi, lo := math.Inf(-1), math.Inf(1)
	for _, s := range m.Scenarios {
		for _, v := range s.Samples {
			hi, lo = max(hi, v), min(lo, v)
		}
	}
	if math.IsInf(hi, 0) {
		return distChart{}, false
	}
	lo = min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi-lo)/8, nil)
	top := math.Ceil(hi/step) * step
	bottom := math.Floor(lo/step) * step
	d := distChart{Title: m.Metric, Unit: m.Unit, W: distW}
	d.Plot = rect{X: distLeft, Y: distTop, W: distW - distLeft - distRight, H: float64(len(m.Scenarios)) * distRowH}
	d.H = d.Plot.Bottom() + distAxisH
	xOf := func(v float64) float64 { return d.Plot.X + d.Plot.W*clamp((v-bottom)/(top-bottom)) }
	for v := bottom; v <= top+step/2; v += step {
		d.Ticks = append(d.Ticks, tick{xOf(v), distTick(v, step, m.Unit)})
	}
	for i, s := range m.Scenarios {
		r := distRow{Label: s.Scenario, Y: d.Plot.Y + float64(i)*distRowH + distRowH/2, Class: fmt.Sprintf("d-%d", i%trialClasses+1)}
		for j, v := range s.Samples {
			// Equal values stack upwards a little so every trial shows.
			same := 0
			for _, u := range s.Samples[:j] {
				if u == v {
					same++
				}
			}
			r.Dots = append(r.Dots, distDot{X: xOf(v), Y: r.Y - float64(same%4)*4, Title: fmt.Sprintf("%s: %s", s.Scenario, results.FormatValue(v, m.Unit, false))})
		}
		if s.Median != nil {
			r.HasMedian, r.MedianX = true, xOf(*s.Median)
			r.MedianText = "median " + results.FormatValue(*s.Median, m.Unit, false)
		} else {
			r.MedianText = "not measured"
		}
		d.Rows = append(d.Rows, r)
	}
	return d, true
}

func distTick(v, step float64, unit string) string {
	if unit == results.UnitRatio {
		return fmtTick(v*100, step*100) + "%"
	}
	return fmtTick(v, step)
}
