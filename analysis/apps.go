package analysis

import (
	"fmt"
	"math"
	"strings"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// AnalyzeApps is the result of a multi-app scenario s from its apps' own
// results (in app order, each analysed as a one-app scenario): one check per
// app (it passed every tested check and ran to its end), the distribution
// of every per-app metric across the apps, and the apps' results kept
// whole. The scenario passes only when every app passed (results.AppsVerdict);
// a harness error on any app is the scenario's error, naming the apps.
func AnalyzeApps(s *scenario.Scenario, apps []results.Scenario) results.Scenario {
	out := results.Scenario{
		Name:         s.Metadata.Name,
		Autoscaler:   s.Spec.Autoscaler.Type,
		Description:  s.Metadata.Description,
		Knobs:        Knobs(s),
		BudgetAbsent: "per app: every app has its own budget (apps.results[].budget)",
		Steps:        []results.Step{},
		Timeline:     []timeline.Event{},
	}
	load := scenario.AppsLoadReplicate
	if s.Spec.Apps != nil && s.Spec.Apps.Load != "" {
		load = s.Spec.Apps.Load
	}
	a := &results.Apps{Count: len(apps), Load: load, Verdict: results.AppsVerdict, Metrics: AppDistributions(apps), Results: apps}
	var errs []string
	kind := results.ErrorKind("")
	for _, app := range apps {
		c := results.Check{Name: "app " + app.Name, Passed: app.Passed, Detail: appDetail(app)}
		out.Checks = append(out.Checks, c)
		if app.Passed {
			a.Passed++
		} else {
			a.Failed = append(a.Failed, app.Name)
		}
		if app.Error != "" {
			errs = append(errs, fmt.Sprintf("app %s (%s): %s", app.Name, app.ErrorKind, app.Error))
			// An interrupted run is interrupted whatever else broke.
			if kind == "" || app.ErrorKind == results.ErrorInterrupted {
				kind = app.ErrorKind
			}
		}
	}
	if out.Checks == nil {
		out.Checks = []results.Check{}
	}
	if len(errs) > 0 {
		out.Error = fmt.Sprintf("%d of %d apps did not run to their end: %s", len(errs), len(apps), strings.Join(errs, "; "))
		out.ErrorKind = kind
	}
	out.Apps = a
	// Every app must pass, and there must be an app: verdict's rule over
	// the per-app checks.
	out.Passed = verdict(out.Checks) && out.Error == ""
	return out
}

// appDetail says why an app passed or failed, naming its failed checks.
func appDetail(app results.Scenario) string {
	var failed []string
	tested := 0
	for _, c := range app.Checks {
		if c.Skipped {
			continue
		}
		tested++
		if !c.Passed {
			failed = append(failed, fmt.Sprintf("%q: %s", c.Name, c.Detail))
		}
	}
	var parts []string
	if app.Error != "" {
		parts = append(parts, fmt.Sprintf("did not run to its end (%s): %s", app.ErrorKind, app.Error))
	}
	switch {
	case len(failed) > 0:
		parts = append(parts, fmt.Sprintf("failed %d of %d tested checks: %s", len(failed), tested, strings.Join(failed, "; ")))
	case tested == 0:
		parts = append(parts, "no check was tested")
	case app.Error == "":
		parts = append(parts, fmt.Sprintf("passed all %d tested checks", tested))
	}
	return strings.Join(parts, "; ")
}

// appMetrics are an app's metrics summarised across apps, by JSON key:
// the timings in seconds, and the counts and ratios a reader compares
// between apps (nil: absent).
func appMetrics(m results.Metrics) map[string]*float64 {
	out := secondsMetrics(m)
	out["goodputPerSecond"] = m.GoodputPerSecond
	out["errorRate"] = m.ErrorRate
	out["peakReplicas"] = nil
	if m.PeakReplicas != nil {
		out["peakReplicas"] = results.F64(float64(*m.PeakReplicas))
	}
	out["flaps"] = nil
	if m.Flaps != nil {
		out["flaps"] = results.F64(float64(*m.Flaps))
	}
	return out
}

// AppDistributions are, for every metric measured by at least one app, its
// distribution across the apps (nearest-rank p50 and p95, min, max), with
// the apps where it is absent and why. A metric no app measured is left
// out: nothing to distribute.
func AppDistributions(apps []results.Scenario) map[string]*results.Distribution {
	vals := map[string][]float64{}
	missing := map[string]map[string]string{}
	for _, app := range apps {
		for key, p := range appMetrics(app.Metrics) {
			if p != nil && !math.IsNaN(*p) {
				vals[key] = append(vals[key], *p)
				continue
			}
			if missing[key] == nil {
				missing[key] = map[string]string{}
			}
			missing[key][app.Name] = absentReason(app, key)
		}
	}
	out := map[string]*results.Distribution{}
	for key, v := range vals {
		d := results.NewDistribution(v)
		d.Absent = missing[key]
		out[key] = d
	}
	return out
}

// absentReason is why app has no value for key: its own reason, else that
// it did not run to its end, else that the metric does not apply to it.
func absentReason(app results.Scenario, key string) string {
	if why := app.Metrics.Absent[key]; why != "" {
		return why
	}
	if app.Error != "" {
		return fmt.Sprintf("the app did not run to its end (%s)", app.ErrorKind)
	}
	return "not measured in this app"
}
