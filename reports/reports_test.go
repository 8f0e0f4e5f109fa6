package reports

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/scalebench/scalebench/results"
)

func TestJSONRoundTrip(t *testing.T) {
	for name, r := range fixtures() {
		t.Run(name, func(t *testing.T) {
			var first bytes.Buffer
			if err := WriteJSON(&first, r); err != nil {
				t.Fatal(err)
			}
			got, err := ReadJSON(bytes.NewReader(first.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, r) {
				t.Errorf("report changed through WriteJSON/ReadJSON")
				for i := range min(len(got.Scenarios), len(r.Scenarios)) {
					for j := range min(len(got.Scenarios[i].Timeline), len(r.Scenarios[i].Timeline)) {
						if g, w := got.Scenarios[i].Timeline[j], r.Scenarios[i].Timeline[j]; !reflect.DeepEqual(g, w) {
							t.Fatalf("scenario %d event %d:\n got %+v\nwant %+v", i, j, g, w)
						}
					}
				}
			}
			var second bytes.Buffer
			if err := WriteJSON(&second, got); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Errorf("re-encoding a read report is not byte-identical")
			}
		})
	}
}

func TestReadJSONVersions(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		want     VersionError
		msg      string
	}{
		{"newer", `{"schemaVersion": 3, "runId": "x"}`, VersionError{Got: 3, Want: 2}, "newer than this build reads"},
		{"missing", `{"runId": "x"}`, VersionError{Missing: true, Want: 2}, "no schemaVersion"},
		{"zero", `{"schemaVersion": 0}`, VersionError{Got: 0, Want: 2}, "schemaVersion 0 is not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadJSON(strings.NewReader(tc.in))
			var ve *VersionError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *VersionError", err)
			}
			if *ve != tc.want {
				t.Errorf("got %+v, want %+v", *ve, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
		})
	}
	if _, err := ReadJSON(strings.NewReader(`{"schemaVersion": 1,`)); err == nil {
		t.Error("truncated JSON read without error")
	}
	// A version 1 report (before apps) still reads, as a report without apps.
	r, err := ReadJSON(strings.NewReader(`{"schemaVersion": 1, "runId": "old", "scenarios": [{"name": "hpa-cpu", "passed": true, "metrics": {"firstScaleUpSeconds": 12.5}, "steps": [], "checks": [], "timeline": []}]}`))
	if err != nil {
		t.Fatalf("version 1 report: %v", err)
	}
	if r.SchemaVersion != 1 || len(r.Scenarios) != 1 || r.Scenarios[0].Apps != nil || *r.Scenarios[0].Metrics.FirstScaleUpSeconds != 12.5 {
		t.Errorf("version 1 report read as %+v", r)
	}
}

func TestWriteJSONVersion(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, results.Report{RunID: "x"}); err != nil {
		t.Fatal(err)
	}
	if r, err := ReadJSON(&buf); err != nil || r.SchemaVersion != results.SchemaVersion {
		t.Fatalf("zero version not written as %d: %+v, %v", results.SchemaVersion, r, err)
	}
	var ve *VersionError
	if err := WriteJSON(&buf, results.Report{SchemaVersion: 7}); !errors.As(err, &ve) {
		t.Fatalf("writing schemaVersion 7: got %v, want a *VersionError", err)
	}
}

