package runner

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
)

// ParallelHostSuffix ends the Host a scenario's HTTP load sends, and its
// Ingress rule names, when Isolate gives it one: <scenario>.<suffix>.
const ParallelHostSuffix = "parallel.scalebench.local"

// Isolate returns copies of scenarios that can run at the same time on one
// cluster (Plan.Parallel): a scenario that shares its namespace with another
// moves to a namespace named after itself, and an HTTP load that sends no
// Host gets one of its own (<scenario>.ParallelHostSuffix), which its
// Ingress rule names, so that each scenario's requests reach only its app.
// What would still collide is an error naming the scenarios: the same
// name twice, the user's own manifests in a shared namespace, a keda-http
// host or an SQS queue in common. A set that is already isolated comes back
// unchanged.
func Isolate(scs []*scenario.Scenario) ([]*scenario.Scenario, error) {
	var errs []error
	byName := map[string]bool{}
	nsCount := map[string]int{}
	for _, sc := range scs {
		if byName[sc.Metadata.Name] {
			errs = append(errs, fmt.Errorf("scenario %s: named twice; scenarios run in parallel must differ (use --repeat for more trials of one)", sc.Metadata.Name))
		}
		byName[sc.Metadata.Name] = true
		nsCount[sc.Spec.Namespace]++
	}
	out := make([]*scenario.Scenario, len(scs))
	for i, sc := range scs {
		c := *sc
		if h := sc.Spec.Load.HTTP; h != nil {
			hc := *h
			c.Spec.Load.HTTP = &hc
		}
		if nsCount[sc.Spec.Namespace] > 1 {
			if sc.Manifests != nil {
				errs = append(errs, fmt.Errorf("scenario %s: spec.namespace %q is shared with another scenario, and its objects come from %s: give each scenario run in parallel its own namespace", sc.Metadata.Name, sc.Spec.Namespace, sc.Manifests.Source))
			} else {
				c.Spec.Namespace = sc.Metadata.Name
			}
		}
		if h := c.Spec.Load.HTTP; h != nil && h.Host == "" && c.Spec.Autoscaler.Type != scenario.KEDAHTTP {
			h.Host = c.Metadata.Name + "." + ParallelHostSuffix
			for _, m := range validation.IsDNS1123Subdomain(h.Host) {
				errs = append(errs, fmt.Errorf("scenario %s: the Host it would be routed by in parallel, %q: %s", sc.Metadata.Name, h.Host, m))
			}
		}
		out[i] = &c
	}
	// What isolation cannot separate.
	seen := map[string]string{}
	claim := func(kind, key, name string) {
		if other, ok := seen[kind+"\x00"+key]; ok {
			errs = append(errs, fmt.Errorf("scenarios %s and %s: both use %s %q; scenarios run in parallel need their own", other, name, kind, key))
			return
		}
		seen[kind+"\x00"+key] = name
	}
	for _, c := range out {
		claim("namespace", c.Spec.Namespace, c.Metadata.Name)
		if h := c.Spec.Load.HTTP; h != nil && h.Host != "" {
			claim("host", h.Host, c.Metadata.Name)
		}
		for _, h := range c.Spec.Autoscaler.Hosts {
			if c.Spec.Load.HTTP == nil || h != c.Spec.Load.HTTP.Host {
				claim("host", h, c.Metadata.Name)
			}
		}
		if q := c.Spec.Load.SQS; q != nil {
			claim("SQS queue", q.Queue, c.Metadata.Name)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// runParallel runs every trial of the scenarios at the same time on the
// session's cluster, trial by trial, and records the results in the plan's
// order once a trial's scenarios have all ended. Scenarios that cannot be
// isolated are recorded as not run, with the reason.
func (s *Session) runParallel(ctx context.Context, scs []*scenario.Scenario, repeat int) []results.Scenario {
	progress := s.cfg.Progress
	iso, err := Isolate(scs)
	if err != nil {
		var ran []results.Scenario
		for _, sc := range scs {
			res := results.Scenario{Name: sc.Metadata.Name, Autoscaler: sc.Spec.Autoscaler.Type,
				Error: "not run in parallel: " + err.Error(), ErrorKind: results.ErrorHarness,
				Steps: []results.Step{}, Checks: []results.Check{}}
			s.record(res, nil)
			ran = append(ran, res)
		}
		return ran
	}
	names := make([]string, len(iso))
	for i, sc := range iso {
		names[i] = sc.Metadata.Name
	}
	var ran []results.Scenario
	for trial := 1; trial <= repeat; trial++ {
		if ctx.Err() != nil && s.Cluster() != nil {
			break
		}
		if progress != nil {
			fmt.Fprintf(progress, "scenarios %v in parallel (trial %d/%d)\n", names, trial, repeat)
		}
		numbered := 0
		if repeat > 1 {
			numbered = trial
		}
		res := make([]results.Scenario, len(iso))
		applied := make([][]*unstructured.Unstructured, len(iso))
		var wg sync.WaitGroup
		for i, sc := range iso {
			wg.Go(func() {
				res[i], applied[i] = s.execute(ctx, sc, Options{}, numbered)
			})
		}
		wg.Wait()
		for i := range iso {
			res[i].RanWith = slices.Delete(slices.Clone(names), i, i+1)
			s.record(res[i], applied[i])
			ran = append(ran, res[i])
			if progress != nil {
				printVerdict(progress, res[i], trial, repeat)
			}
		}
		if s.Cluster() == nil {
			break
		}
	}
	return ran
}
