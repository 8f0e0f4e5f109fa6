// Package calibrate measures the CPU cost of one request of the cpu-load-gen
// sample (spin-operator apps/cpu-load-gen: every request computes a naive
// recursive fib(43) in a component built by TinyGo for WASI, at TinyGo's
// default -opt=z, and run by wasmtime in containerd-shim-spin) for the
// emulated data plane's cpu-load-gen model.
//
// The sample's fib is compiled to WebAssembly and timed in wazero's
// optimizing compiler, a pure-Go runtime standing in for wasmtime, on the
// host; the same algorithm is timed natively (gc) for the ratio. There is no
// TinyGo toolchain here, so the figure comes from the closest build of the
// sample's fib available: LLVM — TinyGo's backend — at -Oz, TinyGo's default
// optimisation level, from a C transliteration of the function (checked in,
// see gen.go). LLVM turns the second recursive call into a loop
// (tail-recursion elimination with an accumulator), as it would in TinyGo's
// output; Go's gc compiler does not, so the wasm guest can be cheaper than
// native Go. Two other builds of the same function are timed and disclosed,
// not used:
//
//   - the naive recursion as a plain wasm function (hand-assembled, no
//     optimiser): what the guest would cost if TinyGo's optimiser left fib
//     alone;
//   - Go's own wasip1 port (GOOS=wasip1 GOARCH=wasm, -buildmode=c-shared,
//     go:wasmexport), built with the local Go toolchain once per Go version
//     into the cache: Go's wasm ABI keeps its own stack in linear memory and
//     makes every call resumable (for goroutine switches), which TinyGo's
//     output does not; on code that is nothing but calls it costs several
//     times more.
//
// Timing uses a smaller argument N (default 36) and scales to fib(43) by the
// exact call-count ratio (CallRatio), so a calibration takes seconds. The
// result is cached once per machine, keyed by CPU model, Go version and
// wazero version (Calibrate).
//
// Nothing generic imports this package: the emulated provider does.
package calibrate

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/proc"
	"github.com/scalebench/scalebench/results"
)

// recipe identifies the measurement method; bump it when the method changes
// so that results cached by an older method are measured again.
const recipe = 2

// Defaults.
const (
	// DefaultN is the fib argument timed: ~50–60 ms of native CPU per call on
	// the harness's VMs, 47× fewer calls than fib(43).
	DefaultN = 36
	// DefaultReps is the number of timed calls per runtime (median taken).
	DefaultReps = 5
)

// Result is one calibration.
type Result struct {
	// CPUSecondsPerRequest is the CPU time of one cpu-load-gen request:
	// the LLVM guest's median fib(N) × CallRatio.
	CPUSecondsPerRequest float64 `json:"cpuSecondsPerRequest"`
	// Method says how the figure was obtained, in a sentence.
	Method string `json:"method"`
	// Runtime and RuntimeVersion name the WebAssembly runtime and engine.
	Runtime        string `json:"runtime"`
	RuntimeVersion string `json:"runtimeVersion"`
	// Algorithm is what a request computes.
	Algorithm string `json:"algorithm"`
	// Guest says what WebAssembly code the figure comes from.
	Guest string `json:"guest"`
	// Clock is what the samples measure.
	Clock string `json:"clock"`
	// N is the fib argument timed, Reps the timed calls per runtime.
	N    int `json:"n"`
	Reps int `json:"reps"`
	// CallRatio is calls(43)/calls(N), the scale from fib(N) to a request.
	CallRatio float64 `json:"callRatio"`
	// NativeSeconds and WasmSeconds are the medians of one fib(N) call,
	// natively (gc) and in the guest; Ratio = Wasm/Native.
	NativeSeconds float64   `json:"nativeSeconds"`
	WasmSeconds   float64   `json:"wasmSeconds"`
	Ratio         float64   `json:"ratio"`
	NativeSamples []float64 `json:"nativeSamples"`
	WasmSamples   []float64 `json:"wasmSamples"`
	// Alternatives are other builds of the same fib, timed the same way and
	// disclosed, not used (see the package documentation).
	Alternatives []Alternative `json:"alternatives,omitempty"`
	// The cache key and where and when it was measured.
	CPUModel   string    `json:"cpuModel"`
	GoVersion  string    `json:"goVersion"`
	Recipe     int       `json:"recipe"`
	Host       string    `json:"host"`
	MeasuredAt time.Time `json:"measuredAt"`

	// FromCache is set when Calibrate read the result from the cache.
	FromCache bool `json:"-"`
}

