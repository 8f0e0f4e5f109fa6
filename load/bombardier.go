package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scalebench/scalebench/proc"
)

// BombardierModule is the Go tool directive's package that bombardier mode runs.
const BombardierModule = "github.com/codesenberg/bombardier"

// ErrUnsupported is returned for options a generator cannot honour.
var ErrUnsupported = errors.New("not supported")

// Bombardier runs the real bombardier (codesenberg/bombardier, pinned as a Go
// tool in go.mod) with the same parameters and parses its JSON summary.
//
// It is the reference for the built-in generator, not a replacement: it
// reports only a whole-run summary, so Run never calls out, there are no
// per-second buckets and RecordHeaders is ignored. It is closed-loop only
// (with or without a rate cap): OpenLoop and Steps are not supported.
// Its client differs subtly: by default it is fasthttp, whose -t bounds each
// socket read and write rather than the whole request and which retries
// idempotent requests after connection errors (so resets and some timeouts
// do not show as errors); with a Host override it must use its net/http
// client instead (--http1), because fasthttp would dial the Host header's
// name. Latencies have microsecond resolution, Bytes counts every byte read
// (headers too), and Started is taken just before the process starts.
//
// The executable is built on first use with `go build -o` from the module's
// tool directive into a per-version cache file, never installed.
type Bombardier struct {
	cfg config

	once    sync.Once
	path    string
	pathErr error
}

var _ Generator = (*Bombardier)(nil)

// NewBombardier returns the bombardier generator.
func NewBombardier(opts ...Option) *Bombardier { return &Bombardier{cfg: newConfig(opts)} }

// Binary returns the bombardier executable, building it on first use.
func (b *Bombardier) Binary(ctx context.Context) (string, error) {
	b.once.Do(func() { b.path, b.pathErr = b.build(ctx) })
	return b.path, b.pathErr
}

