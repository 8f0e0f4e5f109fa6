package loadjob

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/scalebench/scalebench/load"
)

// CommandName is the bench subcommand a load pod runs.
const CommandName = "loadgen"

// IndexEnv is the environment variable an Indexed Job sets to the pod's
// index; Command reads its share of the load from it.
const IndexEnv = "JOB_COMPLETION_INDEX"

// Args are the command-line arguments (after the subcommand) that make a
// pod run its share of o, split over pods, from startAt. Command parses them.
func Args(o load.Options, pods int, startAt time.Time) []string {
	a := []string{"--url", o.URL}
	if o.Host != "" {
		a = append(a, "--host", o.Host)
	}
	if o.Mode != "" {
		a = append(a, "--mode", string(o.Mode))
	}
	if o.Connections != 0 {
		a = append(a, "--connections", strconv.Itoa(o.Connections))
	}
	if o.MaxInFlight != 0 {
		a = append(a, "--max-in-flight", strconv.Itoa(o.MaxInFlight))
	}
	if o.Duration != 0 {
		a = append(a, "--duration", o.Duration.String())
	}
	if o.Timeout != 0 {
		a = append(a, "--timeout", o.Timeout.String())
	}
	if o.Rate != 0 {
		a = append(a, "--rate", strconv.FormatFloat(o.Rate, 'f', -1, 64))
	}
	for _, s := range o.Steps {
		a = append(a, "--step", formatStep(s))
	}
	for _, h := range o.RecordHeaders {
		a = append(a, "--record-header", h)
	}
	return append(a, "--pods", strconv.Itoa(pods), "--start-at", startAt.UTC().Format(time.RFC3339Nano))
}

// formatStep is DURATION,CONNECTIONS,RATE[,ramp].
func formatStep(s load.Step) string {
	v := fmt.Sprintf("%s,%d,%s", s.Duration, s.Connections, strconv.FormatFloat(s.Rate, 'f', -1, 64))
	if s.Ramp {
		v += ",ramp"
	}
	return v
}

func parseStep(v string) (load.Step, error) {
	f := strings.Split(v, ",")
	if len(f) != 3 && !(len(f) == 4 && f[3] == "ramp") {
		return load.Step{}, fmt.Errorf("step %q: want DURATION,CONNECTIONS,RATE[,ramp]", v)
	}
	d, err := time.ParseDuration(f[0])
	if err != nil {
		return load.Step{}, fmt.Errorf("step %q: %w", v, err)
	}
	c, err := strconv.Atoi(f[1])
	if err != nil {
		return load.Step{}, fmt.Errorf("step %q: %w", v, err)
	}
	r, err := strconv.ParseFloat(f[2], 64)
	if err != nil {
		return load.Step{}, fmt.Errorf("step %q: %w", v, err)
	}
	return load.Step{Duration: d, Connections: c, Rate: r, Ramp: len(f) == 4}, nil
}

// Invocation is a parsed loadgen command line.
type Invocation struct {
	// Options are the whole Job's load; Share is this pod's.
	Options, Share load.Options
	Pods, Index    int
	StartAt        time.Time
}

