// Package reports renders a run's results.Report into the files a run leaves
// behind: report.json (the versioned schema), report.xml (JUnit, for CI test
// reporters), report.md (a summary for $GITHUB_STEP_SUMMARY) and report.html
// (one self-contained page with an SVG chart per scenario trial).
//
// Every writer is deterministic: map keys are sorted and nothing reads the
// clock, so the same report always renders to the same bytes.
package reports

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/scalebench/scalebench/results"
)

// File names WriteAll writes.
const (
	JSONFile     = "report.json"
	JUnitFile    = "report.xml"
	MarkdownFile = "report.md"
	HTMLFile     = "report.html"
)

// WriteAll writes report.json, report.xml, report.md and report.html into
// dir, creating it if needed. A file that fails to render does not stop the
// others; all failures are returned joined.
func WriteAll(dir string, r results.Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("reports: create %q: %w", dir, err)
	}
	writers := []struct {
		name  string
		write func(io.Writer, results.Report) error
	}{
		{JSONFile, WriteJSON},
		{JUnitFile, WriteJUnit},
		{MarkdownFile, WriteMarkdown},
		{HTMLFile, WriteHTML},
	}
	var errs []error
	for _, w := range writers {
		if err := writeFile(filepath.Join(dir, w.name), r, w.write); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// writeFile renders into memory first and then replaces path atomically, so a
// failed render never leaves a truncated report behind.
func writeFile(path string, r results.Report, write func(io.Writer, results.Report) error) error {
	var buf bytes.Buffer
	if err := write(&buf, r); err != nil {
		return fmt.Errorf("reports: render %s: %w", filepath.Base(path), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("reports: write %q: %w", path, err)
	}
	_, werr := tmp.Write(buf.Bytes())
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: write %q: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: write %q: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("reports: write %q: %w", path, err)
	}
	return nil
}

// ranWithNote says, for a scenario run in parallel with others, which ones
// and what they shared ("" when it ran alone).
func ranWithNote(s results.Scenario) string {
	if len(s.RanWith) == 0 {
		return ""
	}
	return "Ran in parallel with " + strings.Join(s.RanWith, ", ") + " on the same cluster (bench run --parallel), each in its own namespace: " +
		"they shared the control plane, the autoscalers' controllers, the data plane and this machine's CPU."
}
