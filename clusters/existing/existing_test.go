package existing

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/internal/real"
	"github.com/scalebench/scalebench/platform"
	"github.com/scalebench/scalebench/results"
)

// apiServer answers what Create asks before the platform: the version and one Ready node.
func apiServer(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/version":
			fmt.Fprint(w, `{"major":"1","minor":"35","gitVersion":"v1.35.0"}`)
		case "/api/v1/nodes":
			fmt.Fprint(w, `{"kind":"NodeList","apiVersion":"v1","items":[{"metadata":{"name":"n1"},"status":{"conditions":[{"type":"Ready","status":"True"}]}}]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	kc := filepath.Join(t.TempDir(), "kubeconfig")
	cfg := fmt.Sprintf("apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: %s\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n", srv.URL)
	if err := os.WriteFile(kc, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return kc
}

// fakeEnsure records the options and fails as the real one does when parts are missing and no install is allowed.
func fakeEnsure(got *platform.EnsureOptions) func(context.Context, *rest.Config, platform.EnsureOptions) (platform.Report, error) {
	return func(_ context.Context, _ *rest.Config, o platform.EnsureOptions) (platform.Report, error) {
		*got = o
		r := platform.Report{}
		for _, n := range platform.Names {
			r.After.Components = append(r.After.Components, platform.Presence{Component: n, Present: o.Install || n == platform.KEDA, Version: "1.0.0"})
		}
		if !o.Install {
			return r, fmt.Errorf("platform: the cluster lacks cert-manager, spin-operator, http-add-on: %s", o.Hint)
		}
		return r, nil
	}
}

func TestCreateWithoutInstallPlatformNamesMissingPartsAndFlag(t *testing.T) {
	defer func(e func(context.Context, *rest.Config, platform.EnsureOptions) (platform.Report, error)) {
		real.Ensure = e
	}(real.Ensure)
	var got platform.EnsureOptions
	real.Ensure = fakeEnsure(&got)
	kc := apiServer(t)
	_, err := (&Provider{}).Create(context.Background(), clusters.Options{RunID: "r1", Settings: clusters.Settings{Kubeconfig: kc}})
	if err == nil || !strings.Contains(err.Error(), "cert-manager") || !strings.Contains(err.Error(), "--install-platform") {
		t.Fatalf("err %v: want the missing parts and the flag", err)
	}
	if got.Install {
		t.Error("install allowed without --install-platform")
	}
}

func TestCreateWithInstallPlatform(t *testing.T) {
	defer func(e func(context.Context, *rest.Config, platform.EnsureOptions) (platform.Report, error)) {
		real.Ensure = e
	}(real.Ensure)
	var got platform.EnsureOptions
	real.Ensure = fakeEnsure(&got)
	kc := apiServer(t)
	cl, err := (&Provider{}).Create(context.Background(), clusters.Options{RunID: "r1", Settings: clusters.Settings{Kubeconfig: kc, InstallPlatform: true, PlatformVersions: []string{"keda=2.21.0"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !got.Install || got.RunID != "r1" || got.Plan.Versions.KEDA != "2.21.0" {
		t.Errorf("ensure options %+v", got)
	}
	env := cl.Environment()
	if len(env.Components) != len(platform.Names) || env.Provider != "existing" || env.KubernetesVersion != "v1.35.0" {
		t.Errorf("environment %+v", env)
	}
	if err := cl.Delete(context.Background()); err != nil {
		t.Errorf("delete: %v", err)
	}
}

// The environment is what the run found, completed by what the cluster's
// ConfigMap says: its emulated parts and knobs, the versions detection
// could not read (said so), and components detection does not look for.
func TestEnvironmentMergesTheClusterInfo(t *testing.T) {
	base := &real.Cluster{Kind: "existing", Knobs: map[string]string{"api server": "https://x"}, Parts: []clusters.PlatformPart{
		{Name: platform.KEDA, Present: true, Detail: "found: CRD scaledobjects.keda.sh"},
		{Name: platform.SpinOperator, Present: true, Version: "0.6.1", Detail: "found: Helm release"},
		{Name: platform.CertManager, Detail: "missing: CRD certificates.cert-manager.io"},
	}}
	plain := (&Cluster{Cluster: base}).Environment()
	if plain.Components[platform.KEDA] != real.UnknownVersion || len(plain.Emulated) != 0 || plain.Platform[platform.CertManager] == "" {
		t.Errorf("without a ConfigMap: %+v", plain)
	}
	c := &Cluster{Cluster: base, info: &Info{Provider: "emulated", Environment: results.Environment{
		Emulated:   []string{"kubelet and nodes (KWOK)"},
		Knobs:      map[string]string{"hpa.syncPeriod": "15s", "api server": "declared"},
		Components: map[string]string{platform.KEDA: "2.20.2", platform.SpinOperator: "0.5.0", "kube-apiserver": "v1.35.4"},
	}}}
	env := c.Environment()
	if env.Components[platform.KEDA] != "2.20.2" || !strings.Contains(env.Platform[platform.KEDA], "as the ConfigMap kube-public/scalebench-cluster says") {
		t.Errorf("keda: version %q, platform %q: want the declared version, said so", env.Components[platform.KEDA], env.Platform[platform.KEDA])
	}
	if env.Components[platform.SpinOperator] != "0.6.1" {
		t.Errorf("spin-operator %q: a detected version wins over the declared one", env.Components[platform.SpinOperator])
	}
	if env.Components["kube-apiserver"] != "v1.35.4" || env.Knobs["hpa.syncPeriod"] != "15s" || env.Knobs["api server"] != "https://x" {
		t.Errorf("components %v knobs %v", env.Components, env.Knobs)
	}
	if _, ok := env.Components[platform.CertManager]; ok || len(env.Emulated) != 1 {
		t.Errorf("components %v emulated %v", env.Components, env.Emulated)
	}
	if _, err := (&Cluster{Cluster: base}).SQSEnv(context.Background()); err == nil || !strings.Contains(err.Error(), InfoName) {
		t.Errorf("SQSEnv without a ConfigMap: %v, want an error naming it", err)
	}
}
