package real

import (
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/platform"
)

// fakeEnsure stands in for platform.EnsureInstalled: the cluster has keda; the run installs the rest.
func fakeEnsure(got *platform.EnsureOptions, err error) func(context.Context, *rest.Config, platform.EnsureOptions) (platform.Report, error) {
	return func(_ context.Context, _ *rest.Config, o platform.EnsureOptions) (platform.Report, error) {
		*got = o
		only := []string{platform.CertManager, platform.SpinOperator, platform.HTTPAddOn}
		inst, perr := platform.NewPlan(platform.Options{Versions: o.Plan.Versions, Only: only})
		if perr != nil {
			return platform.Report{}, perr
		}
		r := platform.Report{Installed: inst}
		full, perr := platform.NewPlan(o.Plan)
		if perr != nil {
			return platform.Report{}, perr
		}
		for _, c := range full.Components {
			n := c.Name
			p := platform.Presence{Component: n, Present: err == nil, Version: o.Plan.Versions.Of(n), Evidence: []string{"Deployment x"}, Missing: []string{"CRD y"}}
			if n == platform.KEDA {
				p.Present, p.Version = true, "2.19.0"
				p.Release, p.ReleaseNamespace = "keda", "autoscalers" // the user's KEDA, elsewhere
			}
			r.After.Components = append(r.After.Components, p)
		}
		return r, err
	}
}

func TestEnsurePlatformRecordsPartsAndVersions(t *testing.T) {
	var got platform.EnsureOptions
	defer func(e func(context.Context, *rest.Config, platform.EnsureOptions) (platform.Report, error)) {
		Ensure = e
	}(Ensure)
	Ensure = fakeEnsure(&got, nil)
	torn := false
	cl := &Cluster{Kind: "k3d", Teardown: func(context.Context) error { torn = true; return nil }}
	opts := clusters.Options{RunID: "run-1", Settings: clusters.Settings{PlatformVersions: []string{"http-add-on=0.14.0"}}}
	if err := cl.EnsurePlatform(context.Background(), opts, PlatformSettings{Install: true}); err != nil {
		t.Fatal(err)
	}
	if got.RunID != "run-1" || !got.Install || got.Plan.Versions.HTTPAddOn != "0.14.0" {
		t.Errorf("ensure options %+v: want the run id, install allowed and the version override", got)
	}
	env := cl.Environment()
	if env.Components[platform.HTTPAddOn] != "0.14.0" || env.Components[platform.KEDA] != "2.19.0" {
		t.Errorf("environment components %v", env.Components)
	}
	for _, p := range cl.Platform() {
		if want := p.Name != platform.KEDA; p.InstalledByRun != want || !p.Present {
			t.Errorf("part %+v: installed by run %v, want %v", p, p.InstalledByRun, want)
		}
	}
	// A created cluster: its deletion removes the platform; Teardown is the provider's own.
	if err := cl.Delete(context.Background()); err != nil || !torn {
		t.Errorf("delete: %v, torn down %v", err, torn)
	}
	// Diagnostics read the pods' logs where the plan puts the platform and where its releases were found.
	if got := strings.Join(cl.LogNamespaces, ","); got != "autoscalers,cert-manager,keda,spin-operator" {
		t.Errorf("log namespaces %s", got)
	}

	// A keda-sqs run adds Valkey and LocalStack to the plan, and their namespace to the logs.
	cl = &Cluster{Kind: "kind"}
	opts.NeedsSQS = true
	if err := cl.EnsurePlatform(context.Background(), opts, PlatformSettings{Install: true}); err != nil {
		t.Fatal(err)
	}
	if !got.Plan.SQS || !cl.hasPart(platform.Valkey) || !cl.hasPart(platform.LocalStack) {
		t.Errorf("ensure options %+v, parts %+v: want the SQS components planned", got.Plan, cl.Parts)
	}
	if got := strings.Join(cl.LogNamespaces, ","); got != "autoscalers,cert-manager,keda,scalebench-sqs,spin-operator" {
		t.Errorf("log namespaces with keda-sqs %s", got)
	}
}

func TestEnsurePlatformFailureKeepsUninstallOnDelete(t *testing.T) {
	var got platform.EnsureOptions
	defer func(e func(context.Context, *rest.Config, platform.EnsureOptions) (platform.Report, error)) {
		Ensure = e
	}(Ensure)
	Ensure = fakeEnsure(&got, errors.New("platform: the cluster lacks cert-manager: pass --install-platform"))
	cl := &Cluster{Kind: "existing"}
	err := cl.EnsurePlatform(context.Background(), clusters.Options{RunID: "run-1"}, PlatformSettings{Hint: "pass --install-platform", UninstallOnDelete: true})
	if err == nil || !strings.Contains(err.Error(), "existing cluster") || !strings.Contains(err.Error(), "--install-platform") {
		t.Fatalf("err %v", err)
	}
	if got.Install || got.Hint != "pass --install-platform" {
		t.Errorf("ensure options %+v", got)
	}
	if cl.Teardown == nil {
		t.Error("no teardown: what the run installed before failing would stay on a cluster it does not own")
	}
	for _, p := range cl.Platform() {
		if p.Name != platform.KEDA && (p.Present || !strings.Contains(p.Detail, "missing")) {
			t.Errorf("part %+v: want missing", p)
		}
	}
}

func TestEnsurePlatformBadVersion(t *testing.T) {
	cl := &Cluster{Kind: "kind"}
	err := cl.EnsurePlatform(context.Background(), clusters.Options{Settings: clusters.Settings{PlatformVersions: []string{"istio=1.0"}}}, PlatformSettings{Install: true})
	if err == nil || !strings.Contains(err.Error(), "--platform-version") {
		t.Fatalf("err %v", err)
	}
}
