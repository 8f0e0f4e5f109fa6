package calibrate

import (
	"bytes"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCalls(t *testing.T) {
	// calls(n) = 1 + calls(n-1) + calls(n-2), by definition.
	want := []uint64{1, 1, 3, 5, 9, 15, 25, 41}
	for n, w := range want {
		got, err := Calls(n)
		if err != nil || got != w {
			t.Errorf("Calls(%d) = %d, %v; want %d", n, got, err, w)
		}
	}
	c43, _ := Calls(43)
	if c43 != 1_402_817_465 { // 2·F(44) − 1, F(44) = 701 408 733
		t.Errorf("Calls(43) = %d, want 1402817465", c43)
	}
	for _, n := range []int{-1, 91} {
		if _, err := Calls(n); err == nil || !strings.Contains(err.Error(), "0…90") {
			t.Errorf("Calls(%d): err = %v, want a range error", n, err)
		}
	}
}

func TestCallRatio(t *testing.T) {
	r, err := CallRatio(36, 43)
	if err != nil {
		t.Fatal(err)
	}
	// calls(36) = 2·F(37) − 1 = 2·24 157 817 − 1.
	if want := 1402817465.0 / 48315633.0; math.Abs(r-want) > 1e-12 {
		t.Errorf("CallRatio(36, 43) = %v, want %v", r, want)
	}
	// Each step multiplies by about φ.
	r1, _ := CallRatio(42, 43)
	if math.Abs(r1-math.Phi) > 1e-6 {
		t.Errorf("CallRatio(42, 43) = %v, want ≈ φ = %v", r1, math.Phi)
	}
	if r, _ := CallRatio(43, 43); r != 1 {
		t.Errorf("CallRatio(43, 43) = %v, want 1", r)
	}
}

func TestWasmGuestsMatchNative(t *testing.T) {
	for _, g := range []wasmGuest{{name: "llvm-oz", binary: fibLLVM}, {name: "naive-wasm", binary: fibWasm}} {
		for _, n := range []int{0, 1, 2, 3, 10, 20} {
			// timeWasm checks every call's result against the native fib(n).
			if _, err := timeWasm(t.Context(), g, n, 1); err != nil {
				t.Errorf("%s: fib(%d): %v", g.name, n, err)
			}
		}
	}
}

// TestLLVMGuestUpToDate rebuilds the checked-in LLVM guest from guest/fib.c
// when clang and wasm-ld are installed.
func TestLLVMGuestUpToDate(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("no clang on PATH")
	}
	if _, err := exec.LookPath("wasm-ld"); err != nil {
		t.Skip("no wasm-ld on PATH")
	}
	out := filepath.Join(t.TempDir(), "fib.wasm")
	cmd := exec.CommandContext(t.Context(), clang, "--target=wasm32", "-nostdlib", "-Oz", "-Wl,--no-entry", "-o", out, "guest/fib.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %v\n%s", cmd.Args, err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, fibLLVM) {
		t.Errorf("guest/fib-llvm-oz.wasm (%d bytes) differs from clang's build of guest/fib.c (%d bytes): run go generate (or another clang version made it)", len(fibLLVM), len(got))
	}
}

func TestMedian(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
}

func TestOptionsValidation(t *testing.T) {
	for _, o := range []Options{{N: 1}, {N: 44}, {Reps: -1}} {
		_, err := Calibrate(t.Context(), Options{CacheDir: t.TempDir(), N: o.N, Reps: o.Reps})
		if err == nil || !strings.Contains(err.Error(), "options.") {
			t.Errorf("%+v: err = %v, want one naming the option", o, err)
		}
	}
}

