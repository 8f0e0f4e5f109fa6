package runner

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/timeline"
)

// A failed check leaves, per scenario, the autoscaler's status history, the
// events and markers, and the applied manifests with Secrets redacted.
func TestSessionWritesScenarioDiagnostics(t *testing.T) {
	out := t.TempDir()
	p := &fakeProvider{}
	secret := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "app-sqs"}, "stringData": map[string]any{"AWS_SECRET_ACCESS_KEY": "leak-me-not"}}}
	hpa := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
		"metadata": map[string]any{"name": "cpu-load-gen"}}}
	_, err := RunSession(context.Background(), SessionConfig{Provider: p, Out: out,
		RunScenario: func(_ context.Context, o Options, s *scenario.Scenario) results.Scenario {
			o.Applied([]*unstructured.Unstructured{secret})
			o.Applied([]*unstructured.Unstructured{hpa})
			return results.Scenario{Name: s.Metadata.Name, Steps: []results.Step{}, Checks: []results.Check{{Name: "scale-up", Detail: "too slow"}},
				Timeline: []timeline.Event{
					{Kind: timeline.KindAutoscaler, At: time.Second, Object: "HorizontalPodAutoscaler/default/cpu-load-gen", Autoscaler: &timeline.AutoscalerStatus{Current: 1, Desired: 4, Metric: "450%"}},
					{Kind: timeline.KindCondition, At: 2 * time.Second, Object: "ScaledObject/default/cpu-scaling", Condition: &timeline.Condition{Type: "Ready", Status: "False", Reason: "ScaledObjectCheckFailed"}},
					{Kind: timeline.KindKubeEvent, At: 3 * time.Second, KubeEvent: &timeline.KubeEvent{Reason: "FailedGetResourceMetric"}},
					{Kind: timeline.KindMarker, At: 4 * time.Second, Marker: &timeline.Marker{Name: timeline.MarkerFault, Detail: "metrics-server is gone"}},
					{Kind: timeline.KindPod, At: 5 * time.Second, Pod: &timeline.Pod{Name: "p", Transition: timeline.PodReady}},
				}}
		}},
		Plan{Scenarios: []*scenario.Scenario{testScenario(t, "hpa/odd name")}})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(out, DiagnosticsDir, "scenarios", "01-hpa_odd_name")
	read := func(name string) string {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	if h := read(DiagnosticsAutoscalerHistory); strings.Count(h, "\n") != 2 || !strings.Contains(h, `"desired":4`) || !strings.Contains(h, "ScaledObjectCheckFailed") {
		t.Errorf("autoscaler history:\n%s", h)
	}
	if e := read(DiagnosticsEvents); strings.Count(e, "\n") != 2 || !strings.Contains(e, "FailedGetResourceMetric") || !strings.Contains(e, "metrics-server is gone") || strings.Contains(e, `"pod"`) {
		t.Errorf("events:\n%s", e)
	}
	m := read(DiagnosticsManifests)
	if strings.Contains(m, "leak-me-not") || !strings.Contains(m, "AWS_SECRET_ACCESS_KEY: <redacted>") || !strings.Contains(m, "kind: HorizontalPodAutoscaler") {
		t.Errorf("manifests (a Secret's values redacted, every object present):\n%s", m)
	}
}
