// Package kedacpu is the KEDA CPU suite: the SpinKube KEDA tutorial (a
// ScaledObject with a cpu trigger, min 1, max 20, 50 %) on a cluster, plus
// the failures a user must see clearly: KEDA's webhook rejecting a
// ScaledObject, and the KEDA operator dying mid-run.
package kedacpu

import (
	"context"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/suites/internal/doctable"
	"github.com/scalebench/scalebench/suites/internal/suite"
	"github.com/scalebench/scalebench/workloads"
)

func TestMain(m *testing.M) { os.Exit(suite.Main(m, "kedacpu")) }

func TestKEDAScalesOnCPU(t *testing.T) {
	s := suite.RequireCluster(t)
	sc := suite.Scenario(t, "keda-cpu")
	s.Env.Test(t, s.Feature(sc, runner.Options{}, func(t *testing.T, res results.Scenario) {
		m := res.Metrics
		if m.PeakReplicas == nil || *m.PeakReplicas != sc.Spec.Autoscaler.MaxReplicas {
			t.Errorf("peak ready replicas %v, want %d (maxReplicas)", m.PeakReplicas, sc.Spec.Autoscaler.MaxReplicas)
		}
		if len(res.Steps) == 0 || res.Steps[0].From != 1 {
			t.Errorf("want scale-up steps starting from 1 replica, got %v", res.Steps)
		}
		// The tutorial's table: 1→2→4→8→16→20 at the HPA's 15 s sync (the
		// first step's size is the load start's phase, see doctable).
		t.Log(doctable.Row(doctable.KEDACPU, res.Steps))
		if v := doctable.Compare(doctable.KEDACPU, res.Steps, sc.Spec.Autoscaler.MaxReplicas, sc.Spec.Autoscaler.Behavior != nil); len(v) > 0 {
			t.Errorf("not the document's table (%s): %s", doctable.Row(doctable.KEDACPU, res.Steps), strings.Join(v, "; "))
		}
	}))
}

// A ScaledObject KEDA's admission webhook refuses (cpu trigger only, min 0)
// fails the scenario with the webhook's own message, without waiting.
func TestRejectedScaledObjectFailsClearly(t *testing.T) {
	s := suite.RequireCluster(t)
	sc := suite.Scenario(t, "keda-cpu")
	sc.Metadata.Name = "keda-cpu-rejected"
	sc.Spec.Autoscaler.Patch = map[string]any{"spec": map[string]any{"minReplicaCount": 0}}
	f := features.New(sc.Metadata.Name).WithLabel("scenario", sc.Metadata.Name).
		Assess("KEDA's webhook rejection is the scenario's error", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			defer suite.Recover(t)
			start := time.Now()
			res := s.Run(ctx, t, sc, runner.Options{})
			const keda = "scale to zero doesn't work"
			if res.Passed || res.ErrorKind != results.ErrorRejected || !strings.Contains(res.Error, keda) {
				t.Fatalf("want a failed run, rejected, whose error carries KEDA's message %q; got passed=%v kind=%q error=%q", keda, res.Passed, res.ErrorKind, res.Error)
			}
			if d := time.Since(start); d > 3*time.Minute {
				t.Errorf("a rejection must fail fast, took %s", d)
			}
			t.Logf("reported: %s", res.Error)
			return ctx
		}).Feature()
	s.Env.Test(t, f)
}

// The KEDA operator dying mid-run ends the scenario with that reason in the
// report, instead of a hang or a silently wrong result.
func TestKEDAOperatorDeathFailsTheRun(t *testing.T) {
	s := suite.RequireCluster(t)
	inj, ok := s.Cluster.(clusters.FailureInjector)
	if !ok {
		t.Skip("this cluster kind cannot kill platform components")
	}
	sc := suite.Scenario(t, "keda-cpu")
	sc.Metadata.Name = "keda-cpu-operator-killed"
	clients, err := kube.NewClients(s.Cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	f := features.New(sc.Metadata.Name).WithLabel("scenario", sc.Metadata.Name).
		Assess("the operator's death is the scenario's error", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
			defer suite.Recover(t)
			base := s.Baseline(t)
			var killedAt time.Time // written before the send on killed
			// The killer always sends once: the kill's result, or why it
			// did not kill (the HPA never appeared within its deadline, or
			// the run ended first).
			killed := make(chan error, 1)
			kctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
			defer cancel()
			go func() {
				defer clients.Close()
				// Kill it once KEDA has created its HPA, i.e. mid-run.
				for {
					if _, err := clients.Kube.AutoscalingV2().HorizontalPodAutoscalers(sc.Spec.Namespace).Get(kctx, "keda-hpa-"+workloads.ScaledObjectName, metav1.GetOptions{}); err == nil {
						pid, ok := inj.ComponentPID("keda-operator")
						if !ok {
							killed <- os.ErrNotExist
							return
						}
						killedAt = time.Now()
						killed <- syscall.Kill(pid, syscall.SIGKILL)
						return
					}
					select {
					case <-kctx.Done():
						killed <- fmt.Errorf("HPA keda-hpa-%s never appeared: %w", workloads.ScaledObjectName, context.Cause(kctx))
						return
					case <-time.After(500 * time.Millisecond):
					}
				}
			}()
			start := time.Now()
			res := s.Run(ctx, t, sc, runner.Options{})
			end := time.Now()
			cancel() // the run is over: a killer still waiting gives up now
			if err := <-killed; err != nil {
				t.Fatalf("killing keda-operator: %v (run: passed=%v, %s error %q)", err, res.Passed, res.ErrorKind, res.Error)
			}
			suite.LogVerdict(t, "KEDA operator killed", suite.VerdictAfter(res, killedAt, end), string(res.ErrorKind)+" error: "+res.Error)
			if res.Passed || res.ErrorKind != results.ErrorPlatform || !strings.Contains(res.Error, "keda-operator") {
				t.Errorf("want a failed run, platform error naming keda-operator; got passed=%v kind=%q error=%q", res.Passed, res.ErrorKind, res.Error)
			}
			if d := time.Since(start); d > 4*time.Minute {
				t.Errorf("the failure must end the run promptly, took %s", d)
			}
			if err := inj.RestartComponent(ctx, "keda-operator"); err != nil {
				t.Errorf("restart keda-operator: %v", err)
			}
			s.CheckNothingLeft(ctx, t, base, "keda-operator")
			return ctx
		}).Feature()
	s.Env.Test(t, f)
}
