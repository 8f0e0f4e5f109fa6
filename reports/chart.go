package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/stats"
	"github.com/scalebench/scalebench/timeline"
)

// The chart of one scenario trial is laid out here, in Go, as plain geometry;
// the HTML template only draws it, so html/template escapes every text.

// Chart geometry in SVG user units (the SVG scales to the page width).
const (
	chartW      = 1100
	chartH      = 440
	legendY     = 16  // baseline of the first legend row
	legendRowH  = 18  // height of one legend row
	laneRowH    = 13  // height of one lane row
	laneRows    = 4   // rows of marker labels before labels are dropped
	plotLeft    = 58  // room for replica ticks and the axis title
	plotBottom  = 48  // room under the plot for x ticks and title
	rightAxisW  = 62  // room for one right axis
	rightPad    = 20  // right padding without a right axis
	charW       = 6.1 // estimated width of one label character at 11px
	legendGap   = 18  // space between legend items
	swatchW     = 22  // width of a legend swatch
	maxLabelLen = 40  // marker labels are cut to this many characters
)

type chartModel struct {
	W, H  int
	Title string
	// Empty is set when the timeline has nothing to draw.
	Empty bool
	Plot  rect

	XTicks    []tick
	XLabel    string
	XTitle    xy
	LeftTicks []tick
	LeftLabel string
	LeftTitle xy
	Right     []axis

	// Areas are drawn first, then markers, then series (on top).
	Areas   []area
	Series  []series
	Markers []marker
	Legend  []legendItem
}

type rect struct{ X, Y, W, H float64 }

type xy struct{ X, Y float64 }

// Right is the plot's right edge, Bottom its bottom edge.
func (r rect) Right() float64  { return r.X + r.W }
func (r rect) Bottom() float64 { return r.Y + r.H }

type tick struct {
	Pos   float64 // x for the x axis, y for y axes
	Label string
}

// axis is a right-hand y axis.
type axis struct {
	X     float64 // where the axis line is drawn
	Class string
	Label string
	Title xy // centre of the (rotated) axis title
	Ticks []tick
}

// series is one line, possibly broken into segments where samples are missing.
type series struct {
	Name     string
	Class    string
	Segments []string // SVG polyline points
}

// area is a filled polygon under a series.
type area struct {
	Class    string
	Polygons []string
}

// marker is a vertical line with a label in the lane above the plot.
type marker struct {
	X, Y1, Y2 float64
	Class     string
	Label     string // empty when there was no room for it
	LabelX    float64
	LabelY    float64
	Title     string // full text, shown on hover
}

type legendItem struct {
	X, Y  float64
	Class string
	Shape string // "line", "area" or "marker"
	Label string
}

// Series and marker classes; the page's stylesheet colours them.
const (
	clsSpec     = "s-spec"
	clsReady    = "s-ready"
	clsDesired  = "s-desired"
	clsRate     = "s-rate"
	clsP99      = "s-p99"
	clsQueue    = "s-queue"
	clsCPU      = "s-cpu"
	clsHPACPU   = "s-hpacpu"
	clsProfile  = "s-profile"
	clsArrivals = "s-arrivals"
	clsErrors   = "s-err"
	clsMarkLoad = "m-load"
	clsMarkKEDA = "m-keda"
	clsMarkStep = "m-step"
	clsMarkMisc = "m-misc"
	clsMarkReq  = "m-req"
	clsMarkWarn = "m-warn"
)

// KEDA events shown as markers.
const (
	reasonKEDAActivated   = "KEDAScaleTargetActivated"
	reasonKEDADeactivated = "KEDAScaleTargetDeactivated"
)

// point is one sample: x in seconds since the run start, y in series units.
type point struct{ T, V float64 }

// chartData is what a scenario's timeline contributes to its chart.
type chartData struct {
	End              float64
	Spec, Ready      []point // step functions
	Desired          []point // step function
	Rate, P99, Queue []point // samples
	Errors           []point // load errors per second, when any
	// CPU is a CPU profile's steps as the data plane took them (percent of
	// the CPU request, a step function); HPACPU the HPA's reading of it.
	CPU, HPACPU []point
	Markers     []rawMarker
}

type rawMarker struct {
	T     float64
	Class string
	Label string
	Title string
}

