package doctable

import (
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
)

func steps(spec ...float64) []results.Step {
	// spec: at, from, to, at, from, to, …
	var s []results.Step
	for i := 0; i+2 < len(spec); i += 3 {
		s = append(s, results.Step{AtSeconds: spec[i], From: int32(spec[i+1]), To: int32(spec[i+2])})
	}
	return s
}

func TestTheDocumentsOwnTablesPass(t *testing.T) {
	for _, tc := range []struct {
		t   Table
		max int32
	}{{HPA, 10}, {KEDACPU, 20}} {
		var s []results.Step
		for i := 1; i < len(tc.t.Replicas); i++ {
			s = append(s, results.Step{AtSeconds: 30 + 15*float64(i), From: tc.t.Replicas[i-1], To: tc.t.Replicas[i]})
		}
		s = append(s, results.Step{AtSeconds: 400, From: tc.max, To: 1})
		if v := Compare(tc.t, s, tc.max, false); len(v) != 0 {
			t.Errorf("%s: the document's own table fails: %v", tc.t.Doc, v)
		}
	}
}

func TestCompareCatchesShapeViolations(t *testing.T) {
	for name, tc := range map[string]struct {
		steps    []results.Step
		behavior bool
		want     string
	}{
		"first step beyond the legacy limit": {steps(30, 1, 5, 45, 5, 10), false, "beyond the HPA's limit 4"},
		"default behavior allows 1→5":        {steps(30, 1, 5, 45, 5, 10), true, ""},
		"a later step short of the limit":    {steps(30, 1, 4, 45, 4, 6, 60, 6, 10), false, ""},
		"two steps too many":                 {steps(30, 1, 2, 45, 2, 3, 60, 3, 4, 75, 4, 6, 90, 6, 10), false, "took 5 steps"},
		"1→2→6→10 with a behavior":           {steps(64.2, 1, 2, 79.2, 2, 6, 94.5, 6, 10), true, ""},
		"steps too close":                    {steps(30, 1, 4, 40, 4, 8, 55, 8, 10), false, "comes 10.0s after"},
		"a step two syncs late is fine":      {steps(30, 1, 4, 60, 4, 8, 75, 8, 10), false, ""},
		"a step three syncs late":            {steps(30, 1, 4, 80, 4, 8, 95, 8, 10), false, "comes 50.0s after"},
		"never reaches max":                  {steps(30, 1, 4, 45, 4, 8), false, "ends at 8 replicas"},
		"does not start at 1":                {steps(30, 2, 4, 45, 4, 8, 60, 8, 10), false, "starts at 2"},
		"no scale-up":                        {nil, false, "no scale-up"},
		"a first step of 2 (phase) is fine":  {steps(30, 1, 2, 45, 2, 4, 60, 4, 8, 75, 8, 10), false, ""},
	} {
		v := Compare(HPA, tc.steps, 10, tc.behavior)
		got := strings.Join(v, "; ")
		if tc.want == "" && len(v) != 0 || tc.want != "" && !strings.Contains(got, tc.want) {
			t.Errorf("%s: violations %q, want %q", name, got, tc.want)
		}
	}
}

func TestKEDATableSideBySide(t *testing.T) {
	run := steps(27.2, 1, 4, 42.3, 4, 8, 57.1, 8, 16, 72.4, 16, 20, 250, 20, 1)
	if v := Compare(KEDACPU, run, 20, false); len(v) != 0 {
		t.Fatalf("violations %v", v)
	}
	if got, want := Row(KEDACPU, run), "document 1→2→4→8→16→20 at 15s steps; run 1→4→8→16→20, steps [15.1 14.8 15.3] s apart"; got != want {
		t.Errorf("Row = %q, want %q", got, want)
	}
}

// The keda-cpu-fast run measured on the emulated cluster (default behavior,
// set by its scale-down window): 1→2 as the tutorial, then limit- and
// metric-bound steps.
func TestMeasuredKEDARun(t *testing.T) {
	run := steps(64.2, 1, 2, 79.2, 2, 6, 94.5, 6, 10, 109.7, 10, 20, 201.5, 20, 1)
	if v := Compare(KEDACPU, run, 20, true); len(v) != 0 {
		t.Errorf("violations %v", v)
	}
	if v := Compare(KEDACPU, run, 20, false); len(v) == 0 {
		t.Error("2→6 passed without a behavior (legacy limit 4)")
	}
}

func TestCompareSQS(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	ok := steps(3, 0, 1, 10, 1, 4, 25, 4, 8, 80, 8, 0)
	if v := CompareSQS(ok, f(33), SQSCooldown, 10); len(v) != 0 {
		t.Errorf("violations %v", v)
	}
	for name, tc := range map[string]struct {
		steps []results.Step
		down  *float64
		want  string
	}{
		"too soon":        {ok, f(12), "want the cooldown 30s"},
		"too late":        {ok, f(70), "want the cooldown 30s"},
		"never measured":  {ok, nil, "no scale-down time"},
		"not back to 0":   {steps(3, 0, 1, 10, 1, 4), f(33), "want back to 0"},
		"peak of 1 only":  {steps(3, 0, 1, 40, 1, 0), f(33), "peak 1 replicas"},
		"does not from 0": {steps(3, 1, 4, 40, 4, 0), f(33), "from 0"},
	} {
		if got := strings.Join(CompareSQS(tc.steps, tc.down, SQSCooldown, 10), "; "); !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", name, got, tc.want)
		}
	}
}

func TestCompareColdStart(t *testing.T) {
	if v := CompareColdStart(1.4); len(v) != 0 {
		t.Errorf("1.4s: %v", v)
	}
	for _, s := range []float64{0, 4.5} {
		if v := CompareColdStart(s); len(v) == 0 {
			t.Errorf("%.1fs passed", s)
		}
	}
}

func TestScaleUpLimit(t *testing.T) {
	for _, tc := range []struct {
		cur      int32
		behavior bool
		want     int32
	}{{1, false, 4}, {2, false, 4}, {4, false, 8}, {8, false, 16}, {1, true, 5}, {4, true, 8}, {10, true, 20}} {
		if got := ScaleUpLimit(tc.cur, tc.behavior); got != tc.want {
			t.Errorf("ScaleUpLimit(%d, %v) = %d, want %d", tc.cur, tc.behavior, got, tc.want)
		}
	}
}
