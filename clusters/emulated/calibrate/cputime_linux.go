package calibrate

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// clockName describes what cpuTime measures.
const clockName = "thread CPU time (CLOCK_THREAD_CPUTIME_ID) of the calling OS thread, locked for the measurement"

// cpuTime is the CPU time consumed so far by the calling OS thread. The
// caller locks its goroutine to the thread; wazero runs compiled guest code
// on that thread (on a stack of its own), so a guest call is counted in full
// and nothing else running in the process is.
func cpuTime() (time.Duration, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0, fmt.Errorf("calibrate: read thread CPU time: %w", err)
	}
	return time.Duration(ts.Nano()), nil
}
