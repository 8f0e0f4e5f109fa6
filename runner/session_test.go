package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/reports"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
)

// fakeProvider creates fakeClusters, or fails with createErr.
type fakeProvider struct {
	createErr error
	created   *fakeCluster
	opts      clusters.Options
}

func (p *fakeProvider) Name() string { return "fake" }

func (p *fakeProvider) Create(_ context.Context, opts clusters.Options) (clusters.Cluster, error) {
	p.opts = opts
	if p.createErr != nil {
		return nil, p.createErr
	}
	p.created = &fakeCluster{}
	return p.created, nil
}

// fakeCluster counts what the session asks of it.
type fakeCluster struct {
	mu          sync.Mutex
	diagnostics []string
	deletes     int
	deleteErr   error
}

func (c *fakeCluster) RESTConfig() *rest.Config { return &rest.Config{Host: "http://127.0.0.1:1"} }
func (c *fakeCluster) KubeconfigPath() string   { return "" }
func (c *fakeCluster) Environment() results.Environment {
	return results.Environment{Provider: "fake", Emulated: []string{"everything"}}
}

func (c *fakeCluster) CollectDiagnostics(_ context.Context, dir string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.diagnostics = append(c.diagnostics, dir)
	return os.MkdirAll(dir, 0o755)
}

func (c *fakeCluster) Delete(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.deletes++
	return c.deleteErr
}

func testScenario(t *testing.T, name string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Resolve("hpa-cpu-fast")
	if err != nil {
		t.Fatal(err)
	}
	s.Metadata.Name = name
	return s
}

// verdicts answers each scenario by name: pass, fail (a check) or an error.
func verdicts(m map[string]string) func(context.Context, Options, *scenario.Scenario) results.Scenario {
	return func(_ context.Context, o Options, s *scenario.Scenario) results.Scenario {
		res := results.Scenario{Name: s.Metadata.Name, Autoscaler: s.Spec.Autoscaler.Type, Steps: []results.Step{}, Checks: []results.Check{}}
		switch m[s.Metadata.Name] {
		case "pass":
			res.Passed = true
			res.Checks = append(res.Checks, results.Check{Name: "ok", Passed: true, Detail: "fine"})
		case "fail":
			res.Checks = append(res.Checks, results.Check{Name: "scale-up", Detail: "too slow"})
		case "panic":
			panic("scenario " + s.Metadata.Name)
		default:
			res.Error, res.ErrorKind = "boom", results.ErrorHarness
		}
		return res
	}
}

func readReport(t *testing.T, dir string) results.Report {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, reports.JSONFile))
	if err != nil {
		t.Fatalf("report not written: %v", err)
	}
	defer f.Close()
	rep, err := reports.ReadJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestSessionPassingPlan(t *testing.T) {
	out := t.TempDir()
	p := &fakeProvider{}
	rep, err := RunSession(context.Background(), SessionConfig{Provider: p, Out: out, IngressAddr: "127.0.0.1:0",
		RunScenario: verdicts(map[string]string{"a": "pass", "b": "pass"})},
		Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a"), testScenario(t, "b")}, Repeat: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() || len(rep.Scenarios) != 4 || rep.Scenarios[1].Trial != 2 || len(rep.Aggregates) != 2 {
		t.Fatalf("want 4 passing trials numbered and 2 aggregates, got %+v", rep)
	}
	if p.opts.IngressAddr != "127.0.0.1:0" || p.opts.RunID != rep.RunID || p.opts.WorkDir == "" {
		t.Errorf("cluster options not passed on: %+v", p.opts)
	}
	if _, err := os.Stat(p.opts.WorkDir); !os.IsNotExist(err) {
		t.Errorf("temporary work dir %s left behind (%v)", p.opts.WorkDir, err)
	}
	if c := p.created; c.deletes != 1 || len(c.diagnostics) != 0 {
		t.Errorf("want one delete and no diagnostics on a pass, got %d deletes, diagnostics %v", c.deletes, c.diagnostics)
	}
	if got := readReport(t, out); got.Environment.Provider != "fake" || len(got.Scenarios) != 4 {
		t.Errorf("written report: %+v", got.Environment)
	}
}

