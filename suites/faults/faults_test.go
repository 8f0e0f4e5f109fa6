// Package faults is the fault suite: platform parts fail during a run on one
// shared cluster, and each fault must end in a verdict that names the
// component and the symptom within a bounded time, never a hang. The app
// answers 5xx for a while, metrics-server is killed, the API server is
// restarted, the SQS emulator dies. (The KEDA operator's death is in
// suites/kedacpu, the store going down in suites/sqs: they need those
// suites' scenarios anyway.)
//
// Each test logs "fault <name>: verdict in <d>: <text>", the figures the
// README's fault table quotes, and then checks that the run left no
// goroutine (goleak, against a snapshot taken before the fault) and no
// process started from the suite's work folder (pgrep, as the SIGINT test
// does) beyond what the cluster restarted or started itself
// (suite.CheckNothingLeft, as suites/kedacpu and suites/sqs do).
package faults

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/e2e-framework/pkg/envconf"
	"sigs.k8s.io/e2e-framework/pkg/features"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/suites/internal/suite"
)

func TestMain(m *testing.M) { os.Exit(suite.Main(m, "faults", suite.WithSQS())) }

// verdictBound is how long a fault may take to become the run's verdict
// (injection → the run returns, its objects' cleanup included).
const verdictBound = 2 * time.Minute

// shortHPA is hpa-cpu-fast cut to what a fault needs: a short load and no
// wait for a scale-down (the checks that then fail are not what the fault
// tests look at).
func shortHPA(t *testing.T, name string, load time.Duration) *scenario.Scenario {
	sc := suite.Scenario(t, "hpa-cpu")
	sc.Metadata.Name = name
	sc.Spec.Load.HTTP.Duration = scenario.Duration{Duration: load}
	sc.Spec.Expectations.ScaleDown = &scenario.ScaleDownExpectation{Replicas: ptr.To[int32](1), Within: scenario.Duration{Duration: time.Second}}
	return sc
}

// noScaleDownWait is the run options of a fault test: give up on the
// scale-down at once.
var noScaleDownWait = runner.Options{ScaleDownGrace: time.Millisecond}

// hpaReady says whether an HPA is far enough for the fault.
type hpaReady func(h *autoscalingv2.HorizontalPodAutoscaler) (bool, string)

// readsMetric: the HPA reads its metric (the run's load starts right then).
func readsMetric(h *autoscalingv2.HorizontalPodAutoscaler) (bool, string) {
	for _, c := range h.Status.Conditions {
		if c.Type == autoscalingv2.ScalingActive {
			return c.Status == corev1.ConditionTrue, string(c.Status) + " " + c.Reason
		}
	}
	return false, "no conditions yet"
}

// exists: the HPA was created (KEDA's at zero replicas, right before the
// load starts).
func exists(*autoscalingv2.HorizontalPodAutoscaler) (bool, string) { return true, "" }

// injectWhen runs inject delay after the scenario's HPA is ready and sends
// its result, or why it did not run, exactly once; at receives the time of
// the injection.
func injectWhen(ctx context.Context, t *testing.T, s *suite.Suite, sc *scenario.Scenario, ready hpaReady, delay time.Duration, inject func() error) (<-chan error, <-chan time.Time) {
	t.Helper()
	clients, err := kube.NewClients(s.Cluster.RESTConfig())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	at := make(chan time.Time, 1)
	go func() {
		defer clients.Close()
		err := kube.Poll(ctx, 500*time.Millisecond, "HPA "+sc.HPAName(), func(ctx context.Context) (bool, string, error) {
			h, err := clients.Kube.AutoscalingV2().HorizontalPodAutoscalers(sc.Spec.Namespace).Get(ctx, sc.HPAName(), metav1.GetOptions{})
			if err != nil {
				return false, err.Error(), nil
			}
			ok, state := ready(h)
			return ok, state, nil
		})
		if err == nil {
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				err = ctx.Err()
			}
		}
		if err != nil {
			done <- err
			return
		}
		at <- time.Now()
		done <- inject()
	}()
	return done, at
}

