package results

import (
	"fmt"
	"strings"
	"time"

	"github.com/scalebench/scalebench/budget"
	"github.com/scalebench/scalebench/stats"
)

// CompareSchemaVersion is the version of the compare.json schema.
const CompareSchemaVersion = 1

// CompareKind tells a compare.json from a report.json.
const CompareKind = "scalebench-comparison"

// Comparison is the content of compare.json.
type Comparison struct {
	SchemaVersion int       `json:"schemaVersion"`
	Kind          string    `json:"kind"`
	RunID         string    `json:"runId"`
	StartedAt     time.Time `json:"startedAt"`
	FinishedAt    time.Time `json:"finishedAt,omitempty"`
	// Scenarios are the compared scenarios, in the order given; pairs
	// compare each with every later one (difference = later − earlier).
	Scenarios []string `json:"scenarios"`
	// TrialsPerScenario is the number of trials asked for.
	TrialsPerScenario int               `json:"trialsPerScenario"`
	Statistics        CompareStatistics `json:"statistics"`
	Environment       Environment       `json:"environment"`
	// Metrics hold, for each metric some trial measured (or said why not),
	// the scenarios' summaries and the pairs' differences.
	Metrics []MetricComparison `json:"metrics"`
	// Trials are every trial's report, in the order they ran.
	Trials []Trial `json:"trials"`
	// Error says why the comparison stopped early, when it did.
	Error string `json:"error,omitempty"`
}

// CompareStatistics are the parameters of the statistics, stated so that anyone
// can recompute them from the trials.
type CompareStatistics struct {
	Method    string          `json:"method"`
	Bootstrap stats.Bootstrap `json:"bootstrap"`
	// Alpha is 1 − confidence: a difference is shown only when its
	// interval excludes zero and complete separation of the trials alone is
	// no likelier than Alpha under no difference.
	Alpha float64 `json:"alpha"`
	// Order is how trials were scheduled ("interleaved": A B A B …).
	Order string `json:"order"`
	// Note warns about what the statistics cannot promise.
	Note string `json:"note"`
}

// Trial is one run of one scenario within the comparison.
type Trial struct {
	Scenario string `json:"scenario"`
	// Trial numbers the scenario's trials from 1.
	Trial     int    `json:"trial"`
	Namespace string `json:"namespace"`
	// RestWaitSeconds is how long the trial waited for the cluster to be at
	// rest before it started; Rest says what "at rest" was checked as.
	RestWaitSeconds float64 `json:"restWaitSeconds"`
	Rest            string  `json:"rest,omitempty"`
	// Used is false for a trial left out of the statistics (it errored).
	Used   bool     `json:"used"`
	Result Scenario `json:"result"`
}

// MetricComparison compares one metric across the scenarios.
type MetricComparison struct {
	Metric         string          `json:"metric"`
	Unit           string          `json:"unit"`
	HigherIsBetter bool            `json:"higherIsBetter"`
	What           string          `json:"what"`
	Scenarios      []ScenarioStats `json:"scenarios"`
	Pairs          []Pair          `json:"pairs"`
}

// ScenarioStats summarises one metric of one scenario's trials. Median,
// Min and Max are absent when no trial measured it.
type ScenarioStats struct {
	Scenario string `json:"scenario"`
	// Samples are the measured values, in trial order.
	Samples []float64 `json:"samples"`
	Median  *float64  `json:"median,omitempty"`
	Min     *float64  `json:"min,omitempty"`
	Max     *float64  `json:"max,omitempty"`
	// Absent counts the used trials without the metric; Reasons are their
	// distinct reasons.
	Absent  int      `json:"absent,omitempty"`
	Reasons []string `json:"absentReasons,omitempty"`
	// Budget is what the scenario's knobs imply for this metric (the
	// budget package's estimate: MaxSeconds is the budget, Dominant the
	// knob that dominates it); absent when the model has no figure for it.
	Budget *budget.Estimate `json:"budget,omitempty"`
}

// Verdicts.
const (
	VerdictWinner       = "winner"
	VerdictNoDifference = "no difference shown"
	VerdictNotMeasured  = "not measured"
	// VerdictNotComparable: both sides were measured, but toward different
	// ends (a time to peak where the peaks differ), so no winner is named.
	VerdictNotComparable = "not comparable"
)

// Pair compares two scenarios on one metric.
type Pair struct {
	A string `json:"a"`
	B string `json:"b"`
	// Difference is median(B) − median(A) with its interval; absent when
	// either side has no samples.
	Difference *stats.Difference `json:"difference,omitempty"`
	Verdict    string            `json:"verdict"`
	// Winner is the better scenario, set only with VerdictWinner.
	Winner string `json:"winner,omitempty"`
	// Detail says the verdict in a sentence.
	Detail string `json:"detail"`
}

// Units of compared metrics.
const (
	UnitSeconds        = "s"
	UnitReplicaSeconds = "replica·s"
	UnitRatio          = "ratio"
	UnitPerSecond      = "requests/s"
)

// FormatValue formats a metric value with its unit; signed prints a sign
// (a signed ratio is a difference, in percentage points).
func FormatValue(v float64, unit string, signed bool) string {
	n := FormatNumber(v, unit, signed)
	switch unit {
	case UnitRatio:
		if signed {
			return n + " pp"
		}
		return n + " %"
	case UnitSeconds:
		return n + " s"
	case UnitReplicaSeconds:
		return n + " replica·s"
	case UnitPerSecond:
		return n + "/s"
	}
	return n
}

// FormatNumber formats a metric value without its unit, for tables whose
// header names it (a ratio in percent).
func FormatNumber(v float64, unit string, signed bool) string {
	var s string
	switch unit {
	case UnitRatio:
		s = trim(fmt.Sprintf("%.2f", v*100))
	case UnitSeconds:
		s = trim(fmt.Sprintf("%.3f", v))
	case UnitReplicaSeconds:
		s = trim(fmt.Sprintf("%.1f", v))
	case UnitPerSecond:
		s = trim(fmt.Sprintf("%.2f", v))
	default:
		s = trim(fmt.Sprintf("%.3f", v))
	}
	if signed && v > 0 {
		s = "+" + s
	}
	return s
}

// UnitLabel is how a table header names a unit.
func UnitLabel(unit string) string {
	if unit == UnitRatio {
		return "%"
	}
	return unit
}

func trim(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
