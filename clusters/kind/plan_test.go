package kind

import (
	"strings"
	"testing"

	"github.com/scalebench/scalebench/clusters"
)

func TestPlanCluster(t *testing.T) {
	cp, err := (&Provider{}).PlanCluster(clusters.Options{RunID: "run-abc"})
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(cp.Details, "\n")
	for _, s := range []string{"scalebench-abc", "node image: " + ShimKindImageRepo + ":" + DefaultShimVersion, "2 workers", "8081:80", "containerdConfigPatches"} {
		if !strings.Contains(text, s) {
			t.Errorf("plan does not say %q:\n%s", s, text)
		}
	}
	if !cp.HelmPlatform {
		t.Error("kind plan: platform not installed with Helm")
	}
	// A shim release without a kind image: plain node image plus the node installer.
	cp, err = (&Provider{}).PlanCluster(clusters.Options{Settings: clusters.Settings{NodeImage: ShimKindImageRepo + ":v0.20.0"}})
	if err != nil {
		t.Fatal(err)
	}
	text = strings.Join(cp.Details, "\n")
	for _, s := range []string{"node image: " + PlainNodeImage, NodeInstallerRepo + ":v0.20.0"} {
		if !strings.Contains(text, s) {
			t.Errorf("plan does not say %q:\n%s", s, text)
		}
	}
}
