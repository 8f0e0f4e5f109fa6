package runner

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/scalebench/scalebench/scenario"
)

// The load gate opens when every app arrived or left; an app that gave up
// before its load does not hold the others, and a cancelled wait returns.
func TestLoadGate(t *testing.T) {
	b := newBarrier(3)
	done := make(chan error, 2)
	for range 2 {
		go func() { done <- b.arrive(context.Background()) }()
	}
	select {
	case <-done:
		t.Fatal("the gate opened before the third app arrived or left")
	case <-time.After(50 * time.Millisecond):
	}
	b.leave()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the gate stayed shut after every app arrived or left")
		}
	}
	// Extra calls after opening are harmless.
	b.leave()
	if err := b.arrive(context.Background()); err != nil {
		t.Fatal(err)
	}

	shut := newBarrier(2)
	ctx, cancel := context.WithCancelCause(context.Background())
	stop := errors.New("stopped")
	cancel(stop)
	if err := shut.arrive(ctx); !errors.Is(err, stop) {
		t.Errorf("a cancelled wait returned %v", err)
	}
}

// An app of a multi-app scenario records its own objects' news only.
func TestAppRecordsItsOwnObjects(t *testing.T) {
	sc := testScenario(t, "apps")
	sc.SetApps(12)
	a, err := scenario.ForApp(sc, 3)
	if err != nil {
		t.Fatal(err)
	}
	if (&run{s: sc}).ownObjects() != nil {
		t.Error("a scenario run alone filters its timeline")
	}
	keep := (&run{opts: Options{inApps: true}, s: a}).ownObjects()
	w := a.Spec.Workload.Name
	for obj, want := range map[string]bool{
		"Deployment/ns/" + w:                        true,
		"Pod/ns/" + w + "-5d8f-abcde":               true,
		"HorizontalPodAutoscaler/ns/" + a.HPAName(): true,
		"": true,
		"Deployment/ns/" + strings.TrimSuffix(w, "-03") + "-13":     false,
		"Pod/ns/" + strings.TrimSuffix(w, "-03") + "-04-5d8f-abcde": false,
		"HorizontalPodAutoscaler/ns/keda-hpa-other":                 false,
	} {
		if keep(obj) != want {
			t.Errorf("%q kept: %v, want %v", obj, keep(obj), want)
		}
	}
}

// The apps' pod selectors join into one that selects every app's pods, or
// the apps watch on their own.
func TestJoinSelectors(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
		ok   bool
	}{
		{[]string{"core.spinkube.dev/app-name=hello-02", "core.spinkube.dev/app-name=hello-01", "core.spinkube.dev/app-name==hello-02"}, "core.spinkube.dev/app-name in (hello-01,hello-02)", true},
		{[]string{"app=a"}, "app in (a)", true},
		{[]string{"app=a", "other=b"}, "", false},
		{[]string{"app=a,tier=web"}, "", false},
		{[]string{"app!=a"}, "", false},
		{[]string{"app in (a,b)"}, "", false},
		{[]string{"app=a", "=bad="}, "", false},
		{nil, "", false},
	} {
		got, ok := joinSelectors(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("joinSelectors(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	// What the joined selector selects is every app's pods and no other.
	sel, _ := joinSelectors([]string{"app=a", "app=b"})
	parsed, err := labels.Parse(sel)
	if err != nil {
		t.Fatal(err)
	}
	for l, want := range map[string]bool{"a": true, "b": true, "c": false} {
		if parsed.Matches(labels.Set{"app": l}) != want {
			t.Errorf("%q selects app=%s: %v", sel, l, !want)
		}
	}
}
