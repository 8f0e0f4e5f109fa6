package emulated

import (
	"bytes"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/loadjob"
)

// TestCRIWriter: whole lines in the CRI log format kwok's reader parses,
// however the writes split them.
func TestCRIWriter(t *testing.T) {
	var b bytes.Buffer
	w := &criWriter{w: &b}
	for _, p := range []string{`{"seq":1}`, "\n" + `{"seq"`, `:2}` + "\n"} {
		if _, err := w.Write([]byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), b.String())
	}
	for i, want := range []string{` stdout F {"seq":1}`, ` stdout F {"seq":2}`} {
		if !strings.HasSuffix(lines[i], want) || !strings.Contains(lines[i], "Z ") {
			t.Errorf("line %d = %q, want <RFC 3339 time>%s", i, lines[i], want)
		}
	}
}

// TestLoadPodCompleteStages: kwok's pod-complete no longer completes load
// pods; the copy completes them once their command exited, at once.
func TestLoadPodCompleteStages(t *testing.T) {
	var doc map[string]any
	if err := yaml.Unmarshal([]byte(`apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata: {name: pod-complete}
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: .status.phase, operator: In, values: [Running]}
  weightFrom: {expressionFrom: x}
  delay: {durationMilliseconds: 1000, jitterDurationMilliseconds: 5000}
  next: {statusTemplate: "phase: Succeeded"}
`), &doc); err != nil {
		t.Fatal(err)
	}
	orig, own, err := loadPodCompleteStages(doc)
	if err != nil {
		t.Fatal(err)
	}
	o, _ := yaml.Marshal(orig)
	n, _ := yaml.Marshal(own)
	label := `.metadata.labels["` + loadjob.LabelName + `"]`
	if !strings.Contains(string(o), "key: "+label+"\n      operator: NotIn") || strings.Contains(string(o), AnnotationExitCode) {
		t.Errorf("pod-complete:\n%s", o)
	}
	for _, want := range []string{"name: scalebench-load-pod-complete", "key: " + label + "\n      operator: In", AnnotationExitCode + "\"]\n      operator: Exists", "durationMilliseconds: 0", "phase: Succeeded", ".status.phase"} {
		if !strings.Contains(string(n), want) {
			t.Errorf("load pods' stage lacks %q:\n%s", want, n)
		}
	}
	if strings.Contains(string(n), "weightFrom") || strings.Contains(string(n), "NotIn") {
		t.Errorf("load pods' stage:\n%s", n)
	}
}
