package manifests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/scenario"
)

const cpuProfileScenario = `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: mine}
spec:
  workload:
    manifests: %s
  load:
    type: cpu
    cpu: {profile: [{utilization: 20%%, for: 1m}, {utilization: 180%%, for: 3m}, {utilization: 10%%, for: 5m}]}
`

func writeScenario(t *testing.T, dir, manifests string) string {
	t.Helper()
	p := filepath.Join(dir, "scenario.yaml")
	if err := os.WriteFile(p, []byte(strings.ReplaceAll(strings.Replace(cpuProfileScenario, "%s", manifests, 1), "%%", "%")), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A scenario file's workload.manifests is read relative to the file, and
// the scaffold's own numbers become the scenario's autoscaler.
func TestResolveScenarioWithManifests(t *testing.T) {
	abs, err := filepath.Abs(filepath.Join("..", "fixtures", "manifests", "scaffold-hpa"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(abs, filepath.Join(dir, "deploy")); err != nil {
		t.Fatal(err)
	}
	s, err := Resolve(writeScenario(t, dir, "./deploy"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a := s.Spec.Autoscaler
	if a.Type != scenario.HPA || *a.MinReplicas != 2 || a.MaxReplicas != 3 || *a.CPUUtilization != 60 {
		t.Errorf("autoscaler %+v, want the scaffold's hpa 2..3 at 60 %%", a)
	}
	m := s.Manifests
	if m == nil || len(m.Objects) != 2 || m.HPAName != "cpu-load-gen-autoscaler" || s.HPAName() != "cpu-load-gen-autoscaler" || m.AutoscalerKind != "HorizontalPodAutoscaler" {
		t.Fatalf("manifests %+v", m)
	}
	w := s.Spec.Workload
	if w.Kind != scenario.WorkloadSpinApp || w.Name != "cpu-load-gen" || w.Resources.Requests.CPU != "500m" || w.Emulation.Model != scenario.ModelCPULoadGen || w.Manifests != "./deploy" {
		t.Errorf("workload %+v", w)
	}
	if s.Spec.Load.Type != scenario.LoadCPU || s.Spec.Expectations.ScaleUp != nil {
		t.Errorf("load %+v expectations %+v (derived only at run time)", s.Spec.Load, s.Spec.Expectations)
	}
}

// What cannot run is named through the scenario too; stdin works; a CPU
// profile for an HTTP autoscaler is refused naming the load.
func TestResolveScenarioErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Resolve(writeScenario(t, dir, "./missing"), nil)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing manifests: %v", err)
	}
	bad := strings.Replace(spinApp, "enableAutoscaling: true", "enableAutoscaling: true\n  replicas: 2", 1) + hpa
	_, err = Resolve(writeScenario(t, dir, `"-"`), strings.NewReader(bad))
	var me *Error
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "SpinApp/app.spec.replicas: Forbidden") {
		t.Errorf("replicas with enableAutoscaling from stdin: %v", err)
	}
	httpSO := spinApp + `---
apiVersion: http.keda.sh/v1alpha1
kind: HTTPScaledObject
metadata: {name: web}
spec:
  hosts: [app.example]
  scaleTargetRef: {name: app, service: app, port: 80}
  replicas: {min: 0, max: 5}
`
	_, err = Resolve(writeScenario(t, dir, `"-"`), strings.NewReader(httpSO))
	var ve *scenario.ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), `spec.load.type: Invalid value: "cpu": a CPU profile needs an autoscaler that reads CPU utilization (hpa, keda-cpu), not keda-http`) {
		t.Errorf("cpu profile for keda-http: %v", err)
	}
}

// An HPA whose only metric is memory has nothing scalebench can drive.
func TestHPAMemoryOnly(t *testing.T) {
	doc := spinApp + strings.Replace(hpa, "resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}", "resource: {name: memory, target: {type: Utilization, averageUtilization: 60}}", 1)
	_, err := Parse([]byte(doc), "t")
	want := "HorizontalPodAutoscaler/app-autoscaler.spec.metrics: Required value: no metric scalebench can drive: it drives CPU through the data plane; add a Resource cpu Utilization metric"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v\nwant %s", err, want)
	}
}

// An SQS ScaledObject from manifests is refused, naming it: the run wires
// its own queue.
func TestResolveScenarioSQS(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata: {name: app}
spec:
  template: {spec: {containers: [{name: app, image: x}]}}
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: so}
spec:
  scaleTargetRef: {name: app}
  maxReplicaCount: 5
  triggers:
  - type: aws-sqs-queue
    metadata: {queueURL: "https://sqs/q", queueLength: "5"}
`
	_, err := Resolve(writeScenario(t, t.TempDir(), `"-"`), strings.NewReader(doc))
	if err == nil || !strings.Contains(err.Error(), "ScaledObject/so.spec.triggers: Forbidden: an aws-sqs-queue trigger from manifests cannot run yet") {
		t.Errorf("err %v", err)
	}
}