// Alternative is the timing of another build of the sample's fib.
type Alternative struct {
	// Name is short ("naive-wasm", "go-wasip1"), Guest the description.
	Name  string `json:"name"`
	Guest string `json:"guest"`
	// Seconds is the median fib(N), Ratio Seconds/NativeSeconds,
	// SecondsPerRequest Seconds × CallRatio.
	Seconds           float64   `json:"seconds,omitempty"`
	Ratio             float64   `json:"ratio,omitempty"`
	SecondsPerRequest float64   `json:"secondsPerRequest,omitempty"`
	Samples           []float64 `json:"samples,omitempty"`
	// Absent says why it was not measured (then the figures are absent).
	Absent string `json:"absent,omitempty"`
}

// Alternative returns the alternative of that name.
func (r Result) Alternative(name string) (Alternative, bool) {
	for _, a := range r.Alternatives {
		if a.Name == name {
			return a, true
		}
	}
	return Alternative{}, false
}

// PerRequest is CPUSecondsPerRequest as a duration.
func (r Result) PerRequest() time.Duration {
	return time.Duration(r.CPUSecondsPerRequest * float64(time.Second)).Round(time.Millisecond)
}

// Summary is a one-line account of the figure and how it was obtained.
func (r Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.2f CPU-s per request: fib(%d) compiled by LLVM -Oz (TinyGo's backend and default level) in wazero %s, %.2f× native Go (%s), scaled by calls(%d)/calls(%d) = %.4g",
		r.CPUSecondsPerRequest, r.N, r.RuntimeVersion, r.Ratio, r.GoVersion, RequestN, r.N, r.CallRatio)
	for _, a := range r.Alternatives {
		if a.Absent == "" {
			fmt.Fprintf(&b, "; not used: %s %.2f× native (%.2f CPU-s)", a.Name, a.Ratio, a.SecondsPerRequest)
		}
	}
	fmt.Fprintf(&b, "; median of %d, %s; %s, %s", r.Reps, shortClock(), r.CPUModel, r.MeasuredAt.UTC().Format(time.RFC3339))
	return b.String()
}

func shortClock() string {
	if runtime.GOOS == "linux" {
		return "thread CPU time"
	}
	return "wall time"
}

// Options configure a calibration. The zero value measures with the defaults
// into the default cache.
type Options struct {
	// CacheDir holds the cached results and the built Go guest; "" means
	// DefaultCacheDir().
	CacheDir string
	// N is the fib argument timed (2…43); 0 means DefaultN.
	N int
	// Reps is the number of timed calls per runtime; 0 means DefaultReps.
	Reps int
	// SkipGoWasip1 leaves out the Go wasip1 alternative (which needs the
	// go command and, the first time, a build of Go's runtime for wasip1).
	SkipGoWasip1 bool
	// Force measures even when a cached result exists, and replaces it.
	Force bool
	// Progress receives a line when a calibration is measured rather than
	// read from the cache; nil prints nothing.
	Progress io.Writer
	Logger   *slog.Logger
}

func (o Options) withDefaults() (Options, error) {
	if o.N == 0 {
		o.N = DefaultN
	}
	if o.N < 2 || o.N > RequestN {
		return o, fmt.Errorf("calibrate: options.n = %d: want 2…%d", o.N, RequestN)
	}
	if o.Reps == 0 {
		o.Reps = DefaultReps
	}
	if o.Reps < 1 {
		return o, fmt.Errorf("calibrate: options.reps = %d: want at least 1", o.Reps)
	}
	if o.CacheDir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return o, err
		}
		o.CacheDir = d
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// DefaultCacheDir is the calibration directory inside the components cache:
// $SCALEBENCH_CACHE_DIR/calibration or <user cache dir>/scalebench/components/calibration.
func DefaultCacheDir() (string, error) {
	d, err := components.DefaultCacheDir()
	if err != nil {
		return "", fmt.Errorf("calibrate: %w", err)
	}
	return filepath.Join(d, "calibration"), nil
}