// collect extracts the series of s's timeline. When several Deployments were
// recorded, the one whose spec.replicas changes are the scenario's Steps is
// charted; when several autoscalers were, the one with the most events.
func collect(s results.Scenario) chartData {
	d := chartData{End: span(s)}
	dep := scaledDeployment(s)
	hpa := busiest(s.Timeline, timeline.KindAutoscaler)
	for _, e := range s.Timeline {
		t := e.Seconds()
		switch {
		case e.Deployment != nil && e.Object == dep:
			d.Spec = append(d.Spec, point{t, float64(e.Deployment.Spec)})
			d.Ready = append(d.Ready, point{t, float64(e.Deployment.Ready)})
		case e.Autoscaler != nil && e.Object == hpa:
			d.Desired = append(d.Desired, point{t, float64(e.Autoscaler.Desired)})
			if v, ok := cpuPercent(e.Autoscaler.Metric); ok {
				d.HPACPU = append(d.HPACPU, point{t, v})
			}
		case e.Marker != nil && e.Marker.Name == timeline.MarkerCPUStep:
			if v, ok := cpuPercent("cpu " + e.Marker.Detail); ok {
				d.CPU = append(d.CPU, point{t, v})
			}
		case e.Load != nil:
			d.Rate = append(d.Rate, point{t, float64(e.Load.Requests)})
			d.Errors = append(d.Errors, point{t, float64(e.Load.Errors)})
			if e.Load.Requests > 0 {
				d.P99 = append(d.P99, point{t, e.Load.P99LatencySeconds})
			}
		case e.Queue != nil:
			d.Queue = append(d.Queue, point{t, float64(e.Queue.Visible + e.Queue.InFlight)})
		case e.Marker != nil:
			m := rawMarker{T: t, Class: clsMarkMisc, Label: e.Marker.Name}
			switch e.Marker.Name {
			case timeline.MarkerLoadStart:
				m.Class, m.Label = clsMarkLoad, "load start"
			case timeline.MarkerLoadStop:
				m.Class, m.Label = clsMarkLoad, "load stop"
			case timeline.MarkerQueueDrained:
				m.Class, m.Label = clsMarkLoad, "queue drained"
			}
			m.Title = fmt.Sprintf("%s s: %s", fmtAt(t), describe(e))
			d.Markers = append(d.Markers, m)
		case e.KubeEvent != nil:
			m := rawMarker{T: t, Class: clsMarkKEDA, Title: fmt.Sprintf("%s s: %s %s", fmtAt(t), e.Object, describe(e))}
			switch {
			case e.KubeEvent.Reason == reasonKEDAActivated:
				m.Label = "KEDA activated"
			case e.KubeEvent.Reason == reasonKEDADeactivated:
				m.Label = "KEDA deactivated"
			case e.KubeEvent.Type == "Warning":
				m.Class, m.Label = clsMarkWarn, "warning: "+e.KubeEvent.Reason
			default:
				continue
			}
			d.Markers = append(d.Markers, m)
		case e.Request != nil:
			r := e.Request
			label := fmt.Sprintf("%s: %d in %s s", r.Purpose, r.Status, results.Seconds(r.LatencySeconds))
			if r.Status == 0 {
				label = fmt.Sprintf("%s: failed after %s s", r.Purpose, results.Seconds(r.LatencySeconds))
			}
			d.Markers = append(d.Markers, rawMarker{T: t, Class: clsMarkReq, Label: label,
				Title: fmt.Sprintf("%s s: request %s", fmtAt(t), describe(e))})
		}
	}
	if maxV(d.Errors) == 0 {
		d.Errors = nil
	}
	for _, st := range s.Steps {
		d.Markers = append(d.Markers, rawMarker{T: st.AtSeconds, Class: clsMarkStep,
			Label: fmt.Sprintf("%d→%d", st.From, st.To),
			Title: fmt.Sprintf("%s s: spec.replicas %d → %d", fmtAt(st.AtSeconds), st.From, st.To)})
		d.End = max(d.End, st.AtSeconds)
	}
	slices.SortStableFunc(d.Markers, func(a, b rawMarker) int {
		switch {
		case a.T < b.T:
			return -1
		case a.T > b.T:
			return 1
		}
		return 0
	})
	return d
}

