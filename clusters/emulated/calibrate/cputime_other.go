//go:build !linux

package calibrate

import "time"

// clockName describes what cpuTime measures.
const clockName = "wall-clock time (no per-thread CPU clock on this platform; other load inflates it)"

var start = time.Now()

// cpuTime stands in for thread CPU time where the platform has none: the
// monotonic wall clock. clockName says so in every result.
func cpuTime() (time.Duration, error) { return time.Since(start), nil }