// Parse parses a loadgen command line; the pod's index comes from
// --index, else from IndexEnv via getenv.
func Parse(args []string, getenv func(string) string, stderr io.Writer) (Invocation, error) {
	var inv Invocation
	fs := flag.NewFlagSet("bench "+CommandName, flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &inv.Options
	var mode, startAt string
	index := -1
	fs.StringVar(&o.URL, "url", "", "target URL (GET)")
	fs.StringVar(&o.Host, "host", "", "Host header override")
	fs.StringVar(&mode, "mode", "", "closed-loop (default) or open-loop")
	fs.IntVar(&o.Connections, "connections", 0, "closed-loop workers of the whole Job (split over the pods)")
	fs.IntVar(&o.MaxInFlight, "max-in-flight", 0, "open-loop in-flight cap of the whole Job (split over the pods)")
	fs.DurationVar(&o.Duration, "duration", 0, "how long requests are started")
	fs.DurationVar(&o.Timeout, "timeout", 0, "per-request timeout")
	fs.Float64Var(&o.Rate, "rate", 0, "requests/s of the whole Job (split over the pods)")
	fs.Func("step", "a step DURATION,CONNECTIONS,RATE[,ramp] (repeatable; the whole Job's)", func(v string) error {
		s, err := parseStep(v)
		o.Steps = append(o.Steps, s)
		return err
	})
	fs.Func("record-header", "a response header to record (repeatable)", func(v string) error {
		o.RecordHeaders = append(o.RecordHeaders, v)
		return nil
	})
	fs.IntVar(&inv.Pods, "pods", 1, "pods sharing the load")
	fs.IntVar(&index, "index", -1, "this pod's index (default: $"+IndexEnv+")")
	fs.StringVar(&startAt, "start-at", "", "wall-clock start barrier, RFC 3339 (default: now)")
	if err := fs.Parse(args); err != nil {
		return inv, err
	}
	if fs.NArg() > 0 {
		return inv, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	o.Mode = load.Mode(mode)
	if index < 0 {
		v := getenv(IndexEnv)
		if v == "" {
			v = "0"
		}
		i, err := strconv.Atoi(v)
		if err != nil {
			return inv, fmt.Errorf("$%s %q: %w", IndexEnv, v, err)
		}
		index = i
	}
	inv.Index = index
	if startAt != "" {
		t, err := time.Parse(time.RFC3339Nano, startAt)
		if err != nil {
			return inv, fmt.Errorf("--start-at: %w", err)
		}
		inv.StartAt = t
	}
	share, err := Split(inv.Options, inv.Pods, inv.Index)
	if err != nil {
		return inv, err
	}
	inv.Share = share
	return inv, nil
}

// Stream runs inv's share with gen and writes its lines to w: a start line
// at the barrier, a second line per started second with newly completed
// requests, once a second, and a done line. A write error stops the load.
func Stream(ctx context.Context, gen load.Generator, inv Invocation, w io.Writer) error {
	if d := time.Until(inv.StartAt); !inv.StartAt.IsZero() && d > 0 {
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s := &stream{enc: json.NewEncoder(w), pending: map[int]*Line{}}
	if err := s.write(Line{Type: LineStart, Started: time.Now()}); err != nil {
		return err
	}
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := s.flush(); err != nil {
					cancel(err)
					return
				}
			}
		}
	}()
	sum, lerr := gen.Run(ctx, inv.Share, s.add)
	close(stop)
	<-flushed
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		lerr = cause
	}
	if err := s.flush(); err != nil {
		return err
	}
	t := &Totals{Requests: sum.Requests, Successes: sum.Successes, Errors: sum.Errors, Missed: sum.Missed,
		Dropped: sum.Dropped, MaxInFlight: sum.MaxInFlight, PeakInFlight: sum.PeakInFlight}
	for _, sec := range sum.Seconds {
		if sec.Missed > 0 {
			t.MissedBySecond = append(t.MissedBySecond, [2]int{sec.Index, sec.Missed})
		}
	}
	done := Line{Type: LineDone, Totals: t}
	if lerr != nil {
		done.Error = lerr.Error()
	}
	if err := s.write(done); err != nil {
		return errors.Join(lerr, err)
	}
	return lerr
}

// stream collects results by start second and writes them as lines.
type stream struct {
	mu      sync.Mutex
	pending map[int]*Line
	wmu     sync.Mutex
	enc     *json.Encoder
	seq     int
}

func (s *stream) add(r load.Result) {
	sec := 0
	if r.Start > 0 {
		sec = int(r.Start / time.Second)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.pending[sec]
	if l == nil {
		l = &Line{Type: LineSecond, Second: sec}
		s.pending[sec] = l
	}
	us := micros(r.Latency)
	if r.Err == load.KindNone {
		l.OK = append(l.OK, us)
	} else {
		if l.Failed == nil {
			l.Failed = map[load.ErrorKind][]int64{}
		}
		l.Failed[r.Err] = append(l.Failed[r.Err], us)
	}
	l.Bytes += r.Bytes
	l.EndMicros = max(l.EndMicros, micros(r.Start+r.Latency))
}

// flush writes the pending seconds, oldest first.
func (s *stream) flush() error {
	s.mu.Lock()
	lines := make([]*Line, 0, len(s.pending))
	for _, l := range s.pending {
		lines = append(lines, l)
	}
	s.pending = map[int]*Line{}
	s.mu.Unlock()
	slices.SortFunc(lines, func(a, b *Line) int { return a.Second - b.Second })
	for _, l := range lines {
		if err := s.write(*l); err != nil {
			return err
		}
	}
	return nil
}

func (s *stream) write(l Line) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.seq++
	l.Seq = s.seq
	if err := s.enc.Encode(l); err != nil {
		return fmt.Errorf("loadgen: write line %d: %w", l.Seq, err)
	}
	return nil
}
