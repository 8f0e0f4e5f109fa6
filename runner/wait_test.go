package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/timeline"
	"github.com/scalebench/scalebench/workloads"
)

// waitRun is a run whose clients are client-go fakes holding objs.
func waitRun(t *testing.T, readyTimeout time.Duration, objs ...runtime.Object) *run {
	t.Helper()
	sc := testScenario(t, "wait")
	return &run{
		opts: Options{ReadyTimeout: readyTimeout}, s: sc, rec: timeline.NewRecorder(),
		c:   &kube.Clients{Kube: fake.NewClientset(objs...)},
		set: &workloads.Set{DeploymentName: "app", AutoscalerHPA: "app"},
	}
}

func deployment(ns string, spec, ready int32) *appsv1.Deployment {
	return &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns, Generation: 2},
		Spec:   appsv1.DeploymentSpec{Replicas: &spec},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, ReadyReplicas: ready, UpdatedReplicas: ready}}
}

func TestWaitDeploymentTimeoutSaysWhatItSaw(t *testing.T) {
	r := waitRun(t, time.Second)
	r.c.Kube = fake.NewClientset(deployment(r.s.Spec.Namespace, 3, 1))
	err := r.waitDeployment(context.Background(), "workload ready", 700*time.Millisecond, func(d *appsv1.Deployment) bool { return d.Status.ReadyReplicas >= 3 })
	if KindOf(err) != results.ErrorTimeout {
		t.Fatalf("want a timeout, got %q: %v", KindOf(err), err)
	}
	for _, want := range []string{"workload ready", "not within 700ms", "Deployment app: spec 3, ready 1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if err := r.waitDeployment(context.Background(), "one ready", time.Second, func(d *appsv1.Deployment) bool { return d.Status.ReadyReplicas >= 1 }); err != nil {
		t.Errorf("condition already true: %v", err)
	}
}

func TestWaitEndsWithAPlatformFailure(t *testing.T) {
	r := waitRun(t, time.Minute)
	ctx, cancel := context.WithCancelCause(context.Background())
	died := errorf(results.ErrorPlatform, "platform component failed: component %q exited", "keda-operator")
	time.AfterFunc(100*time.Millisecond, func() { cancel(died) })
	start := time.Now()
	err := r.waitAutoscaler(ctx)
	if !errors.Is(err, died) || KindOf(err) != results.ErrorPlatform || !strings.Contains(err.Error(), "not created yet") {
		t.Fatalf("want the component failure with the last state, got %q: %v", KindOf(err), err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the wait outlived the failure by %s", d)
	}
}

func TestWaitAutoscalerReadsScalingActive(t *testing.T) {
	r := waitRun(t, 700*time.Millisecond)
	hpa := &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: r.s.Spec.Namespace},
		Status: autoscalingv2.HorizontalPodAutoscalerStatus{Conditions: []autoscalingv2.HorizontalPodAutoscalerCondition{
			{Type: autoscalingv2.ScalingActive, Status: corev1.ConditionFalse, Reason: "FailedGetResourceMetric", Message: "no metrics returned"}}}}
	r.c.Kube = fake.NewClientset(hpa)
	err := r.waitAutoscaler(context.Background())
	if KindOf(err) != results.ErrorTimeout || !strings.Contains(err.Error(), "ScalingActive=False FailedGetResourceMetric: no metrics returned") {
		t.Fatalf("want a timeout naming the condition, got %v", err)
	}
	hpa.Status.Conditions[0].Status = corev1.ConditionTrue
	r.c.Kube = fake.NewClientset(hpa)
	if err := r.waitAutoscaler(context.Background()); err != nil {
		t.Errorf("ScalingActive true: %v", err)
	}
}

// fakeWatchdog reports one component death.
type fakeWatchdog struct {
	fakeCluster
	ended chan struct{}
}

func (w *fakeWatchdog) Failures(ctx context.Context) <-chan error {
	ch := make(chan error, 1)
	ch <- errors.New(`component "keda-operator" exited unexpectedly`)
	go func() { <-ctx.Done(); close(w.ended) }()
	return ch
}

// CheckComponents takes a moment, so the death is reported meanwhile.
func (w *fakeWatchdog) CheckComponents() error {
	time.Sleep(200 * time.Millisecond)
	return nil
}

func TestWatchdogFailsTheRunAndUnsubscribes(t *testing.T) {
	w := &fakeWatchdog{ended: make(chan struct{})}
	old := newClients
	t.Cleanup(func() { newClients = old })
	// What failed next is reported after the component death that caused it.
	newClients = func(*rest.Config, ...kube.WarningFunc) (*kube.Clients, error) {
		return nil, errors.New("unreachable")
	}
	res := Run(context.Background(), Options{Cluster: w}, testScenario(t, "watchdog"))
	select {
	case <-w.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the watchdog subscription outlived the run")
	}
	if res.Passed || res.ErrorKind != results.ErrorPlatform || !strings.HasPrefix(res.Error, "platform component failed: component \"keda-operator\"") ||
		!strings.Contains(res.Error, "unreachable") {
		t.Fatalf("want a platform failure leading with keda-operator, got %q: %s", res.ErrorKind, res.Error)
	}
}
