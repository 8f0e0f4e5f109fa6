package compare

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/reports"
)

// chromiumPath is Debian's headless-capable Chromium (apt-get install chromium).
const chromiumPath = "/usr/bin/chromium"

// TestCompareHTMLInChromium loads compare.html in headless Chromium and
// checks what it rendered: the table with its verdicts, one overlaid
// timeline per scenario with a line per trial, and a distribution per
// metric with a dot per trial.
func TestCompareHTMLInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("starts headless Chromium; run without -short (make test-integration)")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skipf("headless Chromium not installed (%v): apt-get install chromium", err)
	}
	c := syntheticComparison()
	dir := t.TempDir()
	if err := reports.WriteCompareAll(dir, c); err != nil {
		t.Fatal(err)
	}
	page := "file://" + filepath.Join(dir, reports.CompareHTMLFile)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	run := func(args ...string) []byte {
		t.Helper()
		base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
			"--user-data-dir=" + filepath.Join(dir, "profile")}
		cmd := exec.CommandContext(ctx, chromiumPath, append(base, args...)...)
		out, err := cmd.Output()
		if err != nil {
			stderr := ""
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		return out
	}
	dom := string(run("--dump-dom", page))
	count := func(re string) int { return len(regexp.MustCompile(re).FindAllString(dom, -1)) }
	if n := count(`<svg class="chart"`); n != 2 {
		t.Errorf("%d timeline charts, want 2 (one per scenario)", n)
	}
	// 5 trials per scenario, one polyline each, in 2 charts.
	if n := count(`<g class="series t-\d"`); n != 10 {
		t.Errorf("%d trial lines, want 10", n)
	}
	if n := count(`<svg class="dist"`); n != len(c.Metrics) {
		t.Errorf("%d distribution charts, want %d", n, len(c.Metrics))
	}
	if n := count(`<circle `); n != 10*len(c.Metrics) {
		t.Errorf("%d dots, want %d", n, 10*len(c.Metrics))
	}
	if !strings.Contains(dom, `class="winner"`) || !strings.Contains(dom, "fast better") || !strings.Contains(dom, "no difference shown") {
		t.Error("the table lacks its verdicts")
	}
	shot := filepath.Join(dir, "compare.png")
	run("--screenshot="+shot, "--window-size=1280,3000", page)
	if st, err := os.Stat(shot); err != nil || st.Size() < 10000 {
		t.Fatalf("screenshot: %v (%v bytes)", err, st)
	}
}