// key identifies a machine and method; a cached result is reused only under
// the same key.
type key struct {
	CPUModel, GoVersion, WazeroVersion string
	Recipe, N, Reps                    int
	GoWasip1                           bool
}

func currentKey(o Options) key {
	return key{CPUModel: cpuModel(), GoVersion: runtime.Version(), WazeroVersion: wazeroVersion(),
		Recipe: recipe, N: o.N, Reps: o.Reps, GoWasip1: !o.SkipGoWasip1}
}

func (k key) file(dir string) string {
	b, _ := json.Marshal(k)
	sum := sha256.Sum256(b)
	return filepath.Join(dir, "cpu-load-gen-"+hex.EncodeToString(sum[:6])+".json")
}

func (r Result) key(o Options) key {
	return key{CPUModel: r.CPUModel, GoVersion: r.GoVersion, WazeroVersion: r.RuntimeVersion,
		Recipe: r.Recipe, N: r.N, Reps: r.Reps, GoWasip1: !o.SkipGoWasip1}
}

// Calibrate returns the cached result for this machine, or measures one and
// caches it. Concurrent callers (other processes too) measure once: the
// others wait for the lock and read the cache.
func Calibrate(ctx context.Context, opts Options) (Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	k := currentKey(o)
	path := k.file(o.CacheDir)
	if !o.Force {
		if r, ok := load(path, k, o); ok {
			return r, nil
		}
	}
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return Result{}, fmt.Errorf("calibrate: cache dir: %w", err)
	}
	// Two calibrations at once would share the CPU and both measure too much.
	unlock, err := proc.LockFile(ctx, filepath.Join(o.CacheDir, "calibration.lock"), 200*time.Millisecond, nil)
	if err != nil {
		return Result{}, fmt.Errorf("calibrate: %w", err)
	}
	defer unlock()
	if !o.Force {
		if r, ok := load(path, k, o); ok { // another process measured while we waited
			return r, nil
		}
	}
	r, err := measure(ctx, o)
	if err != nil {
		return Result{}, err
	}
	if err := save(path, r); err != nil {
		return Result{}, err
	}
	o.Logger.Info("cpu-load-gen cost calibrated", "cpuSecondsPerRequest", r.CPUSecondsPerRequest, "cache", path)
	return r, nil
}

func load(path string, k key, o Options) (Result, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			o.Logger.Warn("calibration cache unreadable; measuring again", "path", path, "err", err)
		}
		return Result{}, false
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil || r.key(o) != k || r.CPUSecondsPerRequest <= 0 {
		o.Logger.Warn("calibration cache stale or invalid; measuring again", "path", path, "err", err)
		return Result{}, false
	}
	r.FromCache = true
	return r, true
}

func save(path string, r Result) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("calibrate: encode result: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("calibrate: write cache: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("calibrate: write cache: %w", err)
	}
	return nil
}

// Measure calibrates without the cache.
func Measure(ctx context.Context, opts Options) (Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	return measure(ctx, o)
}

