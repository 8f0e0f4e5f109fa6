package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const cpuScenario = `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: p}
spec:
  workload: {name: app, image: x, resources: {limits: {cpu: 500m}, requests: {cpu: 250m}}}
  autoscaler: {type: hpa, minReplicas: 1, maxReplicas: 4, cpuUtilization: 60}
  load:
    type: cpu
    cpu:
      profile:
        - {utilization: 20%, for: 1m}
        - {utilization: 180%, for: 3m}
        - {utilization: 10, for: 5m}
`

func TestCPUProfile(t *testing.T) {
	s, err := Parse([]byte(cpuScenario), "t")
	if err != nil {
		t.Fatal(err)
	}
	steps, stop, peak := s.CPUProfile()
	if len(steps) != 3 || peak != 1 || stop != 4*time.Minute {
		t.Fatalf("steps %+v, peak %d, stop %s; want the 180%% step as the peak and the load end at 4m", steps, peak, stop)
	}
	// 180 % of a 250m request is 450m, under the 500m limit (ceiling 200 %).
	if steps[1].Effective != 180 || steps[2].Utilization != 10 || s.Spec.Workload.CPUCeiling() != 200 {
		t.Errorf("steps %+v ceiling %v", steps, s.Spec.Workload.CPUCeiling())
	}
	s.Spec.Workload.Resources.Requests.CPU = "500m" // ceiling 100 %
	if steps, _, _ := s.CPUProfile(); steps[1].Effective != 100 {
		t.Errorf("180 %% with request = limit reaches %v %%, want 100", steps[1].Effective)
	}
	// A profile that ends above the target has its load end at its end.
	s2, err := Parse([]byte(strings.Replace(cpuScenario, "{utilization: 10, for: 5m}", "{utilization: 70%, for: 5m}", 1)), "t")
	if err != nil {
		t.Fatal(err)
	}
	if _, stop, _ := s2.CPUProfile(); stop != 9*time.Minute {
		t.Errorf("stop %s, want the profile's end 9m", stop)
	}
}

func TestCPUProfileErrors(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"bad percent", "20%", "lots", `spec.load.cpu.profile[0].utilization: Invalid value: "lots": want a percentage like "180%"`},
		{"too high", "180%", "1200%", `spec.load.cpu.profile[1].utilization: Invalid value: "1200%": a percentage of the pods' CPU request, 0%..1000%`},
		{"short step", "for: 3m", "for: 0s", `spec.load.cpu.profile[1].for: Invalid value: "0s": at least 1s`},
		{"http autoscaler", "{type: hpa, minReplicas: 1, maxReplicas: 4, cpuUtilization: 60}", "{type: keda-http, hosts: [a.example]}", `spec.load.type: Invalid value: "cpu": a CPU profile needs an autoscaler that reads CPU utilization (hpa, keda-cpu), not keda-http`},
		{"no cpu", "    cpu:\n", "    http: {connections: 1}\n    x:\n", `spec.load.cpu.profile: Required value: at least one step`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(strings.Replace(cpuScenario, tc.from, tc.to, 1)), "t")
			var ve *ValidationError
			if !errors.As(err, &ve) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v\nwant it to contain %s", err, tc.want)
			}
		})
	}
}

func TestManifestsExclusive(t *testing.T) {
	doc := `apiVersion: scalebench.dev/v1alpha1
kind: Scenario
metadata: {name: m}
spec:
  workload: {manifests: ./deploy, name: app, emulation: {model: hello}}
  autoscaler: {type: hpa}
  load: {type: cpu, cpu: {profile: [{utilization: 90%, for: 1m}]}}
`
	_, err := Parse([]byte(doc), "t")
	want := `scenario t is invalid:
  - spec.autoscaler: Forbidden: set with workload.manifests: the autoscaler comes from the manifests (an HPA, ScaledObject or HTTPScaledObject)
  - spec.workload.name: Forbidden: set with workload.manifests: the manifests say it`
	if err == nil || err.Error() != want {
		t.Errorf("err\n%v\nwant\n%s", err, want)
	}
	s, err := Parse([]byte(strings.Replace(strings.Replace(doc, ", name: app", "", 1), "  autoscaler: {type: hpa}\n", "", 1)), "t")
	if err != nil {
		t.Fatal(err)
	}
	if s.Spec.Workload.Manifests != "./deploy" || s.Spec.Load.Type != LoadCPU || s.Manifests != nil {
		t.Errorf("unresolved scenario %+v", s.Spec)
	}
}