func TestSessionDiagnosticsOnlyOnFailure(t *testing.T) {
	out := t.TempDir()
	p := &fakeProvider{}
	rep, err := RunSession(context.Background(), SessionConfig{Provider: p, Out: out, RunScenario: verdicts(map[string]string{"a": "pass", "b": "fail"})},
		Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a"), testScenario(t, "b")}})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed() {
		t.Fatal("report passed with a failed check")
	}
	if c := p.created; c.deletes != 1 || len(c.diagnostics) != 1 || c.diagnostics[0] != filepath.Join(out, DiagnosticsDir) {
		t.Errorf("want diagnostics in %s and one delete, got %v and %d", filepath.Join(out, DiagnosticsDir), c.diagnostics, c.deletes)
	}
}

func TestSessionCreateFailsWritesPartialReport(t *testing.T) {
	out := t.TempDir()
	p := &fakeProvider{createErr: errors.New("etcd would not start")}
	ran := false
	rep, err := RunSession(context.Background(), SessionConfig{Provider: p, Out: out,
		RunScenario: func(context.Context, Options, *scenario.Scenario) results.Scenario {
			ran = true
			return results.Scenario{}
		}},
		Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a"), testScenario(t, "b")}, Repeat: 3})
	if err == nil || !strings.Contains(err.Error(), "etcd would not start") {
		t.Fatalf("want the creation error, got %v", err)
	}
	if ran {
		t.Error("a scenario ran without a cluster")
	}
	got := readReport(t, out)
	if len(got.Scenarios) != 2 || rep.Passed() {
		t.Fatalf("want one not-run result per scenario, got %+v", got.Scenarios)
	}
	for _, s := range got.Scenarios {
		if s.ErrorKind != results.ErrorPlatform || !strings.HasPrefix(s.Error, "cluster not created: ") {
			t.Errorf("scenario %s: kind %q error %q", s.Name, s.ErrorKind, s.Error)
		}
	}
	if got.Environment.Provider != "fake" || got.Environment.Host.OS == "" {
		t.Errorf("partial report environment: %+v", got.Environment)
	}
}

func TestSessionCreateInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := &fakeProvider{createErr: fmt.Errorf("building components: %w", context.Canceled)}
	rep, _ := RunSession(ctx, SessionConfig{Provider: p}, Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a")}})
	if len(rep.Scenarios) != 1 || rep.Scenarios[0].ErrorKind != results.ErrorInterrupted {
		t.Fatalf("want one interrupted result, got %+v", rep.Scenarios)
	}
}

func TestSessionDeletesAfterPanicAndJoinsErrors(t *testing.T) {
	out := t.TempDir()
	p := &fakeProvider{}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed")
			}
		}()
		_, _ = RunSession(context.Background(), SessionConfig{Provider: p, Out: out, RunScenario: verdicts(map[string]string{"a": "panic"})},
			Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a")}})
	}()
	if p.created.deletes != 1 {
		t.Errorf("cluster deleted %d times after a panic, want 1", p.created.deletes)
	}
	readReport(t, out)

	// A failing teardown is returned, not only logged.
	p = &fakeProvider{}
	s := NewSession(SessionConfig{Provider: p, RunScenario: verdicts(map[string]string{"a": "pass"})})
	if err := s.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.created.deleteErr = errors.New("kwokctl hung")
	s.RunScenario(context.Background(), testScenario(t, "a"), Options{})
	if _, err := s.Close(context.Background()); err == nil || !strings.Contains(err.Error(), "kwokctl hung") {
		t.Errorf("want the delete error, got %v", err)
	}
	if _, err := s.Close(context.Background()); err == nil || p.created.deletes != 1 {
		t.Errorf("a second Close must return the same and not delete again (deletes %d)", p.created.deletes)
	}
}

