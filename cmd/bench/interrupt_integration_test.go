package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
)

// The promise, end to end with the built binary: `bench run`
// interrupted by SIGINT 60 s after its start exits 130 within 30 s, leaves
// no process started from its files and no cluster files, and writes
// report.json marked interrupted. TMPDIR is the test's own folder, so
// "the run's files" and "processes started from them" are exactly what
// lives under it.
func TestRunInterruptedBySIGINT(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts an emulated cluster (~1.5 min)")
	}
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components builds them): %s", strings.Join(missing, ", "))
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bench")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tmp := filepath.Join(dir, "tmp")
	out := filepath.Join(dir, "out")
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--scenario", "hpa-cpu-fast", "--out", out, "--ingress-addr", "127.0.0.1:0", "--progress", "always")
	cmd.Env = append(os.Environ(), "TMPDIR="+tmp)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		t.Fatalf("bench run ended before the signal: %v\n%s", err, stderr.String())
	case <-time.After(60 * time.Second):
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	var err error
	select {
	case err = <-exited:
	case <-time.After(45 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("bench run still running 45 s after SIGINT\n%s", stderr.String())
	}
	took := time.Since(signalled)
	t.Logf("exit %v %s after SIGINT", err, took.Round(100*time.Millisecond))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("exit %v, want 130\n%s", err, stderr.String())
	}
	if took > 30*time.Second {
		t.Errorf("exited %s after SIGINT, want ≤ 30 s", took.Round(100*time.Millisecond))
	}
	// No process started from the run's files (pgrep by folder).
	if p, _ := exec.Command("pgrep", "-f", tmp).Output(); len(bytes.TrimSpace(p)) > 0 {
		t.Errorf("processes of the run left: pgrep -f %s: %s", tmp, p)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "*")); len(left) > 0 {
		t.Errorf("cluster files left: %v", left)
	}
	data, rerr := os.ReadFile(filepath.Join(out, "report.json"))
	if rerr != nil {
		t.Fatalf("no report.json: %v\n%s", rerr, stderr.String())
	}
	var rep struct {
		Interrupted bool `json:"interrupted"`
	}
	if err := json.Unmarshal(data, &rep); err != nil || !rep.Interrupted {
		t.Errorf("report.json interrupted=%v (%v), want true", rep.Interrupted, err)
	}
}