// junitDoc is what a JUnit consumer reads back.
type junitDoc struct {
	XMLName  xml.Name `xml:"testsuites"`
	Tests    int      `xml:"tests,attr"`
	Failures int      `xml:"failures,attr"`
	Errors   int      `xml:"errors,attr"`
	Suites   []struct {
		Name       string `xml:"name,attr"`
		Tests      int    `xml:"tests,attr"`
		Failures   int    `xml:"failures,attr"`
		Errors     int    `xml:"errors,attr"`
		Skipped    int    `xml:"skipped,attr"`
		Time       string `xml:"time,attr"`
		Properties []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:"value,attr"`
		} `xml:"properties>property"`
		Cases []struct {
			Name    string `xml:"name,attr"`
			Failure *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
			Error *struct {
				Message string `xml:"message,attr"`
				Text    string `xml:",chardata"`
			} `xml:"error"`
			Skipped *struct {
				Message string `xml:"message,attr"`
			} `xml:"skipped"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestJUnitParses reads every golden report.xml back and checks that the
// counts agree with the elements and with the fixture.
func TestJUnitParses(t *testing.T) {
	type counts struct{ tests, failures, errors, skipped int }
	want := map[string][]counts{
		// Each hpa trial has a check that was not tested: a JUnit <skipped>.
		"hpa":    {{5, 0, 0, 1}, {5, 0, 0, 1}},
		"sqs":    {{4, 0, 0, 0}},
		"failed": {{4, 2, 1, 0}, {2, 1, 0, 0}},
	}
	fx := fixtures()
	for name, suites := range want {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteJUnit(&buf, fx[name]); err != nil {
				t.Fatal(err)
			}
			var doc junitDoc
			if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatalf("report.xml does not parse: %v", err)
			}
			if len(doc.Suites) != len(suites) {
				t.Fatalf("%d suites, want %d", len(doc.Suites), len(suites))
			}
			var total counts
			for i, s := range doc.Suites {
				var c counts
				for _, tc := range s.Cases {
					c.tests++
					if tc.Failure != nil {
						c.failures++
						if tc.Failure.Message == "" || tc.Failure.Text == "" {
							t.Errorf("suite %q case %q: failure without message or detail", s.Name, tc.Name)
						}
					}
					if tc.Error != nil {
						c.errors++
					}
					if tc.Skipped != nil {
						c.skipped++
						if !strings.Contains(tc.Skipped.Message, "not tested") || tc.Failure != nil {
							t.Errorf("suite %q case %q: a check not tested must say so and not fail: %+v", s.Name, tc.Name, tc.Skipped)
						}
					}
				}
				if c != suites[i] {
					t.Errorf("suite %q has %+v, want %+v", s.Name, c, suites[i])
				}
				if s.Tests != c.tests || s.Failures != c.failures || s.Errors != c.errors || s.Skipped != c.skipped {
					t.Errorf("suite %q attributes tests=%d failures=%d errors=%d disagree with its cases %+v",
						s.Name, s.Tests, s.Failures, s.Errors, c)
				}
				props := map[string]string{}
				for _, p := range s.Properties {
					props[p.Name] = p.Value
				}
				if props["env.provider"] != fx[name].Environment.Provider || props["run.id"] != fx[name].RunID {
					t.Errorf("suite %q lacks the environment fingerprint: %v", s.Name, props)
				}
				total.tests += c.tests
				total.failures += c.failures
				total.errors += c.errors
			}
			if doc.Tests != total.tests || doc.Failures != total.failures || doc.Errors != total.errors {
				t.Errorf("testsuites totals %d/%d/%d, want %+v", doc.Tests, doc.Failures, doc.Errors, total)
			}
		})
	}

	// The harness error keeps its whole text.
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, fx["failed"]); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	last := doc.Suites[0].Cases[len(doc.Suites[0].Cases)-1]
	if last.Name != harnessCase || last.Error == nil || last.Error.Text != fx["failed"].Scenarios[0].Error {
		t.Errorf("harness error case = %+v, want the scenario's full Error", last)
	}
}

func TestJUnitScenarioWithoutChecks(t *testing.T) {
	r := results.Report{RunID: "r", Scenarios: []results.Scenario{
		{Name: "ok", Passed: true},
		{Name: "bad", Passed: false},
	}}
	var buf bytes.Buffer
	if err := WriteJUnit(&buf, r); err != nil {
		t.Fatal(err)
	}
	var doc junitDoc
	if err := xml.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Tests != 2 || doc.Failures != 1 {
		t.Errorf("tests=%d failures=%d, want 2 and 1: every scenario shows up with its verdict", doc.Tests, doc.Failures)
	}
}

func TestMarkdownAbsentMetrics(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, fixtures()["sqs"]); err != nil {
		t.Fatal(err)
	}
	var row []string
	for _, l := range strings.Split(buf.String(), "\n") {
		if strings.HasPrefix(l, "| keda-sqs-drain |") {
			row = strings.Split(strings.Trim(l, "|"), "|")
		}
	}
	if len(row) != 4+len(summaryColumns) {
		t.Fatalf("summary row %q has %d cells", row, len(row))
	}
	cell := func(h string) string {
		for i, c := range summaryColumns {
			if c.Header == h {
				return strings.TrimSpace(row[4+i])
			}
		}
		t.Fatalf("no column %q", h)
		return ""
	}
	for h, want := range map[string]string{"cold start s": "–", "p99 s": "–", "errors": "–", "messages lost": "0", "peak replicas": "8"} {
		if got := cell(h); got != want {
			t.Errorf("column %q = %q, want %q", h, got, want)
		}
	}
}

