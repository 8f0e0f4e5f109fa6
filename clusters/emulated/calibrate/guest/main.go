//go:build wasip1

// Command guest is the cpu-load-gen sample's algorithm for Go's wasip1 port,
// built by package calibrate with the local Go toolchain as a WASI reactor
// (-buildmode=c-shared) that exports fib, so that the host can time the call
// alone. The function is the sample's handler's fib, unchanged.
package main

//go:wasmexport fib
func fibExport(n int32) int64 { return int64(fib(int(n))) }

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-2) + fib(n-1)
}

func main() {}
