package reports

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzReadJSON: any input is read without panicking; an error names the
// reader and never prints a nil value; a report read renders.
func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		"", "null", "[]", "{}", `{"schemaVersion": "1"}`, `{"schemaVersion": 99}`,
		`{"schemaVersion": 1, "scenarios": 7}`,
		`{"schemaVersion": 1, "schemaVersion": 2}`,
		`{"schemaVersion": 1, "scenarios": [{"metrics": {"peakReplicas": 1e99}}]}`,
		`{"schemaVersion": 1, "scenarios": [{"name": "a", "timeline": [{"kind": "marker"}]}]}`,
		"\x00\xff{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ReadJSON(bytes.NewReader(data))
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "<nil>") || !strings.HasPrefix(msg, "reports: read json") {
				t.Fatalf("error %q", msg)
			}
			return
		}
		var b bytes.Buffer
		if err := WriteMarkdown(&b, r); err != nil {
			t.Fatalf("a report read does not render: %v", err)
		}
	})
}