func TestMarkdownEscapes(t *testing.T) {
	r := results.Report{RunID: "r", Scenarios: []results.Scenario{{
		Name: "a|b", Checks: []results.Check{{Name: "x", Detail: "<script>alert(1)</script> | *bold*"}},
	}}}
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, r); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, bad := range []string{"<script>", "| a|b |", " *bold*"} {
		if strings.Contains(out, bad) {
			t.Errorf("markdown contains unescaped %q", bad)
		}
	}
}

// TestHTMLSelfContained checks the page needs nothing from outside and
// escapes what the report says.
func TestHTMLSelfContained(t *testing.T) {
	for name, r := range fixtures() {
		var buf bytes.Buffer
		if err := WriteHTML(&buf, r); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		for _, bad := range []string{"<script", "<link", " src=", "url(", "@import", "https://", "@font-face"} {
			if strings.Contains(out, bad) {
				t.Errorf("%s: report.html contains %q", name, bad)
			}
		}
		if n := strings.Count(out, `<svg class="chart"`); n != len(r.Scenarios) {
			t.Errorf("%s: %d charts for %d scenario trials", name, n, len(r.Scenarios))
		}
	}
	var buf bytes.Buffer
	if err := WriteHTML(&buf, fixtures()["failed"]); err != nil {
		t.Fatal(err)
	}
	if out := buf.String(); strings.Contains(out, "<html> &") || !strings.Contains(out, "&lt;html&gt; &amp;") {
		t.Error("check detail is not HTML-escaped")
	}
}

func TestWriteAll(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "reports")
	if err := WriteAll(dir, fixtures()["sqs"]); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{HTMLFile, JSONFile, MarkdownFile, JUnitFile}; !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want exactly %v (no temporary files left)", names, want)
	}
}

func TestAggregates(t *testing.T) {
	trial := func(d float64, peak int32) results.Scenario {
		return results.Scenario{Metrics: results.Metrics{DecisionSeconds: results.F64(d), PeakReplicas: results.I32(peak)}}
	}
	aggs := aggregates([]results.Scenario{trial(15, 10), trial(12, 8), trial(30, 10), {}})
	want := []aggregate{
		{Metric: "decision s", N: 3, Median: "15.0", Min: "12.0", Max: "30.0"},
		{Metric: "peak replicas", N: 3, Median: "10", Min: "8", Max: "10"},
	}
	if !reflect.DeepEqual(aggs, want) {
		t.Errorf("aggregates = %+v, want %+v", aggs, want)
	}
}

func TestEmptyReportRenders(t *testing.T) {
	if err := WriteAll(t.TempDir(), results.Report{RunID: "nothing-ran"}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteMarkdown(&buf, results.Report{RunID: "nothing-ran"}); err != nil || !strings.Contains(buf.String(), "No scenarios ran") {
		t.Errorf("markdown for an empty run: %v\n%s", err, buf.String())
	}
}

// TestLoadPlacementRow: a cluster-placed load says so with its pod count
// (and how the pods ran); a load from the bench process has no such row.
func TestLoadPlacementRow(t *testing.T) {
	pods := 3
	rows := metricRows(results.Metrics{LoadMode: "closed-loop", LoadPlacement: "cluster", LoadPods: &pods, LoadPlacementNote: "emulated: in process"})
	var got string
	for _, r := range rows {
		if r.Name == "load placement" {
			got = r.Value
		}
	}
	if got != "cluster, 3 pods (emulated: in process)" {
		t.Errorf("load placement row %q", got)
	}
	for _, r := range metricRows(results.Metrics{LoadMode: "closed-loop"}) {
		if r.Name == "load placement" {
			t.Errorf("a bench-placed load has a placement row: %q", r.Value)
		}
	}
}