// runFault runs sc with a fault injected delay after its HPA is ready and
// returns the result and the time from the injection to the verdict.
func runFault(ctx context.Context, t *testing.T, s *suite.Suite, sc *scenario.Scenario, opts runner.Options, ready hpaReady, delay time.Duration, inject func() error) (results.Scenario, time.Duration) {
	t.Helper()
	ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	injected, at := injectWhen(ictx, t, s, sc, ready, delay, inject)
	res := s.Run(ctx, t, sc, opts)
	end := time.Now()
	cancel() // the run is over: an injector still waiting gives up now
	if err := <-injected; err != nil {
		t.Fatalf("injecting the fault: %v (run: passed=%v, %s error %q)", err, res.Passed, res.ErrorKind, res.Error)
	}
	d := suite.VerdictAfter(res, <-at, end)
	if d > verdictBound {
		t.Errorf("the verdict took %s after the fault, want ≤ %s", d.Round(100*time.Millisecond), verdictBound)
	}
	return res, d
}

// platformFault is a test in which a platform component fails once the
// HPA reads its metric: the run must stop with a platform error saying
// words; then restores the component (when restore is set).
func platformFault(t *testing.T, name, what, component string, inject func(context.Context, clusters.FailureInjector) error, restore func(context.Context, *testing.T, *suite.Suite, clusters.FailureInjector), words ...string) {
	s := suite.RequireCluster(t)
	inj, ok := s.Cluster.(clusters.FailureInjector)
	if !ok {
		t.Skip("this cluster kind cannot kill or restart platform components")
	}
	sc := shortHPA(t, name, 60*time.Second)
	f := features.New(sc.Metadata.Name).Assess(what+" is the verdict", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
		defer suite.Recover(t)
		base := s.Baseline(t)
		res, d := runFault(ctx, t, s, sc, noScaleDownWait, readsMetric, 0, func() error { return inject(ctx, inj) })
		wantPlatformError(t, res, words...)
		suite.LogVerdict(t, what, d, string(res.ErrorKind)+" error: "+res.Error)
		if restore != nil {
			restore(context.WithoutCancel(ctx), t, s, inj)
		}
		s.CheckNothingLeft(ctx, t, base, component)
		return ctx
	}).Feature()
	s.Env.Test(t, f)
}

func wantPlatformError(t *testing.T, res results.Scenario, words ...string) {
	t.Helper()
	if res.Passed || res.ErrorKind != results.ErrorPlatform {
		t.Errorf("want a failed run with a platform error; got passed=%v kind=%q error=%q", res.Passed, res.ErrorKind, res.Error)
	}
	for _, w := range words {
		if !strings.Contains(res.Error, w) {
			t.Errorf("the error does not say %q: %q", w, res.Error)
		}
	}
}

// The app answering 5xx for 20 s of a 40 s load fails the error budget,
// and the check says the requests failed with 5xx.
func TestAppAnswers5xx(t *testing.T) {
	s := suite.RequireCluster(t)
	inj, ok := s.Cluster.(clusters.AppFaultInjector)
	if !ok {
		t.Skip("this cluster kind cannot make its apps fail")
	}
	sc := shortHPA(t, "fault-app-5xx", 40*time.Second)
	f := features.New(sc.Metadata.Name).Assess("5xx answers fail the error budget, named", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
		defer suite.Recover(t)
		base := s.Baseline(t)
		res, d := runFault(ctx, t, s, sc, noScaleDownWait, readsMetric, 0, func() error {
			inj.FailAppRequests(http.StatusInternalServerError, 20*time.Second)
			return nil
		})
		var rate *results.Check
		for i, c := range res.Checks {
			if c.Name == analysis.CheckErrorRate {
				rate = &res.Checks[i]
			}
		}
		if res.Passed || rate == nil || rate.Passed || !strings.Contains(rate.Detail, "http_5xx") {
			t.Errorf("want a failed %q check naming http_5xx; got passed=%v check %+v error %q", analysis.CheckErrorRate, res.Passed, rate, res.Error)
		} else {
			suite.LogVerdict(t, "app 5xx for 20 s", d, fmt.Sprintf("check %q failed: %s", rate.Name, rate.Detail))
		}
		s.CheckNothingLeft(ctx, t, base)
		return ctx
	}).Feature()
	s.Env.Test(t, f)
}

