package budget

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// WriteText writes the budget for people: the load assumed, each estimate
// with its range, terms and dominant knob, the predicted steps and the
// parameters.
func (b Budget) WriteText(w io.Writer) error {
	var sb strings.Builder
	fmt.Fprintf(&sb, "autoscaler %s, metric %s\nload: %s\n", b.Autoscaler, b.Metric, b.Load)
	if b.NoScaleUp != "" {
		fmt.Fprintf(&sb, "no scale-up predicted: %s\n", b.NoScaleUp)
	}
	for _, e := range []struct {
		name, prep string
		e          *Estimate
	}{{"first scale-up", "from", b.FirstScaleUp}, {"reach max", "to", b.ReachMax}, {"back to min", "at", b.BackToMin}} {
		if e.e == nil {
			continue
		}
		fmt.Fprintf(&sb, "%s (%s %d replicas, from the %s; compare %s): %s–%s s, budget %s s, dominated by %s\n",
			e.name, e.prep, e.e.Replicas, e.e.From, e.e.Observed, Seconds(e.e.MinSeconds), Seconds(e.e.MaxSeconds), Seconds(e.e.MaxSeconds), e.e.Dominant)
		for _, t := range e.e.Terms {
			fmt.Fprintf(&sb, "    %6s s  %s\n", Seconds(t.Seconds), t.Knob)
		}
	}
	writeSteps := func(title string, steps []Step) {
		if len(steps) == 0 {
			return
		}
		fmt.Fprintf(&sb, "%s:", title)
		for _, s := range steps {
			fmt.Fprintf(&sb, "\n    %6s s  %d → %d  (%s)", Seconds(s.AtSeconds), s.From, s.To, s.Why)
		}
		sb.WriteString("\n")
	}
	writeSteps("predicted steps from the load start (slowest alignment)", b.Steps)
	writeSteps("predicted steps from the load end (slowest alignment)", b.ScaleDownSteps)
	sb.WriteString("parameters:\n")
	for _, p := range b.Parameters {
		fmt.Fprintf(&sb, "    %s = %s (%s)\n", p.Name, p.Value, p.Source)
	}
	_, err := io.WriteString(w, sb.String())
	return err
}

// Seconds formats seconds to a tenth, without a trailing ".0".
func Seconds(v float64) string {
	return strconv.FormatFloat(float64(int64(v*10+0.5))/10, 'f', -1, 64)
}
