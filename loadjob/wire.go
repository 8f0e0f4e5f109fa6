package loadjob

import (
	"time"

	"github.com/scalebench/scalebench/load"
)

// Line types.
const (
	LineStart  = "start"
	LineSecond = "second"
	LineDone   = "done"
)

// Line is one JSON line a load pod writes on stdout. Seq numbers a pod's
// lines from 1 (the start line) so a reader can drop the ones it has seen
// and notice the ones it missed.
type Line struct {
	Seq  int    `json:"seq"`
	Type string `json:"type"`
	// Started (start line) is the wall-clock time of the pod's offset 0.
	Started time.Time `json:"started,omitzero"`
	// Second (second line) is the second, from the pod's offset 0, that the
	// requests below started in.
	Second int `json:"second,omitempty"`
	// OK are the latencies of the successful requests, Failed those of the
	// failed ones by kind, in microseconds.
	OK     []int64                    `json:"ok,omitempty"`
	Failed map[load.ErrorKind][]int64 `json:"failed,omitempty"`
	Bytes  int64                      `json:"bytes,omitempty"`
	// EndMicros is the latest start+latency of the requests in the line.
	EndMicros int64 `json:"end,omitempty"`
	// Totals (done line) are the pod's generator's own figures.
	Totals *Totals `json:"totals,omitempty"`
	// Error (done line) is why the pod's load stopped early; empty when it
	// ran to the end.
	Error string `json:"error,omitempty"`
}

// Totals are one pod's whole-run figures, from its generator's summary.
type Totals struct {
	Requests  int64 `json:"requests"`
	Successes int64 `json:"successes"`
	Errors    int64 `json:"errors"`
	// Missed and MissedBySecond: paced requests never sent (see
	// load.Summary.Missed), in all and by second ([second, count] pairs).
	Missed         int64    `json:"missed,omitempty"`
	MissedBySecond [][2]int `json:"missedBySecond,omitempty"`
	// Dropped results were not streamed (the callback fell behind); they
	// are in Requests but in no second line.
	Dropped      int64 `json:"dropped,omitempty"`
	MaxInFlight  int   `json:"maxInFlight,omitempty"`
	PeakInFlight int   `json:"peakInFlight,omitempty"`
}

// requests is how many requests the line carries.
func (l *Line) requests() int {
	n := len(l.OK)
	for _, f := range l.Failed {
		n += len(f)
	}
	return n
}

func micros(d time.Duration) int64 { return int64(d / time.Microsecond) }

func fromMicros(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