// scaledDeployment is the Deployment object that matches the most of s's
// Steps (an event at the step's time with spec.replicas at its To), the
// busiest one on ties.
func scaledDeployment(s results.Scenario) string {
	matched := map[string]int{}
	for _, st := range s.Steps {
		at := time.Duration(math.Round(st.AtSeconds * float64(time.Second)))
		for _, e := range s.Timeline {
			if e.Deployment != nil && e.Deployment.Spec == st.To && (e.At-at).Abs() < time.Millisecond {
				matched[e.Object]++
			}
		}
	}
	best, bestN := busiest(s.Timeline, timeline.KindDeployment), 0
	for _, e := range s.Timeline {
		if n := matched[e.Object]; e.Deployment != nil && n > bestN {
			best, bestN = e.Object, n
		}
	}
	return best
}

// busiest is the Object with the most events of kind k (first seen on ties).
func busiest(evs []timeline.Event, k timeline.Kind) string {
	counts := map[string]int{}
	best, bestN := "", 0
	for _, e := range evs {
		if e.Kind != k {
			continue
		}
		counts[e.Object]++
		if n := counts[e.Object]; n > bestN {
			best, bestN = e.Object, n
		}
	}
	return best
}

// rightAxis is a candidate for a right-hand axis and the series drawn
// against it.
type rightAxis struct {
	class, label string
	format       func(v, step float64) string
	scale        float64 // multiply values for display (seconds to ms)
	lines        []rightLine
}

type rightLine struct {
	name, class string
	pts         []point
	area        bool
	// step: pts are a step function's corners, drawn whole (samples
	// break at gaps; a step function has none).
	step bool
}

func (a rightAxis) max() float64 {
	m := 0.0
	for _, l := range a.lines {
		m = max(m, maxV(l.pts))
	}
	return m * a.scale
}

// legendEntry is a legend item before layout.
type legendEntry struct{ class, shape, label string }

