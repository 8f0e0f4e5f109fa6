package loadjob

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/scalebench/scalebench/load"
)

func TestRenderJob(t *testing.T) {
	o := load.Options{URL: "http://app.ns.svc/", Host: "app.example", Connections: 10, Duration: 90 * time.Second,
		Timeout: 5 * time.Second, Rate: 30, RecordHeaders: []string{"X-Keda-Http-Cold-Start"}}
	now := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	s := Spec{Name: "hello-loadgen", Namespace: "ns", Image: "example.test/bench:v1.2.3", Parallelism: 3, Options: o, StartAt: now.Add(30 * time.Second), RunID: "run1"}
	u, err := Render(s, now)
	if err != nil {
		t.Fatal(err)
	}
	var job batchv1.Job
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &job); err != nil {
		t.Fatal(err)
	}
	sp := job.Spec
	if *sp.Parallelism != 3 || *sp.Completions != 3 || *sp.CompletionMode != batchv1.IndexedCompletion || *sp.BackoffLimit != 0 {
		t.Errorf("job spec %+v: want 3 indexed pods at once, no retry", sp)
	}
	// 30 s to the barrier + 90 s of load + 5 s timeout + 1 min.
	if *sp.ActiveDeadlineSeconds != 185 {
		t.Errorf("active deadline %d, want 185", *sp.ActiveDeadlineSeconds)
	}
	if job.Labels[LabelJob] != "hello-loadgen" || sp.Template.Labels[LabelJob] != "hello-loadgen" || sp.Template.Labels["scalebench.dev/run-id"] != "run1" {
		t.Errorf("labels %v / %v", job.Labels, sp.Template.Labels)
	}
	c := sp.Template.Spec.Containers[0]
	if c.Name != Container || c.Image != s.Image || c.Args[0] != CommandName {
		t.Errorf("container %s %s %v", c.Name, c.Image, c.Args)
	}
	// The pods' arguments parse back to the whole load, and each pod's
	// share adds up to it.
	var conns int
	var rate float64
	for i := range 3 {
		inv, err := Parse(c.Args[1:], func(string) string { return string(rune('0' + i)) }, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(inv.Options, o) || !inv.StartAt.Equal(s.StartAt) || inv.Pods != 3 || inv.Index != i {
			t.Errorf("pod %d parsed %+v, want %+v from %s", i, inv, o, s.StartAt)
		}
		conns += inv.Share.Connections
		rate += inv.Share.Rate
	}
	if conns != 10 || rate < 29.999 || rate > 30.001 {
		t.Errorf("shares add up to %d connections at %v/s, want 10 at 30/s", conns, rate)
	}
}

func TestRenderRefusesAShareOfNothing(t *testing.T) {
	o := load.Options{URL: "http://x/", Connections: 2}
	if _, err := Render(Spec{Name: "x", Image: "i", Parallelism: 3, Options: o}, time.Now()); err == nil || !strings.Contains(err.Error(), "connections 2 cannot be split over 3 pods") {
		t.Errorf("err = %v", err)
	}
	if _, err := Render(Spec{Name: "x", Image: "i", Parallelism: 0, Options: o}, time.Now()); err == nil {
		t.Error("parallelism 0 rendered")
	}
}

func TestStepsRoundTrip(t *testing.T) {
	o := load.Options{URL: "http://x/", Mode: load.OpenLoop, Timeout: time.Second,
		Steps: []load.Step{{Duration: 10 * time.Second, Rate: 5}, {Duration: 20 * time.Second, Rate: 50, Ramp: true}, {Duration: 5 * time.Second}}}
	inv, err := Parse(Args(o, 2, time.Time{}.Add(time.Hour)), func(string) string { return "1" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(inv.Options, o) {
		t.Errorf("parsed %+v, want %+v", inv.Options, o)
	}
	if inv.Share.Steps[1].Rate != 25 || !inv.Share.Steps[1].Ramp {
		t.Errorf("pod 1's step 1 %+v, want a ramp to 25/s", inv.Share.Steps[1])
	}
}

// TestStreamThenMerge runs two pods' command in process against a loopback
// server (each writing its lines as a pod would on stdout) and merges
// their output: the merged totals are the pods' totals summed.
func TestStreamThenMerge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_, _ = io.WriteString(w, "hello")
	}))
	defer srv.Close()
	start := time.Now().Add(300 * time.Millisecond)
	args := Args(load.Options{URL: srv.URL + "/", Connections: 3, Duration: 2 * time.Second, Rate: 40}, 2, start)
	outs := make([]bytes.Buffer, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Go(func() {
			inv, err := Parse(args, func(string) string { return string(rune('0' + i)) }, io.Discard)
			if err != nil {
				t.Error(err)
				return
			}
			if err := Stream(context.Background(), load.NewHTTP(), inv, &outs[i]); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	m := NewMerger(start)
	var want Totals
	for i, name := range []string{"pod-0", "pod-1"} {
		lines := strings.Split(strings.TrimSpace(outs[i].String()), "\n")
		if len(lines) < 4 {
			t.Fatalf("%s wrote %d lines, want start, seconds, done:\n%s", name, len(lines), outs[i].String())
		}
		for _, s := range lines {
			var l Line
			if err := json.Unmarshal([]byte(s), &l); err != nil {
				t.Fatalf("%s: %q: %v", name, s, err)
			}
			if m.Add(name, l) {
				want.Requests += l.Totals.Requests
				want.Successes += l.Totals.Successes
			}
		}
	}
	sum, err := m.Summary()
	if err != nil {
		t.Fatal(err)
	}
	if sum.Requests == 0 || sum.Requests != want.Requests || sum.Successes != want.Successes {
		t.Errorf("merged %d requests (%d ok), pods' totals %d (%d ok)", sum.Requests, sum.Successes, want.Requests, want.Successes)
	}
	var inSeconds int
	for _, s := range sum.Seconds {
		inSeconds += s.Requests
	}
	if int64(inSeconds) != sum.Requests {
		t.Errorf("seconds hold %d requests, summary %d", inSeconds, sum.Requests)
	}
	// 40/s for 2 s split over two pods: about 80 in all.
	if sum.Requests < 60 || sum.Requests > 82 {
		t.Errorf("%d requests, want about 80 (40/s for 2 s over both pods)", sum.Requests)
	}
}

var tagOf = flag.String("version", "", "TestImageTag: a CLI version whose image tag must be itself or main (the image workflow passes its tag)")

func TestImageTag(t *testing.T) {
	for v, want := range map[string]string{
		"v1.2.3": "v1.2.3", "v1.3.0-rc.1": "v1.3.0-rc.1", "(devel)": "main", "": "main", "main": "main",
		"v0.0.0-20261202073000-0123456789ab":       "main",
		"v1.2.4-0.20261202073000-0123456789ab":     "main",
		"v1.2.3+dirty":                             "main",
		"v0.0.0-20261202073000-0123456789ab+dirty": "main",
	} {
		if got := ImageTag(v); got != want {
			t.Errorf("ImageTag(%q) = %q, want %q", v, got, want)
		}
	}
	if v := *tagOf; v != "" && ImageTag(v) != v {
		t.Errorf("the workflow publishes tag %q, but a CLI of that version would pull %q", v, ImageTag(v))
	}
	if img := DefaultImage(); !strings.HasPrefix(img, DefaultImageRepository+":") {
		t.Errorf("DefaultImage() = %q", img)
	}
}
