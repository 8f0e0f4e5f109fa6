package loadjob

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/scalebench/scalebench/kube"
)

func loadPod(name string, phase corev1.PodPhase, waiting *corev1.ContainerStateWaiting) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{LabelJob: "app-loadgen"}},
		Status: corev1.PodStatus{Phase: phase}}
	if waiting != nil {
		p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: Container, State: corev1.ContainerState{Waiting: waiting}}}
	}
	return p
}

// Failure paths against a fake API (the happy path runs on the emulated
// cluster's real API server: clusters/emulated/loadjob_integration_test.go).
func TestWaitRunningNamesAFailedPod(t *testing.T) {
	cs := fake.NewClientset(loadPod("app-loadgen-0-a", corev1.PodRunning, nil),
		func() *corev1.Pod {
			p := loadPod("app-loadgen-1-b", corev1.PodFailed, nil)
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: Container, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", Message: "bench: loadgen: bad flag"}}}}
			return p
		}())
	g := &Generator{Clients: &kube.Clients{Kube: cs}}
	_, err := g.waitRunning(context.Background(), Spec{Name: "app-loadgen", Namespace: "ns", Parallelism: 2, StartAt: time.Now().Add(10 * time.Second)})
	if err == nil || !strings.Contains(err.Error(), "pod app-loadgen-1-b failed") || !strings.Contains(err.Error(), "exited 2: Error bench: loadgen: bad flag") {
		t.Errorf("err = %v, want the failed pod named with its exit", err)
	}
}

func TestWaitRunningNamesPodsNotRunningByTheBarrier(t *testing.T) {
	cs := fake.NewClientset(loadPod("app-loadgen-0-a", corev1.PodRunning, nil),
		loadPod("app-loadgen-1-b", corev1.PodPending, &corev1.ContainerStateWaiting{Reason: "ImagePullBackOff", Message: "Back-off pulling image"}))
	g := &Generator{Clients: &kube.Clients{Kube: cs}}
	_, err := g.waitRunning(context.Background(), Spec{Name: "app-loadgen", Namespace: "ns", Parallelism: 3, StartAt: time.Now().Add(1500 * time.Millisecond)})
	for _, want := range []string{"not running by the start barrier", "1 of 3 pods running", "app-loadgen-1-b (Pending, container loadgen waiting: ImagePullBackOff Back-off pulling image)", "1 not created"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	// All running: their names, sorted.
	cs = fake.NewClientset(loadPod("app-loadgen-1-b", corev1.PodRunning, nil), loadPod("app-loadgen-0-a", corev1.PodRunning, nil))
	g = &Generator{Clients: &kube.Clients{Kube: cs}}
	pods, err := g.waitRunning(context.Background(), Spec{Name: "app-loadgen", Namespace: "ns", Parallelism: 2, StartAt: time.Now().Add(10 * time.Second)})
	if err != nil || strings.Join(pods, ",") != "app-loadgen-0-a,app-loadgen-1-b" {
		t.Errorf("pods %v, err %v", pods, err)
	}
}
