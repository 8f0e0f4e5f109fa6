package load

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"time"
)

// CommandError is the error of a command that failed: it keeps the command
// line and what it wrote.
type CommandError struct {
	Argv   []string
	Dir    string
	Stdout []byte
	Stderr []byte
	Err    error
}

func (e *CommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "command %q", e.Argv)
	if e.Dir != "" {
		fmt.Fprintf(&b, " in %s", e.Dir)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	for _, o := range []struct {
		name string
		out  []byte
	}{{"stderr", e.Stderr}, {"stdout", e.Stdout}} {
		if s := strings.TrimSpace(string(o.out)); s != "" {
			const limit = 4 << 10
			if len(s) > limit {
				s = "..." + s[len(s)-limit:]
			}
			fmt.Fprintf(&b, "\n%s: %s", o.name, s)
		}
	}
	return b.String()
}

func (e *CommandError) Unwrap() error { return e.Err }

// command runs argv (never through a shell) in dir and returns its stdout.
// When ctx is done the process first gets an interrupt, so a tool such as
// bombardier can stop and print its results, and is killed grace later.
// On failure the error is a *CommandError; the stdout read so far is
// returned with it.
func command(ctx context.Context, log *slog.Logger, dir string, grace time.Duration, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, fmt.Errorf("load: empty command")
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = grace
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	log.DebugContext(ctx, "load: exec", "argv", argv, "dir", dir)
	err := cmd.Run()
	log.DebugContext(ctx, "load: exec done", "argv0", argv[0], "took", time.Since(start), "err", err)
	if err != nil {
		return stdout.Bytes(), &CommandError{Argv: argv, Dir: dir, Stdout: stdout.Bytes(), Stderr: stderr.Bytes(), Err: err}
	}
	return stdout.Bytes(), nil
}