func (b *Bombardier) build(ctx context.Context) (string, error) {
	log := b.cfg.log
	out, err := proc.Run(ctx, proc.Cmd{
		Argv: []string{"go", "list", "-m", "-f", "{{.Version}}", BombardierModule},
		Env:  os.Environ(), Stdout: true, Logger: log,
	})
	if err != nil {
		return "", fmt.Errorf("load: bombardier: find the tool version in go.mod: %w", err)
	}
	version := strings.TrimSpace(string(out))
	if version == "" || strings.ContainsAny(version, `/\`) {
		return "", fmt.Errorf("load: bombardier: unexpected version %q from go list", version)
	}
	// Built into <user cache dir>/scalebench/tools once per version. go list
	// and go build run in the working directory: anywhere in the module.
	base, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("load: bombardier: tool cache: %w", err)
	}
	dir := filepath.Join(base, "scalebench", "tools")
	name := fmt.Sprintf("bombardier-%s-%s-%s", version, runtime.GOOS, runtime.GOARCH)
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	path := filepath.Join(dir, name)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("load: bombardier: tool cache %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, name+".tmp*")
	if err != nil {
		return "", fmt.Errorf("load: bombardier: tool cache %s: %w", dir, err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name()) // after a successful rename this is a no-op
	log.InfoContext(ctx, "load: building bombardier from the go.mod tool directive", "version", version, "into", path)
	if _, err := proc.Run(ctx, proc.Cmd{
		Argv: []string{"go", "build", "-o", tmp.Name(), BombardierModule},
		Env:  os.Environ(), Logger: log,
	}); err != nil {
		return "", fmt.Errorf("load: bombardier %s: build: %w", version, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("load: bombardier %s: %w", version, err)
	}
	return path, nil
}

// BombardierArgs returns the bombardier command-line arguments for opts
// (after defaults), without the executable.
func BombardierArgs(opts Options) ([]string, error) {
	o := opts.withDefaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	if o.Mode != ClosedLoop {
		return nil, fmt.Errorf("load: bombardier: mode %s: bombardier is closed-loop only (-c connections, -r caps their rate): %w", o.Mode, ErrUnsupported)
	}
	if len(o.Steps) > 0 {
		return nil, fmt.Errorf("load: bombardier: steps: %w", ErrUnsupported)
	}
	args := []string{
		"-c", strconv.Itoa(o.Connections),
		"-t", o.Timeout.String(),
		"-d", o.Duration.String(),
	}
	if o.Rate > 0 {
		r := math.Round(o.Rate)
		if r < 1 || r != o.Rate {
			return nil, fmt.Errorf("load: bombardier: rate %v: only whole requests per second: %w", o.Rate, ErrUnsupported)
		}
		args = append(args, "-r", strconv.FormatFloat(r, 'f', 0, 64))
	}
	if o.Host != "" {
		// bombardier's default client (fasthttp) dials the Host header's name
		// instead of the URL's host; its net/http client sends it as the Host.
		args = append(args, "--http1", "-H", "Host: "+o.Host)
	}
	args = append(args, "-o", "j", "-p", "r", "-l", o.URL)
	return args, nil
}

// Run implements Generator. out is never called.
func (b *Bombardier) Run(ctx context.Context, opts Options, _ func(Result)) (Summary, error) {
	args, err := BombardierArgs(opts)
	if err != nil {
		return Summary{}, err
	}
	bin, err := b.Binary(ctx)
	if err != nil {
		return Summary{}, err
	}
	o := opts.withDefaults()
	started := time.Now()
	// On cancellation bombardier gets an interrupt, stops and prints what it
	// has; in-flight requests end within the timeout.
	out, runErr := proc.Run(ctx, proc.Cmd{
		Argv: append([]string{bin}, args...), Env: os.Environ(), Stdout: true,
		Interrupt: true, Grace: o.Timeout + 5*time.Second, Logger: b.cfg.log,
	})
	s, perr := ParseBombardier(out)
	switch {
	case runErr != nil && perr != nil:
		return Summary{}, fmt.Errorf("load: bombardier on %s: %w", o.URL, runErr)
	case runErr != nil:
		s.Started = started
		return s, fmt.Errorf("load: bombardier on %s: %w", o.URL, errors.Join(ctx.Err(), runErr))
	case perr != nil:
		return Summary{}, fmt.Errorf("load: bombardier on %s: %w", o.URL, perr)
	}
	s.Started = started
	return s, nil
}

// bombardierJSON is the part of bombardier's `-o j -l` output we read.
// Latencies are in microseconds.
type bombardierJSON struct {
	Spec struct {
		NumberOfConnections int     `json:"numberOfConnections"`
		TestType            string  `json:"testType"`
		URL                 string  `json:"url"`
		TimeoutSeconds      float64 `json:"timeoutSeconds"`
	} `json:"spec"`
	Result *struct {
		BytesRead        int64   `json:"bytesRead"`
		TimeTakenSeconds float64 `json:"timeTakenSeconds"`
		Req1xx           int64   `json:"req1xx"`
		Req2xx           int64   `json:"req2xx"`
		Req3xx           int64   `json:"req3xx"`
		Req4xx           int64   `json:"req4xx"`
		Req5xx           int64   `json:"req5xx"`
		Others           int64   `json:"others"`
		Errors           []struct {
			Description string `json:"description"`
			Count       int64  `json:"count"`
		} `json:"errors"`
		Latency *struct {
			Mean        float64            `json:"mean"`
			Max         float64            `json:"max"`
			Percentiles map[string]float64 `json:"percentiles"`
		} `json:"latency"`
	} `json:"result"`
}

// ParseBombardier reads bombardier's JSON output (`-o j -p r -l`) into a
// Summary. Percentiles and mean come from bombardier's own histogram.
func ParseBombardier(out []byte) (Summary, error) {
	var j bombardierJSON
	// bombardier may print a line before the JSON object (e.g. a warning).
	start := strings.IndexByte(string(out), '{')
	if start < 0 {
		return Summary{}, fmt.Errorf("parse bombardier output: no JSON object in %q", truncate(out, 200))
	}
	if err := json.Unmarshal(out[start:], &j); err != nil {
		return Summary{}, fmt.Errorf("parse bombardier output: %w", err)
	}
	r := j.Result
	if r == nil {
		return Summary{}, errors.New("parse bombardier output: no result")
	}
	var s Summary
	s.Successes = r.Req1xx + r.Req2xx + r.Req3xx
	s.Requests = s.Successes + r.Req4xx + r.Req5xx + r.Others
	s.Errors = s.Requests - s.Successes
	s.Bytes = r.BytesRead
	s.Duration = seconds(r.TimeTakenSeconds)
	if r.TimeTakenSeconds > 0 {
		s.RPS = float64(s.Requests) / r.TimeTakenSeconds
	}
	kinds := map[ErrorKind]int64{KindHTTP4xx: r.Req4xx, KindHTTP5xx: r.Req5xx}
	var classified int64
	for _, e := range r.Errors {
		kinds[classifyDescription(e.Description)] += e.Count
		classified += e.Count
	}
	if rest := r.Others - classified; rest > 0 {
		kinds[KindOther] += rest
	}
	for k, n := range kinds {
		if n == 0 {
			delete(kinds, k)
		}
	}
	if len(kinds) > 0 {
		s.ErrorsByKind = kinds
	}
	if l := r.Latency; l != nil {
		s.Mean = micros(l.Mean)
		s.Max = micros(l.Max)
		s.P50 = micros(l.Percentiles["50"])
		s.P90 = micros(l.Percentiles["90"])
		s.P99 = micros(l.Percentiles["99"])
	}
	return s, nil
}

// classifyDescription maps a bombardier (fasthttp) error description to an
// ErrorKind.
func classifyDescription(d string) ErrorKind {
	l := strings.ToLower(d)
	switch {
	case strings.Contains(l, "timeout"), strings.Contains(l, "timed out"),
		strings.Contains(l, "deadline exceeded"):
		return KindTimeout
	case strings.Contains(l, "connection refused"):
		return KindRefused
	case strings.Contains(l, "connection reset"), strings.Contains(l, "broken pipe"),
		strings.Contains(l, "closed connection"), strings.Contains(l, "eof"):
		return KindReset
	default:
		return KindOther
	}
}

func micros(us float64) time.Duration {
	return time.Duration(math.Round(us * float64(time.Microsecond)))
}

func seconds(s float64) time.Duration { return time.Duration(math.Round(s * float64(time.Second))) }

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}
