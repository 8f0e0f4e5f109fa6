package app

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
)

type cleanerProvider struct {
	fakeProvider
	left    []clusters.Leftover
	removed []clusters.Leftover
	err     error
}

func (p *cleanerProvider) Leftovers(context.Context) ([]clusters.Leftover, error) { return p.left, nil }
func (p *cleanerProvider) RemoveLeftovers(_ context.Context, ls []clusters.Leftover) error {
	p.removed = append(p.removed, ls...)
	return p.err
}

// cleanup lists by default and removes only with --yes; kept clusters only
// with --kept; a failed removal is a harness error.
func TestCleanup(t *testing.T) {
	p := &cleanerProvider{left: []clusters.Leftover{
		{Kind: "cluster", Name: "/tmp/scalebench-a", RunID: "20261201-101010-abcdef", Reason: "its harness (pid 7) is gone", ID: "a"},
		{Kind: "cluster", Name: "/tmp/scalebench-b", Reason: "kept with --keep", Kept: true, ID: "b"},
	}}
	old := cleanupProviderFor
	t.Cleanup(func() { cleanupProviderFor = old })
	cleanupProviderFor = func(kind string) (clusters.Provider, error) {
		if kind == "emulated" {
			return p, nil
		}
		return all.Provider(kind)
	}
	run := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		code := Main(context.Background(), append([]string{"cleanup"}, args...), &out, &errb)
		return code, out.String() + errb.String()
	}
	code, out := run()
	if code != ExitOK || len(p.removed) != 0 || !strings.Contains(out, "dry run") || !strings.Contains(out, "/tmp/scalebench-a") ||
		strings.Contains(out, "/tmp/scalebench-b") || !strings.Contains(out, "add --kept") {
		t.Fatalf("dry run: exit %d, removed %v, output:\n%s", code, p.removed, out)
	}
	code, out = run("--yes")
	if code != ExitOK || len(p.removed) != 1 || p.removed[0].ID != "a" || !strings.Contains(out, "removed 1 item") {
		t.Fatalf("--yes: exit %d, removed %v, output:\n%s", code, p.removed, out)
	}
	p.removed, p.err = nil, errors.New("kill pid 9: operation not permitted")
	code, out = run("--yes", "--kept")
	if code != ExitHarness || len(p.removed) != 2 || !strings.Contains(out, "operation not permitted") {
		t.Fatalf("--yes --kept failing: exit %d, removed %v, output:\n%s", code, p.removed, out)
	}
	p.left = nil
	if code, out = run(); code != ExitOK || !strings.Contains(out, "nothing left over") {
		t.Fatalf("nothing: exit %d, output:\n%s", code, out)
	}
	if code, _ = run("extra"); code != ExitUsage {
		t.Errorf("extra argument: exit %d", code)
	}
}
