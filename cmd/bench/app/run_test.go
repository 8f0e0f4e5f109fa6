package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
)

type fakeProvider struct {
	createErr error
	cluster   *fakeCluster
	opts      clusters.Options
}

func (p *fakeProvider) Name() string { return "emulated" }
func (p *fakeProvider) Create(_ context.Context, opts clusters.Options) (clusters.Cluster, error) {
	p.opts = opts
	if p.createErr != nil {
		return nil, p.createErr
	}
	p.cluster = &fakeCluster{}
	return p.cluster, nil
}

type fakeCluster struct{ deletes, diagnostics int }

func (c *fakeCluster) RESTConfig() *rest.Config { return &rest.Config{} }
func (c *fakeCluster) KubeconfigPath() string   { return "" }
func (c *fakeCluster) Environment() results.Environment {
	return results.Environment{Provider: "emulated", Emulated: []string{}}
}
func (c *fakeCluster) CollectDiagnostics(context.Context, string) error { c.diagnostics++; return nil }
func (c *fakeCluster) Delete(context.Context) error                     { c.deletes++; return nil }

// fake replaces the command's provider and scenario runner for one test.
func fake(t *testing.T, p *fakeProvider, run func(*scenario.Scenario) results.Scenario) {
	t.Helper()
	oldP, oldR := providerFor, scenarioRunner
	t.Cleanup(func() { providerFor, scenarioRunner = oldP, oldR })
	providerFor = func(kind string) (clusters.Provider, error) {
		if kind != "emulated" {
			return all.Provider(kind)
		}
		return p, nil
	}
	scenarioRunner = func(_ context.Context, _ runner.Options, s *scenario.Scenario) results.Scenario {
		res := run(s)
		res.Name, res.Steps, res.Checks = s.Metadata.Name, []results.Step{}, append([]results.Check{}, res.Checks...)
		return res
	}
}

func passed(*scenario.Scenario) results.Scenario {
	return results.Scenario{Passed: true, Checks: []results.Check{{Name: "scale-up", Passed: true, Detail: "ok"}}}
}

func TestRunExitCodes(t *testing.T) {
	for _, c := range []struct {
		name      string
		args      []string
		createErr error
		run       func(*scenario.Scenario) results.Scenario
		want      int
		stderr    string
		deletes   int
		diags     int
	}{
		{name: "pass", run: passed, want: ExitOK, deletes: 1},
		{name: "violation", run: func(*scenario.Scenario) results.Scenario {
			return results.Scenario{Checks: []results.Check{{Name: "scale-up", Detail: "too slow"}}}
		}, want: ExitViolation, deletes: 1, diags: 1},
		{name: "harness error", run: func(*scenario.Scenario) results.Scenario {
			return results.Scenario{Error: "waiting for HPA: not within 3m0s; last seen: no conditions yet", ErrorKind: results.ErrorTimeout}
		}, want: ExitHarness, stderr: "did not complete", deletes: 1, diags: 1},
		{name: "create fails", createErr: fmt.Errorf("ingress: %w", syscall.EADDRINUSE), run: passed, want: ExitHarness,
			stderr: "pass --ingress-addr 127.0.0.1:0"},
		{name: "unknown flag", args: []string{"--nope"}, run: passed, want: ExitUsage},
		{name: "unknown cluster", args: []string{"--cluster", "minikube"}, run: passed, want: ExitUsage, stderr: "allowed: emulated"},
		{name: "bad agents", args: []string{"--cluster", "k3d", "--agents", "-2"}, run: passed, want: ExitUsage, stderr: "--agents -2: must be >= 0"},
		{name: "bad port", args: []string{"--cluster", "kind", "--port", "8081"}, run: passed, want: ExitUsage, stderr: `kind: port "8081": want [ADDRESS:]HOST_PORT:CONTAINER_PORT`},
		{name: "node cpu on fixed nodes", args: []string{"--node-cpu", "4"}, run: passed, want: ExitUsage, stderr: "no configurable node capacity"},
		{name: "bad scenario", args: []string{"--scenario", "no-such-scenario"}, run: passed, want: ExitUsage},
		{name: "no apps", args: []string{"--apps", "0"}, run: passed, want: ExitUsage, stderr: "--apps 0: allowed K or K1,K2,... with each K in 1..1000 (spec.apps.count)"},
		{name: "apps list", args: []string{"--apps", "1,x"}, run: passed, want: ExitUsage, stderr: "--apps 1,x: allowed K or K1,K2,..."},
		{name: "apps too many for a split load", args: []string{"--apps", "11", "--scenario", "testdata/split-apps.yaml"}, run: passed, want: ExitUsage,
			stderr: "spec.load.http.connections: Invalid value: 10: split between 11 apps needs at least one connection per app"},
		{name: "apps sweep", args: []string{"--apps", "1,5"}, run: func(s *scenario.Scenario) results.Scenario {
			if want := fmt.Sprintf("hpa-cpu-fast-k%d", s.AppCount()); s.Metadata.Name != want || s.Spec.Apps == nil {
				return results.Scenario{Error: fmt.Sprintf("scenario %s with %d apps (spec.apps %v)", s.Metadata.Name, s.AppCount(), s.Spec.Apps), ErrorKind: results.ErrorHarness}
			}
			return passed(s)
		}, want: ExitOK, deletes: 1},
		{name: "apps", args: []string{"--apps", "3"}, run: func(s *scenario.Scenario) results.Scenario {
			if s.AppCount() != 3 {
				return results.Scenario{Error: fmt.Sprintf("the runner got %d apps, want 3", s.AppCount()), ErrorKind: results.ErrorHarness}
			}
			return passed(s)
		}, want: ExitOK, deletes: 1},
		{name: "parallel", args: []string{"--scenario", "keda-cpu-fast", "--parallel"}, run: passed, want: ExitOK, deletes: 1},
		{name: "parallel twice the same", args: []string{"--scenario", "hpa-cpu-fast", "--parallel"}, run: passed, want: ExitUsage, stderr: "--parallel: scenario hpa-cpu-fast: named twice"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &fakeProvider{createErr: c.createErr}
			fake(t, p, c.run)
			out := t.TempDir()
			var stdout, stderr bytes.Buffer
			args := append([]string{"run", "--scenario", "hpa-cpu-fast", "--out", out, "--progress", "never"}, c.args...)
			code := Main(context.Background(), args, &stdout, &stderr)
			if code != c.want {
				t.Fatalf("exit %d, want %d; stdout %q stderr %q", code, c.want, stdout.String(), stderr.String())
			}
			if !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("stderr %q, want it to say %q", stderr.String(), c.stderr)
			}
			if c.want == ExitUsage {
				if entries, _ := os.ReadDir(out); len(entries) != 0 || p.cluster != nil {
					t.Errorf("a usage error created something: %v", entries)
				}
				return
			}
			// Every run that got going writes its report, partial or not.
			if _, err := os.Stat(filepath.Join(out, reports.JSONFile)); err != nil {
				t.Errorf("no report: %v", err)
			}
			if p.cluster != nil && (p.cluster.deletes != c.deletes || p.cluster.diagnostics != c.diags) {
				t.Errorf("deletes %d diagnostics %d, want %d and %d", p.cluster.deletes, p.cluster.diagnostics, c.deletes, c.diags)
			}
		})
	}
}

