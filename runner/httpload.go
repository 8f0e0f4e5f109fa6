package runner

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/loadjob"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

func (r *run) httpLoad(ctx context.Context) error {
	h := r.s.Spec.Load.HTTP
	gen := r.opts.Generator
	target := r.ingressURL()
	job := r.loadJob()
	if job != nil {
		if gen == nil {
			gen = job
		}
		if c := r.s.Spec.Load.Cluster; c.URL != "" {
			target = c.URL
		}
	}
	if gen == nil {
		if h.Generator == scenario.GeneratorBombardier {
			gen = load.NewBombardier(load.WithLogger(r.opts.Logger))
		} else {
			gen = load.NewHTTP(load.WithLogger(r.opts.Logger))
		}
	}
	lo, err := HTTPOptions(r.s, target)
	if err != nil {
		return err
	}
	// Only paced load can miss: an open loop, or a closed loop with a rate.
	paced := lo.Mode == load.OpenLoop || lo.Rate > 0
	for _, st := range lo.Steps {
		paced = paced || st.Rate > 0
	}
	desc := lo.Describe()
	if h.Generator == scenario.GeneratorBombardier {
		desc = "bombardier " + desc
	}
	if job != nil {
		desc = fmt.Sprintf("from a Job of %d pods in the cluster sharing the load, %s", job.Spec.Parallelism, desc)
	}
	start := time.Now()
	startMark := timeline.Event{Kind: timeline.KindMarker, Marker: &timeline.Marker{Name: timeline.MarkerLoadStart, Detail: fmt.Sprintf("%s; to %s", desc, lo.URL)}}
	if job == nil {
		r.rec.Record(startMark)
	}
	r.progressf("load: %s", desc)
	// No result callback: the per-second samples come from the generator's
	// own complete buckets (Summary.Seconds), so none can be dropped.
	sum, lerr := gen.Run(ctx, lo, nil)
	base := r.rec.Since(start)
	if job != nil {
		// The Job's load started at its barrier, after the pods came up:
		// the marker and the seconds are placed there.
		if !sum.Started.IsZero() {
			base = r.rec.Since(sum.Started)
		}
		startMark.At = base
		r.rec.Record(startMark)
	}
	r.rec.Mark(timeline.MarkerLoadStop, fmt.Sprintf("%d requests, %d errors", sum.Requests, sum.Errors))
	for _, sec := range sum.Seconds {
		r.rec.Record(timeline.Event{At: base + time.Duration(sec.Index+1)*time.Second, Kind: timeline.KindLoad, Load: loadSample(sec, paced)})
	}
	r.loadTotals = loadTotals(sum, lo, desc, paced)
	if len(h.Profile) > 0 {
		r.profile = httpProfile(h.Profile, lo.Scheduled(), sum.Seconds, base)
	}
	if job != nil {
		r.loadTotals.Placement, r.loadTotals.Pods = scenario.PlacementCluster, job.Spec.Parallelism
		if g, ok := gen.(*loadjob.Generator); ok && len(g.Pods) > 0 {
			r.loadTotals.PodRequests = map[string]int64{}
			for _, p := range g.Pods {
				r.loadTotals.PodRequests[p.Pod] = p.Requests
			}
		}
		if e, ok := r.opts.Cluster.(clusters.LoadPodHost); ok {
			r.loadTotals.PlacementNote = e.LoadPodNote()
		}
	}
	r.progressf("load done: %d requests (%.0f/s), %d errors, p99 %s", sum.Requests, sum.RPS, sum.Errors, sum.P99.Round(time.Millisecond))
	if lerr != nil && ctx.Err() == nil {
		return fmt.Errorf("load: %w", lerr)
	}
	return ctx.Err()
}

// loadJob is the in-cluster load generator of a scenario whose load is
// placed in the cluster; nil otherwise.
func (r *run) loadJob() *loadjob.Generator {
	l := r.s.Spec.Load
	if l.Placement != scenario.PlacementCluster || l.Cluster == nil {
		return nil
	}
	return &loadjob.Generator{Clients: r.c, Spec: LoadJobSpec(r.s, r.set.DeploymentName, r.opts.RunID),
		StartDelay: l.Cluster.StartDelay.Duration, Progress: r.progressf, Logger: r.opts.Logger}
}

// LoadJobSpec is the Job a cluster-placed load runs as (without the load
// options and start barrier, which the run sets when it starts): bench plan
// renders it with the same code.
func LoadJobSpec(s *scenario.Scenario, deployment, runID string) loadjob.Spec {
	c := s.Spec.Load.Cluster
	image := c.Image
	if image == "" {
		image = loadjob.DefaultImage()
	}
	name := deployment
	if len(name) > 50 {
		name = name[:50]
	}
	return loadjob.Spec{Name: name + "-loadgen", Namespace: s.Spec.Namespace, Image: image, Parallelism: c.Parallelism, RunID: runID}
}

// HTTPOptions are the load options a scenario's HTTP load sends to base
// (the ingress, or load.cluster.url).
func HTTPOptions(s *scenario.Scenario, base string) (load.Options, error) {
	u, err := url.Parse(base)
	if err != nil {
		return load.Options{}, fmt.Errorf("load URL %q: %w", base, err)
	}
	u.Path = s.Spec.Load.HTTP.Path
	return httpOptions(s.Spec.Load.HTTP, u.String()), nil
}

