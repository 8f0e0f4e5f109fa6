package runner

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

func (r *run) httpLoad(ctx context.Context) error {
	h := r.s.Spec.Load.HTTP
	gen := r.opts.Generator
	if gen == nil {
		if h.Generator == scenario.GeneratorBombardier {
			gen = load.NewBombardier(load.WithLogger(r.opts.Logger))
		} else {
			gen = load.NewHTTP(load.WithLogger(r.opts.Logger))
		}
	}
	u, err := url.Parse(r.ingressURL())
	if err != nil {
		return fmt.Errorf("ingress URL %q: %w", r.ingressURL(), err)
	}
	u.Path = h.Path
	lo := load.Options{URL: u.String(), Host: h.Host, Connections: h.Connections, Duration: h.Duration.Duration, Timeout: h.Timeout.Duration, Rate: h.Rate,
		RecordHeaders: []string{"X-Keda-Http-Cold-Start"}}
	if len(h.Steps) > 0 {
		// Steps replace the duration and the rate (they are per step).
		lo.Duration, lo.Rate = 0, 0
	}
	for _, st := range h.Steps {
		lo.Steps = append(lo.Steps, load.Step{Duration: st.Duration.Duration, Connections: st.Connections, Rate: st.Rate})
	}
	var acc load.Accumulator
	start := time.Now()
	r.rec.Mark(timeline.MarkerLoadStart, fmt.Sprintf("%d connections for %s to %s", h.Connections, h.TotalDuration(), lo.URL))
	r.progressf("load: %d connections for %s, timeout %s", h.Connections, h.TotalDuration(), h.Timeout)
	sum, lerr := gen.Run(ctx, lo, func(res load.Result) { acc.Add(res) })
	r.rec.Mark(timeline.MarkerLoadStop, fmt.Sprintf("%d requests, %d errors", sum.Requests, sum.Errors))
	base := r.rec.Since(start)
	for _, sec := range acc.Seconds() {
		ls := &timeline.LoadSample{Second: sec.Index, Requests: sec.Requests, Errors: sec.Errors,
			P50LatencySeconds: sec.P50.Seconds(), P90LatencySeconds: sec.P90.Seconds(), P99LatencySeconds: sec.P99.Seconds(), MaxLatencySeconds: sec.Max.Seconds()}
		if len(sec.ErrorsByKind) > 0 {
			ls.ErrorsByKind = map[string]int{}
			for k, v := range sec.ErrorsByKind {
				ls.ErrorsByKind[string(k)] = v
			}
		}
		r.rec.Record(timeline.Event{At: base + time.Duration(sec.Index+1)*time.Second, Kind: timeline.KindLoad, Load: ls})
	}
	r.loadTotals = &analysis.LoadTotals{Requests: sum.Requests, Errors: sum.Errors, P50LatencySeconds: sum.P50.Seconds(), P99LatencySeconds: sum.P99.Seconds()}
	r.progressf("load done: %d requests (%.0f/s), %d errors, p99 %s", sum.Requests, sum.RPS, sum.Errors, sum.P99.Round(time.Millisecond))
	if lerr != nil && ctx.Err() == nil {
		return fmt.Errorf("load: %w", lerr)
	}
	return ctx.Err()
}
