package kube

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// A stand-in API server for pods and pods/log: client-go's fake clientset answers every log request with
// "fake logs", so the failure paths and the request's bounds need a server.
type logServer struct {
	pods map[string][]corev1.Pod // namespace → pods
	logs map[string]string       // "ns/pod/container[/previous]" → log; missing: 500
	mu   sync.Mutex
	got  []string // the log requests' queries
}

func (s *logServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/") // api v1 namespaces NS pods [POD log]
	if len(parts) < 5 || parts[2] != "namespaces" || parts[4] != "pods" {
		http.NotFound(w, r)
		return
	}
	ns := parts[3]
	if len(parts) == 5 {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(corev1.PodList{TypeMeta: metav1.TypeMeta{Kind: "PodList", APIVersion: "v1"}, Items: s.pods[ns]})
		return
	}
	q := r.URL.Query()
	s.mu.Lock()
	s.got = append(s.got, r.URL.RawQuery)
	s.mu.Unlock()
	key := ns + "/" + parts[5] + "/" + q.Get("container")
	if q.Get("previous") == "true" {
		key += "/previous"
	}
	l, ok := s.logs[key]
	if !ok {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		json.NewEncoder(w).Encode(metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"}, Status: "Failure", Code: 500,
			Message: "Get \"https://10.0.0.9:10250/containerLogs/" + ns + "/" + parts[5] + "/" + q.Get("container") + "\": dial tcp 10.0.0.9:10250: connect: connection refused"})
		return
	}
	w.Write([]byte(l))
}

func pod(ns, name string, restarts int32, containers ...string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	for _, c := range containers {
		p.Spec.Containers = append(p.Spec.Containers, corev1.Container{Name: c})
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, corev1.ContainerStatus{Name: c, RestartCount: restarts})
	}
	return p
}

func TestPodLogs(t *testing.T) {
	srv := &logServer{
		pods: map[string][]corev1.Pod{
			"keda":          {pod("keda", "keda-operator-1", 1, "keda-operator"), pod("keda", "keda-add-ons-http-interceptor-1", 0, "interceptor")},
			"spin-operator": {pod("spin-operator", "spin-operator-controller-manager-1", 0, "manager")},
		},
		logs: map[string]string{
			"keda/keda-operator-1/keda-operator":          "2026-12-02T07:00:00Z operator started\n",
			"keda/keda-operator-1/keda-operator/previous": "2026-12-02T06:59:00Z panic: boom\n",
			// the interceptor's kubelet does not answer: no entry
			"spin-operator/spin-operator-controller-manager-1/manager": "2026-12-02T07:00:01Z reconciling\n",
		},
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	c, err := kubernetes.NewForConfig(&rest.Config{Host: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	err = PodLogs(context.Background(), c, []string{"cert-manager", "keda", "spin-operator"}, dir)
	if err == nil || !strings.Contains(err.Error(), "keda/keda-add-ons-http-interceptor-1 container interceptor") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err = %v, want the unreadable interceptor log named with the API server's reason", err)
	}
	for file, want := range map[string]string{
		"keda/keda-operator-1.keda-operator.log":                       "operator started",
		"keda/keda-operator-1.keda-operator.previous.log":              "panic: boom",
		"spin-operator/spin-operator-controller-manager-1.manager.log": "reconciling",
		LogErrorsFile: "3 logs written, 1 could not be read:\nlog of keda/keda-add-ons-http-interceptor-1 container interceptor",
	} {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s = %q, %v; want it to contain %q", file, b, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "keda", "keda-add-ons-http-interceptor-1.interceptor.log")); !os.IsNotExist(err) {
		t.Errorf("a log that could not be read left a file: %v", err)
	}
	// Every request is bounded.
	for _, q := range srv.got {
		if !strings.Contains(q, "tailLines=2000") || !strings.Contains(q, "limitBytes=2097152") {
			t.Errorf("log request %q is not bounded by tailLines and limitBytes", q)
		}
	}
	if len(srv.got) != 4 {
		t.Errorf("%d log requests, want 4 (3 containers, 1 previous instance): %v", len(srv.got), srv.got)
	}

	// Nothing unreadable: no errors file, no error.
	dir = t.TempDir()
	if err := PodLogs(context.Background(), c, []string{"spin-operator", "no-such-namespace"}, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, LogErrorsFile)); !os.IsNotExist(err) {
		t.Errorf("errors file written without errors: %v", err)
	}
}
