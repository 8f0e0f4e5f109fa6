// Package httpaddon is the KEDA HTTP add-on suite: a hello Spin app scaled
// from zero by the first request (held by the interceptor), out under load,
// and back to zero after the scale-down period.
package httpaddon

import (
	"os"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/suites/internal/doctable"
	"github.com/scalebench/scalebench/suites/internal/suite"
)

func TestMain(m *testing.M) { os.Exit(suite.Main(m, "httpaddon")) }

func TestHTTPAddOnScalesFromAndToZero(t *testing.T) {
	s := suite.RequireCluster(t)
	sc := suite.Scenario(t, "keda-http")
	s.Env.Test(t, s.Feature(sc, runner.Options{}, func(t *testing.T, res results.Scenario) {
		m := res.Metrics
		if m.ColdStartSeconds == nil || m.ColdStart == nil {
			t.Fatalf("no cold start measured: %+v", m)
		}
		cs := m.ColdStart
		if cs.Status != 200 || cs.ColdStartHeader != "true" {
			t.Errorf("cold start: status %d, %s %q; want 200 and \"true\"", cs.Status, runner.ColdStartHeader, cs.ColdStartHeader)
		}
		if cs.ActivatedSeconds == nil || cs.ScaledSeconds == nil || cs.PodReadySeconds == nil {
			t.Errorf("cold-start breakdown incomplete: %+v", cs)
		} else if !(*cs.ActivatedSeconds <= cs.ResponseSeconds && *cs.PodReadySeconds <= cs.ResponseSeconds) {
			t.Errorf("cold-start stages out of order: %+v", cs)
		}
		t.Logf("cold start %.3f s: activated %.3f s, scaled %.3f s, pod ready %.3f s", cs.ResponseSeconds, deref(cs.ActivatedSeconds), deref(cs.ScaledSeconds), deref(cs.PodReadySeconds))
		// The add-on document's cold start from zero: 1–2 s.
		if v := doctable.CompareColdStart(*m.ColdStartSeconds); len(v) > 0 {
			t.Errorf("not the document's cold start: %s", strings.Join(v, "; "))
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
	}))
}

func deref(p *float64) float64 {
	if p == nil {
		return -1
	}
	return *p
}
