package dataplane

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// CPULoadGen emulates the Spin operator's cpu-load-gen sample: every request
// computes naive fib(43), here a job of CPU time on the instance's
// processor-sharing CPU, and answers "fib(43) = 433494437".
type CPULoadGen struct {
	cpu  *CPU
	work time.Duration
}

var (
	_ Model     = (*CPULoadGen)(nil)
	_ SteadyCPU = (*CPULoadGen)(nil)
	_ SteadyCPU = (*Hello)(nil)
)

// NewCPULoadGen builds a cpu-load-gen model from the pod's CPU limit and
// AnnotationCPUPerRequest (default DefaultFib43CPU) /
// AnnotationMaxConcurrency.
func NewCPULoadGen(spec ModelSpec) (Model, error) { return newCPULoadGen(spec, DefaultFib43CPU) }

// NewCPULoadGenFunc is NewCPULoadGen with another default cost per request
// (a calibrated one); pods still override it with AnnotationCPUPerRequest.
func NewCPULoadGenFunc(perRequest time.Duration) NewModelFunc {
	return func(spec ModelSpec) (Model, error) { return newCPULoadGen(spec, perRequest) }
}

func newCPULoadGen(spec ModelSpec, def time.Duration) (Model, error) {
	work, err := spec.Duration(AnnotationCPUPerRequest, def)
	if err != nil {
		return nil, err
	}
	maxRun, err := spec.Int(AnnotationMaxConcurrency, 0)
	if err != nil {
		return nil, err
	}
	return &CPULoadGen{cpu: spec.NewCPU(maxRun), work: work}, nil
}

// Start does nothing: the model only serves HTTP.
func (m *CPULoadGen) Start(context.Context) error { return nil }

// ServeHTTP spends the request's CPU time, then answers.
func (m *CPULoadGen) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := m.cpu.Do(r.Context(), m.work); err != nil {
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintf(w, "fib(%d) = %d\n", 43, 433494437)
}

// CPUUsed is the CPU time consumed so far.
func (m *CPULoadGen) CPUUsed() time.Duration { return m.cpu.Used() }

// SetSteadyCPU holds the instance at milli millicores besides its requests.
func (m *CPULoadGen) SetSteadyCPU(milli int64) { m.cpu.SetSteady(milli) }

// Load is the number of requests being served and queued.
func (m *CPULoadGen) Load() (running, queued int) { return m.cpu.Load() }

// Stop does nothing: in-flight requests are drained by the instance, and
// an idle CPU holds no timer.
func (m *CPULoadGen) Stop(context.Context) error { return nil }

// Hello emulates a hello-world Spin app: a tiny CPU cost per request, then an
// optional wait (AnnotationLatency) standing for I/O, then "Hello from Spin!".
type Hello struct {
	clock   Clock
	cpu     *CPU
	work    time.Duration
	latency time.Duration
}

var _ Model = (*Hello)(nil)

// NewHello builds a hello model from AnnotationCPUPerRequest (default
// DefaultHelloCPU) and AnnotationLatency.
func NewHello(spec ModelSpec) (Model, error) {
	work, err := spec.Duration(AnnotationCPUPerRequest, DefaultHelloCPU)
	if err != nil {
		return nil, err
	}
	latency, err := spec.Duration(AnnotationLatency, 0)
	if err != nil {
		return nil, err
	}
	maxRun, err := spec.Int(AnnotationMaxConcurrency, 0)
	if err != nil {
		return nil, err
	}
	return &Hello{clock: spec.Clock, cpu: spec.NewCPU(maxRun), work: work, latency: latency}, nil
}

// Start does nothing: the model only serves HTTP.
func (m *Hello) Start(context.Context) error { return nil }

// ServeHTTP answers after the request's CPU time and latency.
func (m *Hello) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := m.cpu.Do(r.Context(), m.work); err != nil {
		return
	}
	if err := sleep(r.Context(), m.clock, m.latency); err != nil {
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	fmt.Fprintln(w, "Hello from Spin!")
}

// CPUUsed is the CPU time consumed so far.
func (m *Hello) CPUUsed() time.Duration { return m.cpu.Used() }

// SetSteadyCPU holds the instance at milli millicores besides its requests.
func (m *Hello) SetSteadyCPU(milli int64) { m.cpu.SetSteady(milli) }

// Stop does nothing: in-flight requests are drained by the instance.
func (m *Hello) Stop(context.Context) error { return nil }

// sleep waits d on clock, or until ctx is done.
func sleep(ctx context.Context, clock Clock, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	done := make(chan struct{})
	t := clock.AfterFunc(d, func() { close(done) })
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		t.Stop()
		return ctx.Err()
	}
}
