package platform

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

// fakeInstaller records what ensure asks of the installer.
type fakeInstaller struct {
	installed   []string
	uninstalled []string
	err         error
}

func (f *fakeInstaller) Install(_ context.Context, p Plan) ([]Outcome, error) {
	var out []Outcome
	for _, c := range p.Components {
		f.installed = append(f.installed, c.Name+"@"+c.Version)
		out = append(out, Outcome{Component: c.Name, Action: ActionInstalled, Version: c.Version})
	}
	return out, f.err
}

func (f *fakeInstaller) Uninstall(_ context.Context, p Plan) error {
	for _, c := range p.Components {
		f.uninstalled = append(f.uninstalled, c.Name)
	}
	return nil
}

// cluster is a fake cluster's components: present ones with their versions; Install adds to it.
type cluster map[string]string

func (c cluster) detect(_ context.Context, p Plan) (Installed, error) {
	var out Installed
	for _, comp := range p.Components {
		v, ok := c[comp.Name]
		out.Components = append(out.Components, Presence{Component: comp.Name, Present: ok, Version: v})
	}
	return out, nil
}

func TestEnsureInstallsOnlyTheMissingParts(t *testing.T) {
	have := cluster{CertManager: "1.0.0", KEDA: "2.19.0"}
	in := &fakeInstaller{}
	detect := func(ctx context.Context, p Plan) (Installed, error) {
		if len(in.installed) > 0 { // after the install
			have[SpinOperator], have[HTTPAddOn] = "0.6.1", "0.14.0"
		}
		return have.detect(ctx, p)
	}
	opts := EnsureOptions{RunID: "r1", Install: true, Plan: Options{Versions: Versions{HTTPAddOn: "0.14.0"}}}
	r, err := ensure(context.Background(), opts, detect, in)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{SpinOperator + "@" + DefaultSpinOperatorVersion, HTTPAddOn + "@0.14.0"}; !slices.Equal(in.installed, want) {
		t.Errorf("installed %v, want %v (the missing parts only, with the run's version override)", in.installed, want)
	}
	if !r.InstalledByRun(SpinOperator) || !r.InstalledByRun(HTTPAddOn) || r.InstalledByRun(KEDA) || r.InstalledByRun(CertManager) {
		t.Errorf("installed by run: %+v", r.Installed.Components)
	}
	if v := r.After.Versions(); v[HTTPAddOn] != "0.14.0" || v[KEDA] != "2.19.0" {
		t.Errorf("versions after %v", v)
	}
	if err := r.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := []string{SpinOperator, HTTPAddOn}; !slices.Equal(in.uninstalled, want) {
		t.Errorf("uninstalled %v, want %v (only what the run installed)", in.uninstalled, want)
	}
}

func TestEnsureWithoutInstallNamesMissingPartsAndHint(t *testing.T) {
	have := cluster{KEDA: "2.20.2"}
	in := &fakeInstaller{}
	_, err := ensure(context.Background(), EnsureOptions{RunID: "r1", Hint: "pass --install-platform"}, have.detect, in)
	if err == nil {
		t.Fatal("no error with missing parts and no install allowed")
	}
	for _, s := range []string{CertManager, SpinOperator, HTTPAddOn, "--install-platform"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not name %s", err, s)
		}
	}
	if strings.Contains(err.Error(), KEDA) {
		t.Errorf("error %q names keda, which is present", err)
	}
	if len(in.installed) > 0 {
		t.Errorf("installed %v without being allowed", in.installed)
	}
}

func TestEnsureCompleteClusterInstallsNothing(t *testing.T) {
	// The emulated cluster: the Spin operator, KEDA and the add-on, no cert-manager (only the operator's
	// install needs it).
	have := cluster{SpinOperator: "0.6.1", KEDA: "2.20.2", HTTPAddOn: "0.15.0"}
	in := &fakeInstaller{}
	r, err := ensure(context.Background(), EnsureOptions{RunID: "r1"}, have.detect, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.installed) > 0 || len(r.Installed.Components) > 0 {
		t.Errorf("installed %v on a cluster that has what scenarios need", in.installed)
	}
	if err := r.Uninstall(context.Background()); err != nil || len(in.uninstalled) > 0 {
		t.Errorf("uninstall of nothing: %v, %v", err, in.uninstalled)
	}
}

func TestEnsureFailedInstallCanBeUndone(t *testing.T) {
	have := cluster{}
	in := &fakeInstaller{err: errors.New("keda not ready")}
	r, err := ensure(context.Background(), EnsureOptions{RunID: "r1", Install: true}, have.detect, in)
	if err == nil || !strings.Contains(err.Error(), "keda not ready") {
		t.Fatalf("err %v", err)
	}
	if err := r.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Without a keda-sqs scenario, Valkey and LocalStack are not part of the plan.
	want := []string{CertManager, SpinOperator, KEDA, HTTPAddOn}
	if !slices.Equal(in.uninstalled, want) {
		t.Errorf("uninstalled %v after a failed install, want %v", in.uninstalled, want)
	}
}

func TestEnsureBadVersion(t *testing.T) {
	in := &fakeInstaller{}
	_, err := ensure(context.Background(), EnsureOptions{Install: true, Plan: Options{Versions: Versions{KEDA: "latest"}}}, cluster{}.detect, in)
	if err == nil || len(in.installed) > 0 {
		t.Fatalf("err %v, installed %v", err, in.installed)
	}
}
