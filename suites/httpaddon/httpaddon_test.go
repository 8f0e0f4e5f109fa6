// Package httpaddon is the KEDA HTTP add-on suite: a hello Spin app scaled
// from zero by the first request (held by the interceptor), out under load,
// and back to zero after the scale-down period — with the add-on's current
// API (an InterceptorRoute and its ScaledObject, the scenario's default) and
// with the deprecated HTTPScaledObject, on one cluster.
package httpaddon

import (
	"os"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/suites/internal/doctable"
	"github.com/scalebench/scalebench/suites/internal/suite"
)

func TestMain(m *testing.M) { os.Exit(suite.Main(m, "httpaddon")) }

func TestHTTPAddOnScalesFromAndToZero(t *testing.T) {
	s := suite.RequireCluster(t)
	sc := suite.Scenario(t, "keda-http")
	if sc.Spec.Autoscaler.API != scenario.HTTPAPIInterceptorRoute {
		t.Fatalf("keda-http runs api %q, want the default %q", sc.Spec.Autoscaler.API, scenario.HTTPAPIInterceptorRoute)
	}
	s.Env.Test(t, s.Feature(sc, runner.Options{}, func(t *testing.T, res results.Scenario) {
		assessColdStartAndScaling(t, res)
		// The add-on document's cold start from zero: 1–2 s.
		if m := res.Metrics; m.ColdStartSeconds != nil {
			if v := doctable.CompareColdStart(*m.ColdStartSeconds); len(v) > 0 {
				t.Errorf("not the document's cold start: %s", strings.Join(v, "; "))
			}
		}
	}))
}

// TestHTTPAddOnLegacyHTTPScaledObject runs the same path with the
// deprecated HTTPScaledObject, of which the add-on's operator makes the
// ScaledObject. Shortened to keep the suite's cost (about 1.5 min): one cold
// start and a 10 s scale-down period.
func TestHTTPAddOnLegacyHTTPScaledObject(t *testing.T) {
	s := suite.RequireCluster(t)
	sc := suite.Scenario(t, "keda-http")
	sc.Metadata.Name += "-httpscaledobject"
	sc.Metadata.Description = "keda-http with the deprecated HTTPScaledObject (api: HTTPScaledObject), 1 cold start, scaledownPeriod 10 s"
	a := &sc.Spec.Autoscaler
	a.API = scenario.HTTPAPIHTTPScaledObject
	*a.ScaledownPeriod = 10
	sc.Spec.Load.HTTP.ColdStarts = 1
	if errs := scenario.Validate(sc); len(errs) > 0 {
		t.Fatal(errs.ToAggregate())
	}
	s.Env.Test(t, s.Feature(sc, runner.Options{}, func(t *testing.T, res results.Scenario) {
		assessColdStartAndScaling(t, res)
		if res.Knobs["httpAddOnAPI"] != scenario.HTTPAPIHTTPScaledObject {
			t.Errorf("report knob httpAddOnAPI = %q", res.Knobs["httpAddOnAPI"])
		}
	}))
}

// assessColdStartAndScaling: the first request at zero was a successful
// cold start with its breakdown, the scenario's own ScaledObject activated
// the app (its decision is counted), the load scaled it out without errors,
// and it went back to zero.
func assessColdStartAndScaling(t *testing.T, res results.Scenario) {
	t.Helper()
	m := res.Metrics
	if m.ColdStartSeconds == nil || m.ColdStart == nil {
		t.Fatalf("no cold start measured: %+v", m)
	}
	cs := m.ColdStart
	if cs.Status != 200 || cs.ColdStartHeader != "true" {
		t.Errorf("cold start: status %d, %s %q; want 200 and \"true\"", cs.Status, runner.ColdStartHeader, cs.ColdStartHeader)
	}
	// The stages are times the observer's watches delivered: a pod's Ready
	// can reach the observer a little after the interceptor, whose own
	// EndpointSlice watch let the response through, saw it (10 ms seen).
	const watchLag = 0.5
	if cs.ActivatedSeconds == nil || cs.ScaledSeconds == nil || cs.PodReadySeconds == nil {
		t.Errorf("cold-start breakdown incomplete: %+v", cs)
	} else if !(*cs.ActivatedSeconds <= cs.ResponseSeconds+watchLag && *cs.PodReadySeconds <= cs.ResponseSeconds+watchLag) {
		t.Errorf("cold-start stages out of order: activated %.3f s, pod ready %.3f s, response %.3f s", *cs.ActivatedSeconds, *cs.PodReadySeconds, cs.ResponseSeconds)
	}
	t.Logf("cold start %.3f s: activated %.3f s, scaled %.3f s, pod ready %.3f s", cs.ResponseSeconds, deref(cs.ActivatedSeconds), deref(cs.ScaledSeconds), deref(cs.PodReadySeconds))
	if m.DecisionSeconds == nil {
		t.Errorf("no decision of the scenario's own ScaledObject counted (absent: %v)", m.Absent)
	}
	if m.Errors == nil {
		t.Error("no request count recorded")
	} else if *m.Errors != 0 {
		t.Errorf("failed requests %d, want 0", *m.Errors)
	}
	if m.PeakReplicas == nil || *m.PeakReplicas < 2 {
		t.Errorf("peak replicas %v: no scale-up under load", m.PeakReplicas)
	}
	if m.ScaleDownSeconds == nil {
		t.Error("no return to zero")
	}
	t.Logf("%s (api %s): %s requests, %s errors, cold start %.3f s", res.Name, res.Knobs["httpAddOnAPI"], results.FormatCount(m.Requests), results.FormatCount(m.Errors), *m.ColdStartSeconds)
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