// buildChart lays out the chart of one scenario trial.
func buildChart(s results.Scenario) chartModel {
	d := collect(s)
	c := chartModel{W: chartW, H: chartH, Title: "Replicas and load over time: " + scenarioTitle(s)}
	if len(d.Spec) == 0 && len(d.Desired) == 0 && len(d.Rate) == 0 && len(d.Queue) == 0 && len(d.Markers) == 0 && len(s.Profile) == 0 {
		c.Empty = true
		return c
	}

	// Right axes: queue depth when present, then throughput (with errors)
	// and p99 latency; at most two.
	var axes []rightAxis
	if len(d.Queue) > 0 {
		axes = append(axes, rightAxis{class: clsQueue, label: "queue depth (messages)", format: plainTick, scale: 1,
			lines: []rightLine{{name: "queue depth (visible + in flight)", class: clsQueue, pts: d.Queue, area: true}}})
	}
	if len(d.CPU) > 0 {
		// The profile as a step area ending at the chart's end, with the
		// HPA's reading of it.
		pts := stepPoints(d.CPU, d.End)
		a := rightAxis{class: clsCPU, label: "CPU utilization (% of request)", format: unitTick("%"), scale: 1,
			lines: []rightLine{{name: "CPU profile (% of each pod's request)", class: clsCPU, pts: pts, area: true, step: true}}}
		if len(d.HPACPU) > 0 {
			a.lines = append(a.lines, rightLine{name: "HPA's CPU utilization", class: clsHPACPU, pts: stepPoints(d.HPACPU, d.End), step: true})
		}
		axes = append(axes, a)
	}
	prof, unit := profilePoints(s.Profile)
	if len(d.Rate) > 0 {
		a := rightAxis{class: clsRate, label: "throughput (req/s)", format: plainTick, scale: 1,
			lines: []rightLine{{name: "requests/s", class: clsRate, pts: d.Rate, area: true}}}
		if len(d.Errors) > 0 {
			a.lines = append(a.lines, rightLine{name: "errors/s", class: clsErrors, pts: d.Errors, area: true})
		}
		if len(prof) > 0 && unit == "requests" {
			a.lines = append(a.lines, rightLine{name: "scheduled requests/s (profile)", class: clsProfile, pts: prof, step: true})
		}
		axes = append(axes, a)
	} else if len(prof) > 0 {
		// Arrivals without per-second samples (SQS messages): the profile
		// and, per step, the rate achieved.
		axes = append(axes, rightAxis{class: clsArrivals, label: unit + "/s", format: plainTick, scale: 1,
			lines: []rightLine{
				{name: "scheduled " + unit + "/s (profile)", class: clsProfile, pts: prof, area: true, step: true},
				{name: unit + " sent/s (per step)", class: clsArrivals, pts: achievedPoints(s.Profile), step: true},
			}})
	}
	if len(d.P99) > 0 {
		a := rightAxis{class: clsP99, lines: []rightLine{{name: "p99 latency", class: clsP99, pts: d.P99}}}
		if maxV(d.P99) < 1 {
			a.label, a.scale, a.format = "p99 latency (ms)", 1000, unitTick("ms")
		} else {
			a.label, a.scale, a.format = "p99 latency (s)", 1, unitTick("s")
		}
		axes = append(axes, a)
	}
	if len(axes) > 2 {
		axes = axes[:2]
	}

	right := float64(rightPad)
	if len(axes) > 0 {
		right = float64(len(axes)) * rightAxisW
	}
	p := rect{X: plotLeft, W: chartW - plotLeft - right}

	// Legend rows on top, then the marker lane, then the plot.
	var entries []legendEntry
	if len(d.Spec) > 0 {
		entries = append(entries, legendEntry{clsSpec, "line", "spec replicas"}, legendEntry{clsReady, "line", "ready replicas"})
	}
	if len(d.Desired) > 0 {
		entries = append(entries, legendEntry{clsDesired, "line", "HPA desired replicas"})
	}
	for _, a := range axes {
		for _, l := range a.lines {
			shape := "line"
			if l.area {
				shape = "area"
			}
			entries = append(entries, legendEntry{l.class, shape, l.name})
		}
	}
	entries = append(entries, markerLegend(d.Markers)...)
	legend, legendRows := layoutLegend(entries, p.X)
	c.Legend = legend
	laneTop := legendY + float64(legendRows-1)*legendRowH + 14

	// x: seconds since the run start; a sliver past a tick does not add one.
	xStep := niceStep(max(d.End, 1)/10, []float64{1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600})
	xMax := math.Ceil(max(d.End, 1)/xStep-0.02) * xStep
	xOf := func(t float64) float64 { return p.X + p.W*clamp(t/xMax) }

	// The marker lane takes as many rows as its labels need; the plot gets
	// the rest of the height.
	markers, rows := layoutMarkers(d.Markers, xOf, laneTop)
	p.Y = laneTop + float64(rows)*laneRowH + 8
	p.H = chartH - plotBottom - p.Y
	c.Plot = p
	for i := range markers {
		markers[i].Y2 = p.Bottom()
		if markers[i].Label == "" {
			markers[i].Y1 = p.Y
		}
	}
	c.Markers = markers
	for v := 0.0; v <= xMax+xStep/2; v += xStep {
		c.XTicks = append(c.XTicks, tick{xOf(v), fmtTick(v, xStep) + "s"})
	}
	c.XLabel = "time since run start (s)"
	c.XTitle = xy{p.X + p.W/2, p.Bottom() + 38}

	// Left: replicas.
	peak := max(maxV(d.Spec), maxV(d.Ready), maxV(d.Desired), 1)
	yStep := max(niceStep(peak*1.1/6, nil), 1)
	yMax := math.Ceil(peak*1.1/yStep) * yStep
	yOf := func(v float64) float64 { return p.Bottom() - p.H*clamp(v/yMax) }
	for v := 0.0; v <= yMax+yStep/2; v += yStep {
		c.LeftTicks = append(c.LeftTicks, tick{yOf(v), fmtTick(v, yStep)})
	}
	c.LeftLabel = "replicas"
	c.LeftTitle = xy{16, p.Y + p.H/2}

	for i, a := range axes {
		hi := max(a.max(), 1e-9)
		step := niceStep(hi*1.1/5, nil)
		top := math.Ceil(hi*1.1/step) * step
		ax := axis{X: p.Right() + float64(i)*rightAxisW, Class: a.class, Label: a.label}
		ax.Title = xy{ax.X + rightAxisW - 12, p.Y + p.H/2}
		for v := 0.0; v <= top+step/2; v += step {
			ax.Ticks = append(ax.Ticks, tick{p.Bottom() - p.H*clamp(v/top), a.format(v, step)})
		}
		c.Right = append(c.Right, ax)
		ryOf := func(v float64) float64 { return p.Bottom() - p.H*clamp(v*a.scale/top) }
		for _, l := range a.lines {
			sr := series{Name: l.name, Class: l.class}
			ar := area{Class: l.class}
			segs := [][]point{l.pts}
			if !l.step {
				segs = segments(l.pts)
			}
			for _, seg := range segs {
				sr.Segments = append(sr.Segments, polyline(seg, xOf, ryOf))
				if l.area {
					ar.Polygons = append(ar.Polygons, polygon(seg, xOf, ryOf, p.Bottom()))
				}
			}
			if l.area {
				c.Areas = append(c.Areas, ar)
			}
			c.Series = append(c.Series, sr)
		}
	}

	// Replica step lines go on top of the load series.
	if len(d.Spec) > 0 {
		c.Series = append(c.Series,
			series{Name: "spec replicas", Class: clsSpec, Segments: []string{stepline(d.Spec, d.End, xOf, yOf)}},
			series{Name: "ready replicas", Class: clsReady, Segments: []string{stepline(d.Ready, d.End, xOf, yOf)}})
	}
	if len(d.Desired) > 0 {
		c.Series = append(c.Series,
			series{Name: "HPA desired replicas", Class: clsDesired, Segments: []string{stepline(d.Desired, d.End, xOf, yOf)}})
	}
	return c
}

