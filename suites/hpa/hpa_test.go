// Package hpa is the HPA-on-CPU suite: the SpinKube HPA tutorial
// (cpu-load-gen, min 1, max 10, 50 % CPU, 40 connections) on a cluster.
package hpa

import (
	"os"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/suites/internal/doctable"
	"github.com/scalebench/scalebench/suites/internal/suite"
)

func TestMain(m *testing.M) { os.Exit(suite.Main(m, "hpa")) }

func TestHPAScalesOnCPU(t *testing.T) {
	s := suite.RequireCluster(t)
	sc := suite.Scenario(t, "hpa-cpu")
	s.Env.Test(t, s.Feature(sc, runner.Options{}, func(t *testing.T, res results.Scenario) {
		m := res.Metrics
		if m.PeakReplicas == nil || *m.PeakReplicas != sc.Spec.Autoscaler.MaxReplicas {
			t.Errorf("peak ready replicas %v, want %d (maxReplicas)", m.PeakReplicas, sc.Spec.Autoscaler.MaxReplicas)
		}
		if len(res.Steps) < 2 || res.Steps[0].From != 1 {
			t.Errorf("want scale-up steps starting from 1 replica, got %v", res.Steps)
		}
		if len(res.Steps) == 0 {
			return // reported above
		}
		if last := res.Steps[len(res.Steps)-1]; last.To != 1 {
			t.Errorf("want the last step back to 1 replica, got %v", res.Steps)
		}
		// The tutorial's table: 1→4→8→10 at the HPA's 15 s sync.
		t.Log(doctable.Row(doctable.HPA, res.Steps))
		if v := doctable.Compare(doctable.HPA, res.Steps, sc.Spec.Autoscaler.MaxReplicas, sc.Spec.Autoscaler.Behavior != nil); len(v) > 0 {
			t.Errorf("not the document's table (%s): %s", doctable.Row(doctable.HPA, res.Steps), strings.Join(v, "; "))
		}
	}))
}
