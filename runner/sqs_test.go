package runner

import (
	"testing"
	"time"

	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/scenario"
)

func TestValidWaiting(t *testing.T) {
	for _, tc := range []struct {
		name              string
		inQueue, notStore []string
		want              int64
	}{
		{"empty queue", nil, []string{"a", "b"}, 0},
		{"invalid and stored-not-deleted ones are not waiting", []string{"x", "s"}, []string{"a"}, 0},
		{"valid ones not stored are", []string{"a", "x", "b"}, []string{"a", "b", "c"}, 2},
		{"listed twice counts once", []string{"a", "a"}, []string{"a"}, 1},
	} {
		if got := validWaiting(tc.inQueue, tc.notStore); got != tc.want {
			t.Errorf("%s: validWaiting(%v, %v) = %d, want %d", tc.name, tc.inQueue, tc.notStore, got, tc.want)
		}
	}
}

// A message arrival profile's report counts each step's scheduled messages
// (the open-loop schedule) and those accepted during it; one accepted after
// the last step's end counts in the last step, so the steps' sent add up to
// every message sent.
func TestSQSProfile(t *testing.T) {
	r := func(v float64) *scenario.Rate { return &scenario.Rate{PerSecond: v} }
	p := []scenario.RateStep{
		{Rate: r(4), For: scenario.D(2 * time.Second)},
		{Rate: r(0), For: scenario.D(time.Second)},
		{RampTo: r(6), For: scenario.D(2 * time.Second)},
	}
	perStep := load.Options{Mode: load.OpenLoop, Steps: rateSteps(p)}.Arrivals()
	if len(perStep) != 3 || len(perStep[0]) != 8 || len(perStep[1]) != 0 || len(perStep[2]) < 5 || len(perStep[2]) > 7 {
		t.Fatalf("arrivals per step %v; want 8, 0 and 6±1", perStep)
	}
	if at := perStep[2][0]; at != 3*time.Second {
		t.Errorf("the ramp's first message at %v, want at its start 3s", at)
	}
	ms := func(v int) time.Duration { return time.Duration(v) * time.Millisecond }
	sent := []time.Duration{ms(10), ms(1990), ms(2500), ms(3100), ms(4999), ms(5200)}
	got := sqsProfile(p, perStep, sent, 20*time.Second)
	want := []int64{2, 1, 3}
	var total int64
	for i, g := range got {
		total += g.Sent
		if g.Sent != want[i] || g.Unit != "messages" || g.Missed != nil || g.Scheduled != int64(len(perStep[i])) {
			t.Errorf("step %d: %+v, want %d sent of %d scheduled", i, g, want[i], len(perStep[i]))
		}
	}
	if total != int64(len(sent)) {
		t.Errorf("steps count %d sent, the sender %d", total, len(sent))
	}
	if got[2].StartSeconds != 23 || got[2].EndSeconds != 25 || !got[2].Ramp || got[2].FromPerSecond != 0 || got[2].ToPerSecond != 6 {
		t.Errorf("ramp step %+v", got[2])
	}
}