func measure(ctx context.Context, o Options) (Result, error) {
	if o.Progress != nil {
		fmt.Fprintf(o.Progress, "calibrating cpu-load-gen cost: fib(%d) natively and in wazero…\n", o.N)
	}
	start := time.Now()
	ratio, err := CallRatio(o.N, RequestN)
	if err != nil {
		return Result{}, err
	}
	host, _ := os.Hostname()
	r := Result{
		Runtime:        runtimeName,
		RuntimeVersion: wazeroVersion(),
		Algorithm:      fmt.Sprintf("naive recursive fib(%d), the cpu-load-gen sample's handler (spin-operator apps/cpu-load-gen/main.go)", RequestN),
		Guest:          llvmGuest,
		Clock:          clockName,
		N:              o.N,
		Reps:           o.Reps,
		CallRatio:      ratio,
		CPUModel:       cpuModel(),
		GoVersion:      runtime.Version(),
		Recipe:         recipe,
		Host:           host,
	}
	cn, _ := Calls(o.N)
	ct, _ := Calls(RequestN)
	r.Method = fmt.Sprintf("median of %d timed calls (after a warm-up call; the builds taking turns) of fib(%d), natively (gc %s) and in %s %s; "+
		"scaled to fib(%d) by the exact call-count ratio calls(%d)/calls(%d) = %d/%d = %.6g, calls(n) = 2·F(n+1) − 1; clock: %s",
		o.Reps, o.N, runtime.Version(), "wazero", r.RuntimeVersion, RequestN, RequestN, o.N, ct, cn, ratio, clockName)

	// The Go guest first: building it (the first time) must not overlap
	// the timing.
	var goBin []byte
	goVersion, goAbsent := "", ""
	if o.SkipGoWasip1 {
		goAbsent = "not measured (options.skipGoWasip1)"
	} else if goBin, goVersion, err = goGuestBinary(ctx, o); err != nil {
		if ctx.Err() != nil {
			return Result{}, err
		}
		// An alternative, not the figure: its failure (no go command, an
		// older Go) is recorded, not fatal.
		o.Logger.Warn("Go wasip1 guest not measured", "err", err)
		goAbsent = err.Error()
	}

	subjects := []subject{nativeSubject(o.N)}
	for _, g := range []wasmGuest{{name: "llvm-oz", binary: fibLLVM}, {name: "naive-wasm", binary: fibWasm}} {
		s, err := wasmSubject(ctx, g, o.N)
		if err != nil {
			return Result{}, err
		}
		defer s.close()
		subjects = append(subjects, s)
	}
	if goBin != nil {
		s, err := wasmSubject(ctx, wasmGuest{name: "go-wasip1", binary: goBin, reactor: true, result64: true}, o.N)
		if err != nil {
			goAbsent = err.Error()
		} else {
			defer s.close()
			subjects = append(subjects, s)
		}
	}
	samples, err := timeInterleaved(ctx, o.Reps, subjects)
	if err != nil {
		return Result{}, err
	}
	r.NativeSamples, r.WasmSamples = samples[0], samples[1]
	r.NativeSeconds = median(r.NativeSamples)
	r.WasmSeconds = median(r.WasmSamples)
	if r.NativeSeconds <= 0 || r.WasmSeconds <= 0 {
		return Result{}, fmt.Errorf("calibrate: fib(%d) measured %gs natively and %gs in wasm: the clock did not advance", o.N, r.NativeSeconds, r.WasmSeconds)
	}
	r.Ratio = r.WasmSeconds / r.NativeSeconds
	r.CPUSecondsPerRequest = r.WasmSeconds * ratio

	alt := func(name, guest string, samples []float64) Alternative {
		m := median(samples)
		return Alternative{Name: name, Guest: guest, Seconds: m, Ratio: m / r.NativeSeconds, SecondsPerRequest: m * ratio, Samples: samples}
	}
	r.Alternatives = append(r.Alternatives, alt("naive-wasm", naiveGuest, samples[2]))
	if goAbsent != "" {
		r.Alternatives = append(r.Alternatives, Alternative{Name: "go-wasip1", Guest: goGuest, Absent: goAbsent})
	} else {
		r.Alternatives = append(r.Alternatives, alt("go-wasip1", goGuest+" ("+goVersion+")", samples[3]))
	}
	r.MeasuredAt = time.Now().UTC().Truncate(time.Second)
	o.Logger.Debug("calibration measured", "elapsed", time.Since(start).Round(time.Millisecond), "result", r.Summary())
	return r, nil
}

// goGuestBinary builds (once per Go version, into the cache) and reads the
// Go wasip1 guest.
func goGuestBinary(ctx context.Context, o Options) (bin []byte, goVersion string, err error) {
	if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
		return nil, "", fmt.Errorf("calibrate: cache dir: %w", err)
	}
	path, goVersion, err := buildGoGuest(ctx, o.Logger, o.CacheDir)
	if err != nil {
		return nil, goVersion, err
	}
	bin, err = os.ReadFile(path)
	if err != nil {
		return nil, goVersion, fmt.Errorf("calibrate: read the wasip1 guest: %w", err)
	}
	return bin, goVersion, nil
}

// cpuModel names the host CPU (the cache key): /proc/cpuinfo's model name on
// Linux, else the architecture.
func cpuModel() string {
	h := results.LocalHost()
	name := h.CPUModel
	if name == "" {
		name = h.OS + "/" + h.Arch
	}
	return name + " (" + strconv.Itoa(h.CPUs) + " CPUs)"
}