// metrics-server killed once the HPA reads its metric: the run stops with
// a platform error naming it and the missing CPU metric.
func TestMetricsServerKilled(t *testing.T) {
	platformFault(t, "fault-metrics-server", "metrics-server killed", "metrics-server",
		func(_ context.Context, inj clusters.FailureInjector) error { return kill(inj, "metrics-server") },
		func(ctx context.Context, t *testing.T, _ *suite.Suite, inj clusters.FailureInjector) {
			if err := inj.RestartComponent(ctx, "metrics-server"); err != nil {
				t.Errorf("restart metrics-server: %v", err)
			}
		}, "metrics-server", "no CPU metric")
}

// The API server restarted mid-run: the run stops with a platform error
// naming it (a run that went on could not say what its timeline missed),
// and the cluster serves again afterwards.
func TestAPIServerRestarted(t *testing.T) {
	platformFault(t, "fault-apiserver-restart", "API server restarted", "kube-apiserver",
		func(ctx context.Context, inj clusters.FailureInjector) error {
			return inj.RestartComponent(ctx, "kube-apiserver")
		},
		func(_ context.Context, t *testing.T, s *suite.Suite, _ clusters.FailureInjector) {
			if hc, ok := s.Cluster.(clusters.HealthChecker); ok {
				if err := hc.CheckComponents(); err != nil {
					t.Errorf("after the restart: %v", err)
				}
			}
		}, "kube-apiserver", "the Kubernetes API does not answer")
}

// The SQS emulator killed while messages are being sent: the run stops
// with a platform error naming it, and the report claims no message count
// it could not verify. Last: goaws is not started again.
func TestSQSEmulatorKilled(t *testing.T) {
	s := suite.RequireCluster(t)
	inj, ok := s.Cluster.(clusters.FailureInjector)
	if !ok {
		t.Skip("this cluster kind cannot kill platform components")
	}
	sc := suite.Scenario(t, "keda-sqs")
	sc.Metadata.Name = "fault-sqs-emulator"
	sc.Spec.Load.SQS.Messages = 300
	sc.Spec.Load.SQS.Rate = 2 // 15 s of sending
	sc.Spec.Expectations.ScaleDown = &scenario.ScaleDownExpectation{Replicas: ptr.To[int32](0), Within: scenario.Duration{Duration: time.Second}}
	f := features.New(sc.Metadata.Name).Assess("the SQS emulator's death is the verdict", func(ctx context.Context, t *testing.T, _ *envconf.Config) context.Context {
		defer suite.Recover(t)
		// KEDA's HPA exists right before the messages are sent; goaws dies
		// 5 s into the sending.
		opts := runner.Options{ScaleDownGrace: time.Millisecond, DrainTimeout: 30 * time.Second}
		base := s.Baseline(t)
		res, d := runFault(ctx, t, s, sc, opts, exists, 5*time.Second, func() error { return kill(inj, "goaws") })
		wantPlatformError(t, res, "goaws", "SQS queue is gone")
		m := res.Metrics
		if m.MessagesLost != nil && *m.MessagesLost == 0 {
			t.Errorf("messagesLost 0 claimed after the queue itself died")
		}
		t.Logf("messages: sent %s, processed %s, in queue %s, lost %s (absent: %v)", results.FormatCount(m.MessagesSent), results.FormatCount(m.MessagesProcessed),
			results.FormatCount(m.MessagesInQueue), results.FormatCount(m.MessagesLost), m.Absent)
		suite.LogVerdict(t, "SQS emulator (goaws) killed", d, string(res.ErrorKind)+" error: "+res.Error)
		s.CheckNothingLeft(ctx, t, base, "goaws", "redis") // the cluster starts its SQS side on first use
		return ctx
	}).Feature()
	s.Env.Test(t, f)
}

// kill SIGKILLs a platform component, as an OOM kill would.
func kill(inj clusters.FailureInjector, name string) error {
	pid, ok := inj.ComponentPID(name)
	if !ok {
		return fmt.Errorf("%s is not running", name)
	}
	return syscall.Kill(pid, syscall.SIGKILL)
}
