package calibrate

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
)

const wazeroModule = "github.com/tetratelabs/wazero"

// runtimeName names the WebAssembly runtime and engine the guests run in.
const runtimeName = "wazero, optimizing compiler (AOT to native code; a stand-in for wasmtime/Cranelift in containerd-shim-spin)"

// wazeroRequired is the wazero version go.mod requires (TestWazeroRequired
// keeps them equal); it names the version where the binary carries no
// module information (test binaries).
const wazeroRequired = "v1.12.0"

// wazeroVersion is the wazero version linked into this binary.
func wazeroVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == wazeroModule {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return wazeroRequired
}

// compilerSupported reports whether wazero's compiler runs on this platform
// (wazero panics when it is asked for it elsewhere).
func compilerSupported() bool {
	switch runtime.GOARCH {
	case "amd64", "arm64":
	default:
		return false
	}
	switch runtime.GOOS {
	case "linux", "darwin", "freebsd", "netbsd", "windows":
		return true
	}
	return false
}

// timeCalls runs call reps times on one locked OS thread and returns the CPU
// seconds of each run (clockName), after one untimed warm-up run.
func timeCalls(ctx context.Context, reps int, call func() error) ([]float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := call(); err != nil {
		return nil, err
	}
	samples := make([]float64, 0, reps)
	for range reps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("calibrate: %w", err)
		}
		t0, err := cpuTime()
		if err != nil {
			return nil, err
		}
		if err := call(); err != nil {
			return nil, err
		}
		t1, err := cpuTime()
		if err != nil {
			return nil, err
		}
		samples = append(samples, (t1 - t0).Seconds())
	}
	return samples, nil
}

// median of a non-empty sample.
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return s[m]
	}
	return (s[m-1] + s[m]) / 2
}

// timeNative times the ported fib(n) compiled by gc into this binary.
func timeNative(ctx context.Context, n, reps int) ([]float64, error) {
	want := fib(n)
	return timeCalls(ctx, reps, func() error {
		if got := fib(n); got != want {
			return fmt.Errorf("calibrate: native fib(%d) = %d, then %d", n, want, got)
		}
		return nil
	})
}

// wasmGuest is a compiled guest whose export "fib" takes an i32.
type wasmGuest struct {
	name   string
	binary []byte
	// reactor: call _initialize at instantiation (Go's c-shared wasip1 build).
	reactor bool
	// result64: fib returns an i64 (the Go guest) rather than an i32.
	result64 bool
}

// timeWasm compiles g with wazero's compiler, instantiates it and times
// fib(n) calls; each result is checked against the native fib(n).
func timeWasm(ctx context.Context, g wasmGuest, n, reps int) ([]float64, error) {
	if !compilerSupported() {
		return nil, fmt.Errorf("calibrate: wazero's compiler does not support %s/%s (the interpreter would not stand for wasmtime)", runtime.GOOS, runtime.GOARCH)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	defer rt.Close(ctx)
	if g.reactor {
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
			return nil, fmt.Errorf("calibrate: %s guest: instantiate WASI: %w", g.name, err)
		}
	}
	compiled, err := rt.CompileModule(ctx, g.binary)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %s guest: compile: %w", g.name, err)
	}
	cfg := wazero.NewModuleConfig().WithName(g.name).WithStartFunctions()
	if g.reactor {
		cfg = cfg.WithStartFunctions("_initialize")
	}
	mod, err := rt.InstantiateModule(ctx, compiled, cfg)
	if err != nil {
		return nil, fmt.Errorf("calibrate: %s guest: instantiate: %w", g.name, err)
	}
	defer mod.Close(ctx)
	f := mod.ExportedFunction("fib")
	if f == nil {
		return nil, fmt.Errorf("calibrate: %s guest: no exported function fib", g.name)
	}
	want := int64(fib(n))
	arg := api.EncodeI32(int32(n))
	return timeCalls(ctx, reps, func() error {
		res, err := f.Call(ctx, arg)
		if err != nil {
			return fmt.Errorf("calibrate: %s guest: fib(%d): %w", g.name, n, err)
		}
		got := int64(api.DecodeI32(res[0]))
		if g.result64 {
			got = int64(res[0])
		}
		if got != want {
			return fmt.Errorf("calibrate: %s guest: fib(%d) = %d, want %d", g.name, n, got, want)
		}
		return nil
	})
}
