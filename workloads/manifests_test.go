package workloads

import (
	"fmt"
	"path/filepath"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/scalebench/scalebench/manifests"
	"github.com/scalebench/scalebench/scenario"
)

// The user's objects are applied as they are, in the run's namespace, with
// only the executor, the emulation annotations and the ingress route added.
func TestRenderManifests(t *testing.T) {
	s := &scenario.Scenario{Metadata: scenario.Metadata{Name: "m"}, Source: "t",
		Spec: scenario.Spec{Namespace: "run-ns", Workload: scenario.Workload{Manifests: "-", Emulation: scenario.Emulation{Model: "cpu-load-gen"}},
			Load: scenario.Load{Type: scenario.LoadCPU, CPU: &scenario.CPULoad{Profile: []scenario.CPUStep{{Utilization: scenario.Percent{Value: 90}, For: scenario.D(60e9)}}}}}}
	s.Spec.Workload.Manifests = filepath.Join("..", "fixtures", "manifests", "scaffold-hpa")
	if err := manifests.Fill(s, nil); err != nil {
		t.Fatal(err)
	}
	set, err := Render(s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := kinds(set.Workload); got != "SpinAppExecutor,SpinApp,Ingress" {
		t.Errorf("workload kinds %s", got)
	}
	if got := kinds(set.Autoscaler); got != "HorizontalPodAutoscaler" || set.AutoscalerHPA != "cpu-load-gen-autoscaler" || set.PodSelector != SpinAppNameLabel+"=cpu-load-gen" {
		t.Errorf("autoscaler %s HPA %s selector %s", got, set.AutoscalerHPA, set.PodSelector)
	}
	app := set.Workload[1]
	if app.GetNamespace() != "run-ns" || set.Autoscaler[0].GetNamespace() != "run-ns" {
		t.Errorf("namespaces %s, %s; want run-ns", app.GetNamespace(), set.Autoscaler[0].GetNamespace())
	}
	ann, _, _ := unstructured.NestedStringMap(app.Object, "spec", "podAnnotations")
	lim, _, _ := unstructured.NestedString(app.Object, "spec", "resources", "limits", "cpu")
	_, hasReq, _ := unstructured.NestedFieldNoCopy(app.Object, "spec", "resources", "requests")
	if ann[AnnotationModel] != "cpu-load-gen" || lim != "500m" || hasReq {
		t.Errorf("SpinApp podAnnotations %v, limits.cpu %q, requests set %v: want the emulation model added and the resources as written", ann, lim, hasReq)
	}
	min, _, _ := unstructured.NestedFieldNoCopy(set.Autoscaler[0].Object, "spec", "minReplicas")
	if fmt.Sprint(min) != "2" {
		t.Errorf("HPA minReplicas %d, want the manifests' 2", min)
	}
	// The fixtures are not changed by rendering.
	if ns := s.Manifests.Objects[0].GetNamespace(); ns != "" {
		t.Errorf("the manifests' object got namespace %q", ns)
	}
}