// layoutMarkers places marker labels in the lane above the plot: each label
// takes the first row where it does not overlap the previous label; a label
// with no free row is dropped (its line and hover title stay). It returns
// the markers without their vertical extent, and the rows used.
func layoutMarkers(ms []rawMarker, xOf func(float64) float64, laneTop float64) ([]marker, int) {
	rows := 0
	var rowEnd [laneRows]float64
	for i := range rowEnd {
		rowEnd[i] = math.Inf(-1)
	}
	out := make([]marker, 0, len(ms))
	for _, m := range ms {
		x := xOf(m.T)
		label := m.Label
		if r := []rune(label); len(r) > maxLabelLen {
			label = string(r[:maxLabelLen-1]) + "…"
		}
		w := float64(len([]rune(label)))*charW + 4
		mk := marker{X: x, Class: m.Class, Title: m.Title}
		// A label starts just right of its line; near the right edge it
		// ends there instead.
		lx := x + 2
		if lx+w > chartW {
			lx = x - w - 2
		}
		for row := range laneRows {
			if lx > rowEnd[row]+4 {
				rowEnd[row] = lx + w
				mk.Label = label
				mk.LabelX = lx
				mk.LabelY = laneTop + float64(row+1)*laneRowH - 3
				mk.Y1 = mk.LabelY - 9
				rows = max(rows, row+1)
				break
			}
		}
		out = append(out, mk)
	}
	return out, rows
}

// markerLegend lists the kinds of markers present.
func markerLegend(ms []rawMarker) []legendEntry {
	seen := map[string]bool{}
	for _, m := range ms {
		seen[m.Class] = true
	}
	var out []legendEntry
	for _, e := range []legendEntry{
		{clsMarkLoad, "marker", "load / queue markers"},
		{clsMarkKEDA, "marker", "KEDA events"},
		{clsMarkStep, "marker", "scale steps"},
		{clsMarkReq, "marker", "probe requests"},
		{clsMarkWarn, "marker", "warning events"},
		{clsMarkMisc, "marker", "other markers"},
	} {
		if seen[e.class] {
			out = append(out, e)
		}
	}
	return out
}

// layoutLegend lays entries out in rows from x0, wrapping at the chart's
// right edge; it returns the items and the number of rows.
func layoutLegend(entries []legendEntry, x0 float64) ([]legendItem, int) {
	var items []legendItem
	x, row := x0, 0
	for _, e := range entries {
		w := swatchW + 6 + float64(len([]rune(e.label)))*charW
		if x > x0 && x+w > chartW-8 {
			x, row = x0, row+1
		}
		items = append(items, legendItem{X: x, Y: legendY + float64(row)*legendRowH, Class: e.class, Shape: e.shape, Label: e.label})
		x += w + legendGap
	}
	return items, row + 1
}

// segments splits samples where they pause for much longer than usual (load
// stopped, a sampler restarted), so lines do not bridge the gap.
func segments(pts []point) [][]point {
	if len(pts) < 2 {
		return [][]point{pts}
	}
	gaps := make([]float64, 0, len(pts)-1)
	for i := 1; i < len(pts); i++ {
		gaps = append(gaps, pts[i].T-pts[i-1].T)
	}
	slices.Sort(gaps)
	limit := max(2.5*stats.MedianSorted(gaps), 1.5)
	var out [][]point
	start := 0
	for i := 1; i < len(pts); i++ {
		if pts[i].T-pts[i-1].T > limit {
			out = append(out, pts[start:i])
			start = i
		}
	}
	return append(out, pts[start:])
}