// TestCalibrateCaches calibrates with a small n, then again: the second call
// reads the cache and measures nothing.
func TestCalibrateCaches(t *testing.T) {
	dir := t.TempDir()
	var progress strings.Builder
	opts := Options{CacheDir: dir, N: 25, Reps: 3, SkipGoWasip1: true, Progress: &progress}
	r, err := Calibrate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.FromCache {
		t.Error("first calibration came from the cache")
	}
	if r.CPUSecondsPerRequest <= 0 || r.NativeSeconds <= 0 || r.WasmSeconds <= 0 || r.Ratio <= 0 {
		t.Errorf("non-positive figures: %+v", r)
	}
	if len(r.NativeSamples) != 3 || len(r.WasmSamples) != 3 {
		t.Errorf("samples: %d native, %d wasm; want 3 each", len(r.NativeSamples), len(r.WasmSamples))
	}
	ratio, _ := CallRatio(25, RequestN)
	if got := r.WasmSeconds * ratio; math.Abs(got-r.CPUSecondsPerRequest) > 1e-9 {
		t.Errorf("CPUSecondsPerRequest = %v, want wasm median × call ratio = %v", r.CPUSecondsPerRequest, got)
	}
	for name, s := range map[string]string{"method": r.Method, "runtime": r.Runtime, "runtimeVersion": r.RuntimeVersion,
		"algorithm": r.Algorithm, "guest": r.Guest, "clock": r.Clock, "cpuModel": r.CPUModel} {
		if s == "" || s == "unknown" {
			t.Errorf("%s = %q, want it stated", name, s)
		}
	}
	if !strings.Contains(r.Method, "calls(43)/calls(25)") {
		t.Errorf("method does not state the scaling: %q", r.Method)
	}
	if a, ok := r.Alternative("naive-wasm"); !ok || a.Seconds <= 0 || a.Ratio <= 0 || len(a.Samples) != 3 {
		t.Errorf("naive-wasm alternative: %+v", a)
	}
	if a, ok := r.Alternative("go-wasip1"); !ok || a.Absent == "" || a.Seconds != 0 {
		t.Errorf("skipped Go guest: %+v, want absent with a reason", a)
	}
	if !strings.Contains(progress.String(), "calibrating cpu-load-gen cost") {
		t.Errorf("progress = %q", progress.String())
	}

	progress.Reset()
	again, err := Calibrate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if !again.FromCache || progress.Len() != 0 {
		t.Errorf("second calibration: fromCache = %v, progress %q; want the cached result", again.FromCache, progress.String())
	}
	if again.CPUSecondsPerRequest != r.CPUSecondsPerRequest || !again.MeasuredAt.Equal(r.MeasuredAt) {
		t.Errorf("cached result differs: %v at %v, measured %v at %v", again.CPUSecondsPerRequest, again.MeasuredAt, r.CPUSecondsPerRequest, r.MeasuredAt)
	}

	// Another method (n) is another key: measured again.
	other, err := Calibrate(t.Context(), Options{CacheDir: dir, N: 24, Reps: 3, SkipGoWasip1: true})
	if err != nil {
		t.Fatal(err)
	}
	if other.FromCache {
		t.Error("calibration with another n was read from the cache")
	}
}

func TestCalibrateRemeasuresACorruptCache(t *testing.T) {
	dir := t.TempDir()
	opts := Options{CacheDir: dir, N: 20, Reps: 1, SkipGoWasip1: true}
	o, _ := opts.withDefaults()
	if err := os.WriteFile(currentKey(o).file(dir), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := Calibrate(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if r.FromCache {
		t.Error("a corrupt cache file was used")
	}
}

func TestSummary(t *testing.T) {
	r := Result{CPUSecondsPerRequest: 2.6543, N: 36, Ratio: 1.34, CallRatio: 29.03, RuntimeVersion: "v1.12.0",
		GoVersion: "go1.26.8", Reps: 5, CPUModel: "Some CPU (2 CPUs)", MeasuredAt: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
		Alternatives: []Alternative{{Name: "go-wasip1", Ratio: 3.9, SecondsPerRequest: 7.7}, {Name: "naive-wasm", Absent: "x"}}}
	sum := r.Summary()
	if strings.Contains(sum, "naive-wasm") {
		t.Errorf("an absent alternative is in the summary: %q", sum)
	}
	for _, want := range []string{"2.65 CPU-s", "fib(36)", "LLVM -Oz", "wazero v1.12.0", "1.34×", "go-wasip1 3.90×", "Some CPU", "2026-12-01T08:00:00Z"} {
		if !strings.Contains(sum, want) {
			t.Errorf("calibration summary %q lacks %q", sum, want)
		}
	}
	if d := r.PerRequest(); d != 2654*time.Millisecond {
		t.Errorf("PerRequest = %v", d)
	}
}

// TestGoWasip1Guest builds the Go guest with the local toolchain (a build of
// Go's runtime for wasip1 the first time) and times it.
func TestGoWasip1Guest(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the wasip1 guest with the go command")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	r, err := Measure(ctx, Options{CacheDir: t.TempDir(), N: 27, Reps: 3})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := r.Alternative("go-wasip1")
	if !ok || a.Absent != "" {
		t.Fatalf("Go guest absent: %+v", a)
	}
	if a.Seconds <= 0 || a.Ratio <= 0 || !strings.Contains(a.Guest, "(go1.") {
		t.Errorf("Go guest timing: %+v", a)
	}
	t.Logf("%s", r.Summary())
}

func TestWazeroRequired(t *testing.T) {
	b, err := os.ReadFile("../../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	want := wazeroModule + " " + wazeroRequired
	if !strings.Contains(string(b), want) {
		t.Errorf("go.mod does not require %q: update wazeroRequired", want)
	}
}
