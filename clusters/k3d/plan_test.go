package k3d

import (
	"strings"
	"testing"

	"github.com/scalebench/scalebench/clusters"
)

func TestPlanCluster(t *testing.T) {
	agents := 1
	cp, err := (&Provider{}).PlanCluster(clusters.Options{RunID: "run-abc", Settings: clusters.Settings{NodeImage: "example/k3d:v1", Agents: &agents, Ports: []string{"9090:80@loadbalancer"}}})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(cp.Details, "\n")
	for _, s := range []string{"scalebench-abc", "node image: example/k3d:v1", "1 server, 1 agents", "9090:80@loadbalancer", "http://localhost:9090"} {
		if !strings.Contains(text, s) {
			t.Errorf("plan does not say %q:\n%s", s, text)
		}
	}
	if !cp.HelmPlatform {
		t.Error("k3d plan: platform not installed with Helm")
	}
	bad := -1
	if _, err := (&Provider{}).PlanCluster(clusters.Options{Settings: clusters.Settings{Agents: &bad}}); err == nil {
		t.Error("no error for -1 agents")
	}
}