func TestRunTellsTheClusterItsScenariosAutoscalers(t *testing.T) {
	p := &fakeProvider{}
	fake(t, p, passed)
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), []string{"run", "--scenario", "hpa-cpu-fast", "--scenario", "keda-cpu-fast", "--out", t.TempDir(), "--progress", "never"}, &stdout, &stderr)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got := p.opts.Autoscalers; !slices.Equal(got, []string{"hpa", "keda-cpu"}) {
		t.Errorf("cluster options' Autoscalers = %v, want the scenarios' hpa and keda-cpu (so no HTTP add-on is built)", got)
	}
}

func TestRunSummaryNamesTheErrorKind(t *testing.T) {
	fake(t, &fakeProvider{}, func(*scenario.Scenario) results.Scenario {
		return results.Scenario{Error: `autoscaler rejected: admission webhook "vscaledobject.kb.io" denied the request`, ErrorKind: results.ErrorRejected}
	})
	var stdout, stderr bytes.Buffer
	err := Run(context.Background(), []string{"run", "--scenario", "keda-cpu-fast", "--out", t.TempDir(), "--progress", "never"}, &stdout, &stderr)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitHarness {
		t.Fatalf("want a harness exit, got %v", err)
	}
	if !strings.Contains(stdout.String(), "ERROR") || !strings.Contains(stdout.String(), "error (rejected): autoscaler rejected") {
		t.Errorf("summary does not show the rejection:\n%s", stdout.String())
	}
}

// Without Docker, k3d and kind stop before anything is created (not even
// the report folder): one line naming the missing prerequisite and the step
// that provides it, exit 3. Two machines: one without the docker command
// (install Docker), one with the client but no engine answering (start it).
// bench plan needs neither.
func TestRunWithoutDocker(t *testing.T) {
	// A docker client that finds no engine, as the real one answers then.
	client := t.TempDir()
	script := "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///nonexistent/docker.sock. Is the docker daemon running?' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(client, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	machines := []struct {
		name, path, missing, step string
	}{
		{"no docker command", t.TempDir(), "not on PATH", "apt-get install docker.io"},
		{"client without engine", client, "a running Docker engine", "start the Docker engine"},
	}
	for _, m := range machines {
		t.Run(m.name, func(t *testing.T) {
			t.Setenv("PATH", m.path)
			t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(t.TempDir(), "no-docker.sock"))
			for _, kind := range []string{"k3d", "kind"} {
				out := filepath.Join(t.TempDir(), "reports")
				var stdout, stderr bytes.Buffer
				code := Main(context.Background(), []string{"run", "--cluster", kind, "--scenario", "hpa-cpu-fast", "--out", out, "--progress", "never"}, &stdout, &stderr)
				if code != ExitHarness {
					t.Fatalf("%s: exit %d, want %d; stderr %q", kind, code, ExitHarness, stderr.String())
				}
				msg := stderr.String()
				if strings.Count(strings.TrimSpace(msg), "\n") != 0 || !strings.Contains(msg, m.step) || !strings.Contains(msg, "cluster "+kind+" needs ") || !strings.Contains(msg, m.missing) {
					t.Errorf("%s: want one line naming %q and %q, got %q", kind, m.missing, m.step, msg)
				}
				t.Logf("%s: %s", kind, strings.TrimSpace(msg))
				if _, err := os.Stat(out); !os.IsNotExist(err) {
					t.Errorf("%s: report folder created: %v", kind, err)
				}
				stdout.Reset()
				stderr.Reset()
				if code := Main(context.Background(), []string{"plan", "--cluster", kind, "--scenario", "hpa-cpu-fast"}, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), "node image:") {
					t.Errorf("%s: bench plan without Docker: exit %d, stderr %q", kind, code, stderr.String())
				}
			}
		})
	}
}
