package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
)

// multiAppReport is a two-app scenario: app -1 passed, app -2 failed its
// scale-up check; cold start measured in app -1 only.
func multiAppReport() results.Report {
	app := func(name string, passed bool, up *float64) results.Scenario {
		c := results.Check{Name: "scale-up", Passed: passed, Detail: "expected 2 replicas within 30s; observed " + map[bool]string{true: "2 at 12 s", false: "never"}[passed]}
		return results.Scenario{Name: name, Autoscaler: "keda-http", Passed: passed, Checks: []results.Check{c},
			Metrics: results.Metrics{FirstScaleUpSeconds: up, Absent: map[string]string{}}, Steps: []results.Step{}}
	}
	a1 := app("web-1", true, results.F64(12))
	a1.Metrics.ColdStartSeconds = results.F64(1.5)
	a2 := app("web-2", false, nil)
	a2.Metrics.Absent["firstScaleUpSeconds"] = "spec.replicas never rose above the baseline"
	apps := []results.Scenario{a1, a2}
	s := results.Scenario{Name: "web", Autoscaler: "keda-http", Steps: []results.Step{},
		Checks: []results.Check{{Name: "app web-1", Passed: true, Detail: "passed all 1 tested checks"}, {Name: "app web-2", Detail: `failed 1 of 1 tested checks: "scale-up": expected …`}},
		Apps: &results.Apps{Count: 2, Load: "replicate", Verdict: results.AppsVerdict, Passed: 1, Failed: []string{"web-2"}, Results: apps,
			Metrics: map[string]*results.Distribution{
				"firstScaleUpSeconds": {N: 1, Min: 12, P50: 12, P95: 12, Max: 12, Absent: map[string]string{"web-2": "spec.replicas never rose above the baseline"}},
				"coldStartSeconds":    {N: 1, Min: 1.5, P50: 1.5, P95: 1.5, Max: 1.5, Absent: map[string]string{"web-2": "not measured in this app"}},
			}},
		AutoscalerLag: &results.AutoscalerLag{SampleIntervalSeconds: 5, Samples: 12,
			KEDAScaleLoopLatencySeconds: &results.Distribution{N: 24, P50: 0.002, P95: 0.4, Max: 1.2},
			Absent:                      map[string]string{"hpaWorkqueueDepth": "this cluster kind does not expose kube-controller-manager's metrics endpoint"}},
	}
	return results.Report{SchemaVersion: results.SchemaVersion, RunID: "r1", Scenarios: []results.Scenario{s}}
}

func TestMultiAppReports(t *testing.T) {
	r := multiAppReport()
	var md, html, junit bytes.Buffer
	if err := WriteMarkdown(&md, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"**Across 2 apps** — 2 apps at once, load replicate; 1 passed, failed: web-2. Verdict: every app must pass",
		"| firstScaleUpSeconds | 1/2 | 12.0 | 12.0 | 12.0 | 12.0 | web-2: spec.replicas never rose above the baseline |",
		"KEDA scale-loop latency: p50 0.0020 s, p95 0.400 s, max 1.20 s (24 readings)",
		"hpaWorkqueueDepth: absent: this cluster kind",
		"## web-2", // each app's own section
		"## Apps at once",
		"| web | 2 | replicate | 1/2 | 12.0 / 12.0 / 12.0 (1 apps) | – | 1.50 / 1.50 / 1.50 (1 apps) | – | – | 0.0020 / 0.400 / 1.20 | – |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	if err := WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Across 2 apps", "<h2>Apps at once</h2>", "<td>firstScaleUpSeconds</td><td class=\"num\">1/2</td>", "KEDA scale-loop latency", "web-2"} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if err := WriteJUnit(&junit, r); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	// The scenario's suite (one case per app) and one suite per app (one
	// case per check); the failing app fails in both, named.
	if len(doc.Suites) != 3 || doc.Failures != 2 {
		t.Fatalf("suites %d, failures %d", len(doc.Suites), doc.Failures)
	}
	agg := doc.Suites[0]
	if len(agg.Cases) != 2 || agg.Cases[1].Name != "app web-2" || agg.Cases[1].Failure == nil || agg.Cases[0].Failure != nil {
		t.Errorf("the scenario's suite: %+v", agg.Cases)
	}
	if s := doc.Suites[2]; !strings.Contains(s.Name, "web-2") || len(s.Cases) != 1 || s.Cases[0].Name != "scale-up" || s.Cases[0].Failure == nil {
		t.Errorf("app web-2's suite: %+v", s)
	}

	// report.json keeps the apps nested and reads back.
	var js bytes.Buffer
	if err := WriteJSON(&js, r); err != nil {
		t.Fatal(err)
	}
	back, err := ReadJSON(&js)
	if err != nil || back.Scenarios[0].Apps == nil || len(back.Scenarios[0].Apps.Results) != 2 || len(back.Scenarios) != 1 {
		t.Fatalf("read back: %v", err)
	}
}