// httpOptions maps the scenario's HTTP load to the generator's options.
func httpOptions(h *scenario.HTTPLoad, url string) load.Options {
	lo := load.Options{URL: url, Host: h.Host, Mode: load.Mode(h.Mode), Connections: h.Connections,
		MaxInFlight: h.MaxInFlight, Duration: h.Duration.Duration, Timeout: h.Timeout.Duration, Rate: h.Rate,
		RecordHeaders: []string{ColdStartHeader}}
	if len(h.Steps) > 0 || len(h.Profile) > 0 {
		// Steps replace the duration and the rate (they are per step).
		lo.Duration, lo.Rate = 0, 0
	}
	lo.Steps = append(lo.Steps, rateSteps(h.Profile)...)
	for _, st := range h.Steps {
		ls := load.Step{Duration: st.Duration.Duration, Connections: st.Connections, Rate: st.Rate}
		if lo.Mode != load.OpenLoop && ls.Connections == 0 && ls.Rate == 0 {
			// A closed-loop step without its own connections uses the load's
			// (the generator would read it as idle).
			ls.Connections = h.Connections
		}
		lo.Steps = append(lo.Steps, ls)
	}
	return lo
}

// rateSteps turns an arrival profile into open-loop steps: a pause is an
// idle step; a ramp starts from the rate the previous step ended at, as
// scenario.PlaceRates places it.
func rateSteps(p []scenario.RateStep) []load.Step {
	var out []load.Step
	for _, st := range scenario.PlaceRates(p) {
		out = append(out, load.Step{Duration: st.End - st.Start, Rate: st.To, Ramp: st.Ramp})
	}
	return out
}

// httpProfile is the report's view of a rate profile: each step placed in
// the run (the load started at loadAt), the requests its schedule gave
// (load.Options.Scheduled), and those sent and missed, counted from the
// generator's per-second buckets, which are by scheduled second (a
// profile's steps are whole seconds).
func httpProfile(p []scenario.RateStep, scheduled []int64, secs []load.Second, loadAt time.Duration) []results.ProfileStep {
	out := make([]results.ProfileStep, 0, len(p))
	for i, st := range scenario.PlaceRates(p) {
		ps := results.ProfileStep{Unit: "requests",
			StartSeconds: (loadAt + st.Start).Seconds(), EndSeconds: (loadAt + st.End).Seconds(),
			FromPerSecond: st.From, ToPerSecond: st.To, Ramp: st.Ramp, Missed: ptr(int64(0))}
		if i < len(scheduled) {
			ps.Scheduled = scheduled[i]
		}
		lo, hi := int(st.Start/time.Second), int(st.End/time.Second)
		for _, sec := range secs {
			if sec.Index >= lo && sec.Index < hi {
				ps.Sent += int64(sec.Requests)
				*ps.Missed += int64(sec.Missed)
			}
		}
		out = append(out, ps)
	}
	return out
}

// loadSample is one second of load for the timeline. Missed is set only when
// the load was paced: an unpaced closed loop cannot miss.
func loadSample(sec load.Second, paced bool) *timeline.LoadSample {
	ls := &timeline.LoadSample{Second: sec.Index, Requests: sec.Requests, Errors: sec.Errors,
		P50LatencySeconds: sec.P50.Seconds(), P90LatencySeconds: sec.P90.Seconds(), P99LatencySeconds: sec.P99.Seconds(), MaxLatencySeconds: sec.Max.Seconds()}
	if len(sec.ErrorsByKind) > 0 {
		ls.ErrorsByKind = map[string]int{}
		for k, v := range sec.ErrorsByKind {
			ls.ErrorsByKind[string(k)] = v
		}
	}
	if sec.Successes > 0 {
		ls.SuccessP50LatencySeconds = ptr(sec.SuccessP50.Seconds())
		ls.SuccessP99LatencySeconds = ptr(sec.SuccessP99.Seconds())
	}
	if paced {
		ls.Missed = ptr(sec.Missed)
	}
	return ls
}

// loadTotals are the whole-run figures the analysis reports.
func loadTotals(sum load.Summary, lo load.Options, desc string, paced bool) *analysis.LoadTotals {
	mode := lo.Mode
	if mode == "" {
		mode = load.ClosedLoop
	}
	t := &analysis.LoadTotals{
		Mode:              string(mode),
		MaxInFlight:       sum.MaxInFlight,
		Description:       desc,
		Requests:          sum.Requests,
		Errors:            sum.Errors,
		Successes:         sum.Successes,
		P50LatencySeconds: sum.P50.Seconds(),
		P99LatencySeconds: sum.P99.Seconds(),
	}
	for k, n := range sum.ErrorsByKind {
		if t.ErrorsByKind == nil {
			t.ErrorsByKind = map[string]int64{}
		}
		t.ErrorsByKind[string(k)] = n
	}
	if lo.Rate > 0 {
		t.Rate = ptr(lo.Rate)
	}
	if sum.Successes > 0 {
		t.SuccessP50LatencySeconds = ptr(sum.SuccessP50.Seconds())
		t.SuccessP99LatencySeconds = ptr(sum.SuccessP99.Seconds())
	}
	// A generator without per-request results (bombardier) has no
	// per-second samples and cannot tell what it missed.
	if sum.Seconds != nil {
		t.SuccessLatencies = make([][]float64, len(sum.Seconds))
		for _, sec := range sum.Seconds {
			if sec.Index < 0 || sec.Index >= len(t.SuccessLatencies) {
				continue
			}
			ls := make([]float64, len(sec.SuccessLatencies))
			for j, d := range sec.SuccessLatencies {
				ls[j] = d.Seconds()
			}
			t.SuccessLatencies[sec.Index] = ls
		}
		t.Dropped = ptr(sum.Dropped)
		if paced {
			t.Missed = ptr(sum.Missed)
		}
	}
	return t
}

func ptr[T any](v T) *T { return &v }
