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

// subject is one build of fib(n), ready to be called.
type subject struct {
	name  string
	call  func() error
	close func()
}

// timeInterleaved times reps calls of every subject on one locked OS thread,
// round-robin (a, b, c, a, b, c, …) after one untimed warm-up call each, so
// that a change in the machine's load affects all subjects alike. It returns
// the CPU seconds (clockName) of each call, per subject.
func timeInterleaved(ctx context.Context, reps int, subjects []subject) ([][]float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for _, s := range subjects {
		if err := s.call(); err != nil {
			return nil, err
		}
	}
	samples := make([][]float64, len(subjects))
	for range reps {
		for i, s := range subjects {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("calibrate: %w", err)
			}
			t0, err := cpuTime()
			if err != nil {
				return nil, err
			}
			if err := s.call(); err != nil {
				return nil, err
			}
			t1, err := cpuTime()
			if err != nil {
				return nil, err
			}
			samples[i] = append(samples[i], (t1 - t0).Seconds())
		}
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

// nativeSubject is the ported fib(n) compiled by gc into this binary.
func nativeSubject(n int) subject {
	want := fib(n)
	return subject{name: "native", close: func() {}, call: func() error {
		if got := fib(n); got != want {
			return fmt.Errorf("calibrate: native fib(%d) = %d, then %d", n, want, got)
		}
		return nil
	}}
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

// wasmSubject compiles g with wazero's compiler and instantiates it; each
// call's result is checked against the native fib(n).
func wasmSubject(ctx context.Context, g wasmGuest, n int) (subject, error) {
	if !compilerSupported() {
		return subject{}, fmt.Errorf("calibrate: wazero's compiler does not support %s/%s (the interpreter would not stand for wasmtime)", runtime.GOOS, runtime.GOARCH)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler())
	fail := func(what string, err error) (subject, error) {
		rt.Close(ctx)
		return subject{}, fmt.Errorf("calibrate: %s guest: %s: %w", g.name, what, err)
	}
	if g.reactor {
		if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
			return fail("instantiate WASI", err)
		}
	}
	compiled, err := rt.CompileModule(ctx, g.binary)
	if err != nil {
		return fail("compile", err)
	}
	cfg := wazero.NewModuleConfig().WithName(g.name).WithStartFunctions()
	if g.reactor {
		cfg = cfg.WithStartFunctions("_initialize")
	}
	mod, err := rt.InstantiateModule(ctx, compiled, cfg)
	if err != nil {
		return fail("instantiate", err)
	}
	f := mod.ExportedFunction("fib")
	if f == nil {
		return fail("exports", fmt.Errorf("no function fib"))
	}
	want := int64(fib(n))
	arg := api.EncodeI32(int32(n))
	return subject{name: g.name, close: func() { rt.Close(ctx) }, call: func() error {
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
	}}, nil
}

// timeWasm times one guest alone.
func timeWasm(ctx context.Context, g wasmGuest, n, reps int) ([]float64, error) {
	s, err := wasmSubject(ctx, g, n)
	if err != nil {
		return nil, err
	}
	defer s.close()
	samples, err := timeInterleaved(ctx, reps, []subject{s})
	if err != nil {
		return nil, err
	}
	return samples[0], nil
}
