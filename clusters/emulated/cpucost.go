package emulated

import (
	"time"

	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
)

// CPUCost is the emulated cpu-load-gen app's CPU time per request (naive
// fib(43)) when a scenario does not set emulation.cpuPerRequest, and where
// that figure came from.
type CPUCost struct {
	PerRequest time.Duration
	// Source says how the figure was obtained, in a sentence.
	Source string
}

// AssumedCPUCost is the data plane's built-in figure: a measured native
// time times an assumed WebAssembly slowdown.
var AssumedCPUCost = CPUCost{
	PerRequest: dataplane.DefaultFib43CPU,
	Source: "assumed: native Go fib(43) takes 2.45 CPU-s (median of 18 runs on a 2-core VM) " +
		"× an assumed 1.5 WebAssembly slowdown",
}