func TestSessionKeep(t *testing.T) {
	p := &fakeProvider{}
	var got Options
	s := NewSession(SessionConfig{Provider: p, Keep: true, Defaults: Options{IngressURL: "http://x", ReadyTimeout: 7},
		RunScenario: func(_ context.Context, o Options, sc *scenario.Scenario) results.Scenario {
			got = o
			return results.Scenario{Name: sc.Metadata.Name, Passed: true}
		}})
	if err := s.Create(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.RunScenario(context.Background(), testScenario(t, "a"), Options{ReadyTimeout: 9})
	if _, err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !p.opts.Keep || !got.Keep {
		t.Errorf("Keep not passed on: cluster %v, scenario %v", p.opts.Keep, got.Keep)
	}
	if got.IngressURL != "http://x" || got.ReadyTimeout != 9 || got.Cluster != p.created || got.RunID != s.RunID() {
		t.Errorf("scenario options: defaults and own values not merged: %+v", got)
	}
	// The provider decides what Keep means on Delete; the session still
	// calls it, and keeps its own work folder.
	if p.created.deletes != 1 {
		t.Errorf("deletes %d, want 1", p.created.deletes)
	}
	if _, err := os.Stat(p.opts.WorkDir); err != nil {
		t.Errorf("kept run's work dir removed: %v", err)
	}
	os.RemoveAll(p.opts.WorkDir)
}

func TestKindOf(t *testing.T) {
	webhook := apierrors.NewForbidden(schema.GroupResource{Group: "keda.sh", Resource: "scaledobjects"}, "so",
		errors.New(`admission webhook "vscaledobject.kb.io" denied the request`))
	for _, c := range []struct {
		err  error
		want results.ErrorKind
	}{
		{nil, ""},
		{errors.New("x"), results.ErrorHarness},
		{fmt.Errorf("apply: %w", webhook), results.ErrorRejected},
		{apierrors.NewInvalid(schema.GroupKind{Kind: "SpinApp"}, "a", nil), results.ErrorRejected},
		{fmt.Errorf("wait: %w", context.Canceled), results.ErrorInterrupted},
		{context.DeadlineExceeded, results.ErrorTimeout},
		{fmt.Errorf("outer: %w", errorf(results.ErrorPlatform, "component %q died", "keda-operator")), results.ErrorPlatform},
		// The outermost kind wins: a platform failure that cut a wait short.
		{errorf(results.ErrorPlatform, "x: %w", errorf(results.ErrorTimeout, "y")), results.ErrorPlatform},
	} {
		if got := KindOf(c.err); got != c.want {
			t.Errorf("KindOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

// A cancelled run's report is interrupted and not passed, the cluster is
// deleted, and no diagnostics delay the exit; a failed one that was not
// interrupted links its diagnostics.
func TestSessionInterruptedAndDiagnosticsLink(t *testing.T) {
	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	p := &fakeProvider{}
	rep, _ := RunSession(ctx, SessionConfig{Provider: p, Out: out,
		RunScenario: func(_ context.Context, _ Options, s *scenario.Scenario) results.Scenario {
			cancel()
			return results.Scenario{Name: s.Metadata.Name, Passed: true}
		}}, Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a"), testScenario(t, "b")}})
	if !rep.Interrupted || rep.Passed() || len(rep.Scenarios) != 1 || rep.Diagnostics != "" {
		t.Errorf("want an interrupted, not passed report of one scenario, no diagnostics; got interrupted=%v passed=%v %d scenarios diagnostics %q",
			rep.Interrupted, rep.Passed(), len(rep.Scenarios), rep.Diagnostics)
	}
	if c := p.created; c.deletes != 1 || len(c.diagnostics) != 0 {
		t.Errorf("deletes %d, diagnostics %v", c.deletes, c.diagnostics)
	}

	out = t.TempDir()
	rep, _ = RunSession(context.Background(), SessionConfig{Provider: &fakeProvider{}, Out: out, RunScenario: verdicts(map[string]string{"a": "fail"})},
		Plan{Scenarios: []*scenario.Scenario{testScenario(t, "a")}})
	if rep.Interrupted || rep.Diagnostics != DiagnosticsDir+"/" {
		t.Errorf("a failed check: interrupted=%v diagnostics %q, want the link %s/", rep.Interrupted, rep.Diagnostics, DiagnosticsDir)
	}
	if got := readReport(t, out); got.Diagnostics != rep.Diagnostics {
		t.Errorf("report.json diagnostics %q", got.Diagnostics)
	}
}
