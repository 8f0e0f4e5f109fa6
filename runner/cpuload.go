package runner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/timeline"
)

// cpuLoad drives the scenario's CPU profile through the cluster's
// CPUDriver: load start at its first step, load stop at the start of the
// last run of steps below the target (scenario.CPUProfile). It returns
// then; the rest of the profile goes on in the background until its end,
// after which the pods are idle again, and stop ends it early (the run is
// over) and returns the pods to idle.
func (r *run) cpuLoad(ctx context.Context) (stop func(), err error) {
	d, ok := r.opts.Cluster.(clusters.CPUDriver)
	if !ok {
		return func() {}, errorf(results.ErrorHarness, "load type cpu: this cluster cannot drive a pod's CPU directly (only the emulated data plane can); use load type http")
	}
	steps, stopAt, _ := r.s.CPUProfile()
	ns, sel := r.s.Spec.Namespace, r.set.PodSelector
	var desc []string
	for _, st := range r.s.Spec.Load.CPU.Profile {
		desc = append(desc, fmt.Sprintf("%s for %s", st.Utilization, st.For))
	}
	set := func(pct float64) error {
		if err := d.SetCPUUtilization(ns, sel, pct); err != nil {
			return fmt.Errorf("load: set CPU utilization %g%%: %w", pct, err)
		}
		return nil
	}
	pctx, cancel := context.WithCancel(ctx)
	stopped := make(chan struct{})
	start := time.Now()
	r.rec.Mark(timeline.MarkerLoadStart, "cpu profile of each pod's CPU request: "+strings.Join(desc, ", "))
	r.progressf("load: cpu profile %s", strings.Join(desc, ", "))
	errc := make(chan error, 1)
	go func() {
		defer close(stopped)
		for _, st := range steps {
			if err := sleep(pctx, time.Until(start.Add(st.Start))); err != nil {
				return
			}
			if err := set(st.Utilization); err != nil {
				errc <- err
				return
			}
			r.rec.Mark(timeline.MarkerCPUStep, fmt.Sprintf("%g%%", st.Utilization))
			r.progressf("cpu step: %g%% of the CPU request (a pod reaches %g%%) for %s", st.Utilization, st.Effective, st.End-st.Start)
		}
		if err := sleep(pctx, time.Until(start.Add(steps[len(steps)-1].End))); err != nil {
			return
		}
		if err := set(0); err == nil {
			r.rec.Mark(timeline.MarkerCPUStep, "0%")
			r.progressf("cpu profile done: pods idle")
		}
	}()
	stop = func() {
		cancel()
		<-stopped
		_ = d.SetCPUUtilization(ns, sel, 0)
	}
	select {
	case <-time.After(time.Until(start.Add(stopAt))):
	case err := <-errc:
		return stop, err
	case <-ctx.Done():
		return stop, context.Cause(ctx)
	}
	r.rec.Mark(timeline.MarkerLoadStop, fmt.Sprintf("cpu profile below the target from here (at %s of %s)", stopAt, r.s.Spec.Load.CPU.TotalDuration()))
	return stop, nil
}
