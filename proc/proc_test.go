package proc

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func sh(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	return p
}

func TestSupervisorStopIsRequestedAndGraceful(t *testing.T) {
	s, err := New(Options{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopAll(context.Background())
	p, err := s.Start(Spec{Name: "sleeper", Path: sh(t), Args: []string{"-c", `trap 'echo got term; exit 0' TERM; echo hello $FOO; while :; do sleep 0.05; done`}, Env: []string{"FOO=bar"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Start(Spec{Name: "sleeper", Path: sh(t)}); err == nil {
		t.Fatal("second start with the same name succeeded")
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Stop(context.Background(), "sleeper"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	e := p.Exit()
	if !e.Requested || e.Err != nil {
		t.Fatalf("exit = %+v, want requested and clean", e)
	}
	if len(s.Exits()) != 0 {
		t.Fatalf("requested stop reported as unexpected: %v", s.Exits())
	}
	log, _ := os.ReadFile(p.LogPath())
	for _, want := range []string{"hello bar", "got term", "=== "} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	if len(s.Running()) != 0 {
		t.Fatalf("running = %v", s.Running())
	}
}

func TestSupervisorReportsUnexpectedExit(t *testing.T) {
	s, err := New(Options{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopAll(context.Background())
	sub := s.Subscribe()
	if _, err := s.Start(Spec{Name: "crasher", Path: sh(t), Args: []string{"-c", "echo boom >&2; exit 3"}}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-sub:
		if e.Name != "crasher" || e.Requested || e.Err == nil {
			t.Fatalf("exit = %+v", e)
		}
		if !strings.Contains(e.Error(), "boom") || !strings.Contains(e.Error(), `"crasher"`) {
			t.Fatalf("exit message lacks name or log tail: %s", e.Error())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no exit reported")
	}
	if got := s.Exits(); len(got) != 1 {
		t.Fatalf("exits = %v", got)
	}
}

func TestSupervisorKillsStubbornProcess(t *testing.T) {
	s, err := New(Options{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Start(Spec{Name: "stubborn", Path: sh(t), Args: []string{"-c", `trap '' TERM; while :; do sleep 0.05; done`}, StopTimeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	err = s.StopAll(context.Background())
	if err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("StopAll = %v, want a 'killed' error", err)
	}
	select {
	case <-p.Done():
	default:
		t.Fatal("process still running")
	}
}

func TestKillUnknown(t *testing.T) {
	s, err := New(Options{LogDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.StopAll(context.Background())
	if err := s.Kill(context.Background(), "nope"); !errors.Is(err, ErrNotRunning) {
		t.Fatalf("err = %v", err)
	}
}

func TestRunKeepsCommandAndOutput(t *testing.T) {
	_, err := Run(context.Background(), Cmd{Argv: []string{sh(t), "-c", "echo out; echo err >&2; exit 2"}})
	var ee *ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"exit status 2", "out", "err", `"echo out; echo err >&2; exit 2"`} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	out, err := Run(context.Background(), Cmd{Argv: []string{sh(t), "-c", "echo -n $A"}, Env: []string{"A=1"}})
	if err != nil || string(out) != "1" {
		t.Fatalf("out=%q err=%v", out, err)
	}
}

func TestTail(t *testing.T) {
	if got := Tail("a\nb\nc\n", 2, 100); got != "…\nb\nc" {
		t.Errorf("tail lines = %q", got)
	}
	if got := Tail("aaaa\nbbbb\ncccc", 10, 6); got != "…\ncccc" {
		t.Errorf("tail bytes = %q", got)
	}
}

func TestExecErrorKeepsCommandDirAndOutputTail(t *testing.T) {
	script := "for i in $(seq 1 100); do echo out $i; echo err $i >&2; done; exit 3"
	dir := t.TempDir()
	_, err := Run(context.Background(), Cmd{Argv: []string{sh(t), "-c", script}, Dir: dir, Env: []string{"PATH=" + os.Getenv("PATH")}})
	var ee *ExecError
	if !errors.As(err, &ee) {
		t.Fatalf("err = %v, want *ExecError", err)
	}
	msg := err.Error()
	for _, want := range []string{" -c ", "(in " + dir + ")", "exit status 3", "out 100", "err 100"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "out 1\n") || strings.Count(ee.Output, "\n") > tailLines+1 {
		t.Errorf("output not cut to its tail:\n%s", ee.Output)
	}
}

func TestRunDoesNotInheritEnvironment(t *testing.T) {
	t.Setenv("SCALEBENCH_TEST_SECRET", "x")
	out, err := Run(context.Background(), Cmd{Argv: []string{sh(t), "-c", "env"}, Env: []string{"ONLY=1"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(out), "SCALEBENCH_TEST_SECRET") || !strings.Contains(string(out), "ONLY=1") {
		t.Errorf("child environment = %q, want ONLY=1 and nothing of the harness's", out)
	}
}

func TestRunStdoutApartFromStderr(t *testing.T) {
	script := "echo warning >&2; echo '{\"a\":1}'"
	out, err := Run(context.Background(), Cmd{Argv: []string{sh(t), "-c", script}, Stdout: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(out)); got != `{"a":1}` {
		t.Errorf("stdout = %q, want the JSON alone", got)
	}
	out, err = Run(context.Background(), Cmd{Argv: []string{sh(t), "-c", script}})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(out); got != "warning\n{\"a\":1}\n" {
		t.Errorf("combined output = %q, want both in the order written", got)
	}
}

func TestRunInterruptLetsTheCommandFinish(t *testing.T) {
	// Like bombardier: on SIGINT the command prints its results and exits.
	script := `trap 'echo results; exit 0' INT; echo started; while :; do sleep 0.05; done`
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	out, err := Run(ctx, Cmd{Argv: []string{sh(t), "-c", script}, Stdout: true, Interrupt: true, Grace: 5 * time.Second})
	if !strings.Contains(string(out), "results") {
		t.Errorf("stdout = %q, want the results printed on SIGINT", out)
	}
	// The exit was clean, but the run was cut short by ctx: exec reports it.
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want nil or one wrapping the deadline", err)
	}
}

func TestRunCancelKillsTheProcessGroup(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	// The child ignores SIGINT and SIGTERM and has a child of its own holding
	// the output pipe: only a SIGKILL of the group ends it within the grace.
	_, err := Run(ctx, Cmd{Argv: []string{sh(t), "-c", "trap '' INT TERM; sleep 30 & wait"}, Grace: 10 * time.Second})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to wrap the deadline", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("Run returned after %s: the group was not killed", el)
	}
}

func TestRunEmptyCommand(t *testing.T) {
	if _, err := Run(context.Background(), Cmd{}); err == nil {
		t.Fatal("want an error for an empty argv")
	}
}

func TestLockFileWaitsForHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := LockFile(context.Background(), path, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatal(err)
	}
	waited := false
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	if _, err := LockFile(ctx, path, 50*time.Millisecond, func() { waited = true }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock: err = %v, want deadline exceeded", err)
	}
	if !waited {
		t.Error("waiting callback not called")
	}
	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	unlock2, err := LockFile(context.Background(), path, 50*time.Millisecond, nil)
	if err != nil {
		t.Fatalf("lock after unlock: %v", err)
	}
	unlock2()
}