func polyline(pts []point, xOf, yOf func(float64) float64) string {
	var b strings.Builder
	for i, pt := range pts {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeXY(&b, xOf(pt.T), yOf(pt.V))
	}
	return b.String()
}

func polygon(pts []point, xOf, yOf func(float64) float64, base float64) string {
	if len(pts) == 0 {
		return ""
	}
	var b strings.Builder
	writeXY(&b, xOf(pts[0].T), base)
	for _, pt := range pts {
		b.WriteByte(' ')
		writeXY(&b, xOf(pt.T), yOf(pt.V))
	}
	b.WriteByte(' ')
	writeXY(&b, xOf(pts[len(pts)-1].T), base)
	return b.String()
}

// stepline draws a value that holds until the next sample, up to end.
func stepline(pts []point, end float64, xOf, yOf func(float64) float64) string {
	var b strings.Builder
	for i, pt := range pts {
		if i > 0 {
			if pt.V == pts[i-1].V {
				continue
			}
			b.WriteByte(' ')
			writeXY(&b, xOf(pt.T), yOf(pts[i-1].V))
			b.WriteByte(' ')
		}
		writeXY(&b, xOf(pt.T), yOf(pt.V))
	}
	if last := pts[len(pts)-1]; end > last.T || len(pts) == 1 {
		b.WriteByte(' ')
		writeXY(&b, xOf(max(end, last.T)), yOf(last.V))
	}
	return b.String()
}

func writeXY(b *strings.Builder, x, y float64) {
	b.WriteString(px(x))
	b.WriteByte(',')
	b.WriteString(px(y))
}

// px formats a coordinate to a tenth of a unit.
func px(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// niceStep is the smallest step of steps (or of the 1-2-5 series when steps
// is nil) that is at least raw.
func niceStep(raw float64, steps []float64) float64 {
	if raw <= 0 {
		raw = 1e-9
	}
	for _, s := range steps {
		if s >= raw {
			return s
		}
	}
	if steps != nil {
		return math.Ceil(raw/steps[len(steps)-1]) * steps[len(steps)-1]
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			return m * mag
		}
	}
	return 10 * mag
}

// fmtTick formats a tick value with as many decimals as its step needs.
func fmtTick(v, step float64) string {
	dec := 0
	for s := step; s < 1-1e-9 && dec < 6; s *= 10 {
		dec++
	}
	return strconv.FormatFloat(v, 'f', dec, 64)
}

func plainTick(v, step float64) string { return fmtTick(v, step) }

func unitTick(unit string) func(v, step float64) string {
	return func(v, step float64) string { return fmtTick(v, step) + unit }
}

// cpuPercent reads "cpu 180%" (an HPA's CPU metric, a CPU step's detail).
func cpuPercent(s string) (float64, bool) {
	v, ok := strings.CutPrefix(s, "cpu ")
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSuffix(v, "%"), 64)
	return f, err == nil && strings.HasSuffix(v, "%")
}

// profilePoints are an arrival profile's scheduled rate as a polyline: each
// step from its start at From to its end at To (a ramp is a slope), and the
// unit of its arrivals.
func profilePoints(p []results.ProfileStep) ([]point, string) {
	var out []point
	unit := ""
	for _, st := range p {
		out = append(out, point{st.StartSeconds, st.FromPerSecond}, point{st.EndSeconds, st.ToPerSecond})
		unit = st.Unit
	}
	if n := len(out); n > 0 {
		out = append(out, point{out[n-1].T, 0})
	}
	return out, unit
}

// achievedPoints are each step's achieved rate (sent ÷ its length), held
// over the step.
func achievedPoints(p []results.ProfileStep) []point {
	var out []point
	for _, st := range p {
		v := st.AchievedPerSecond()
		out = append(out, point{st.StartSeconds, v}, point{st.EndSeconds, v})
	}
	return out
}

// stepPoints turns a step function's changes into the corners of its
// polyline, held to end.
func stepPoints(pts []point, end float64) []point {
	var out []point
	for i, p := range pts {
		if i > 0 {
			out = append(out, point{p.T, pts[i-1].V})
		}
		out = append(out, p)
	}
	if n := len(pts); n > 0 && end > pts[n-1].T {
		out = append(out, point{end, pts[n-1].V})
	}
	return out
}

func maxV(pts []point) float64 {
	m := 0.0
	for _, p := range pts {
		m = max(m, p.V)
	}
	return m
}

func clamp(f float64) float64 { return min(max(f, 0), 1) }
