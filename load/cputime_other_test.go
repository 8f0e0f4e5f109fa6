//go:build !unix

package load

import "time"

// cpuTime is unknown here; the benchmark then reports no CPU metrics.
func cpuTime() time.Duration { return 0 }
