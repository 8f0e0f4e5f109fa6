package calibrate

import (
	"fmt"
	"math/big"
)

// RequestN is the argument of the sample's handler: every cpu-load-gen
// request computes fib(43) (spin-operator apps/cpu-load-gen/main.go).
const RequestN = 43

// fib is the sample's algorithm, ported as is: naive recursion, fib(0)=0,
// fib(1)=1. It is the native reference the WebAssembly timings are compared
// with; noinline keeps the compiler from specialising it for a constant.
//
//go:noinline
func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-2) + fib(n-1)
}

// Calls is the number of invocations of the naive fib for argument n:
// calls(n) = 1 for n < 2, else 1 + calls(n-1) + calls(n-2), which is
// 2·F(n+1) − 1 with F the Fibonacci numbers (F(1) = F(2) = 1). It grows by
// φ ≈ 1.618 per n. n must be 0 … 90 (the result fits in a uint64).
func Calls(n int) (uint64, error) {
	if n < 0 || n > 90 {
		return 0, fmt.Errorf("calibrate: calls(%d): n must be 0…90", n)
	}
	// a, b = F(k), F(k+1), starting at k = 0.
	var a, b uint64 = 0, 1
	for range n + 1 {
		a, b = b, a+b
	}
	// a = F(n+1)
	return 2*a - 1, nil
}

// CallRatio is calls(to)/calls(from): the factor that scales the cost of
// fib(from) to the cost of fib(to), each call doing the same work (a
// compare, and for n ≥ 2 two subtractions, two calls and an add). It is
// computed in exact rational arithmetic and rounded once.
func CallRatio(from, to int) (float64, error) {
	cf, err := Calls(from)
	if err != nil {
		return 0, err
	}
	ct, err := Calls(to)
	if err != nil {
		return 0, err
	}
	r := new(big.Rat).SetFrac(new(big.Int).SetUint64(ct), new(big.Int).SetUint64(cf))
	f, _ := r.Float64()
	return f, nil
}
