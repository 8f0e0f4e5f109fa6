package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/scalebench/scalebench/results"
)

// VersionError is returned by ReadJSON (and WriteJSON) for a report whose
// schemaVersion this build does not know.
type VersionError struct {
	// Got is the version found.
	Got int
	// Missing is set when the report has no schemaVersion at all.
	Missing bool
	// Want is the version this build reads and writes.
	Want int
}

func (e *VersionError) Error() string {
	if e.Missing {
		return fmt.Sprintf("report has no schemaVersion (this build reads schemaVersion %d)", e.Want)
	}
	if e.Got > e.Want {
		return fmt.Sprintf("report schemaVersion %d is newer than this build reads (%d): use a newer scalebench", e.Got, e.Want)
	}
	return fmt.Sprintf("report schemaVersion %d is not supported (this build reads schemaVersion %d)", e.Got, e.Want)
}

// WriteJSON writes r as indented JSON with a trailing newline. Map keys are
// sorted, so the output is stable. A zero SchemaVersion is written as
// results.SchemaVersion; any other version is refused with a *VersionError.
func WriteJSON(w io.Writer, r results.Report) error {
	switch r.SchemaVersion {
	case 0:
		r.SchemaVersion = results.SchemaVersion
	case results.SchemaVersion:
	default:
		return fmt.Errorf("reports: write json: %w", &VersionError{Got: r.SchemaVersion, Want: results.SchemaVersion})
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("reports: write json: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("reports: write json: %w", err)
	}
	return nil
}

// ReadJSON reads a report written by WriteJSON, of any schema version from
// results.MinSchemaVersion on (an older one is read as the current version
// without what was added since). It checks schemaVersion before
// decoding the rest and returns a *VersionError (use errors.As) for a missing
// or unknown version. Unknown fields are ignored.
func ReadJSON(rd io.Reader) (results.Report, error) {
	b, err := io.ReadAll(rd)
	if err != nil {
		return results.Report{}, fmt.Errorf("reports: read json: %w", err)
	}
	var head struct {
		SchemaVersion *int `json:"schemaVersion"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return results.Report{}, fmt.Errorf("reports: read json: %w", err)
	}
	if head.SchemaVersion == nil {
		return results.Report{}, fmt.Errorf("reports: read json: %w", &VersionError{Missing: true, Want: results.SchemaVersion})
	}
	if got := *head.SchemaVersion; got < results.MinSchemaVersion || got > results.SchemaVersion {
		return results.Report{}, fmt.Errorf("reports: read json: %w", &VersionError{Got: got, Want: results.SchemaVersion})
	}
	var r results.Report
	if err := json.Unmarshal(b, &r); err != nil {
		return results.Report{}, fmt.Errorf("reports: read json: %w", err)
	}
	return r, nil
}
