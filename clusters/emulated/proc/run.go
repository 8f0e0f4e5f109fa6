package proc

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cmd is one run of an external program: an argv slice (never a shell
// string), its complete environment and its working directory.
type Cmd struct {
	Argv []string
	// Env is the complete environment of the child; nil means empty.
	Env []string
	Dir string
	// Logger receives a debug line per run; nil discards.
	Logger *slog.Logger
}

// ExecError is returned by Run when the command fails. It keeps the command
// and the tail of its combined output.
type ExecError struct {
	Argv   []string
	Err    error
	Output string
}

func (e *ExecError) Error() string {
	msg := fmt.Sprintf("run %s: %v", QuoteArgv(e.Argv), e.Err)
	if out := strings.TrimSpace(e.Output); out != "" {
		msg += "\n" + out
	}
	return msg
}

func (e *ExecError) Unwrap() error { return e.Err }

// Run runs c to completion and returns its stdout; on failure the error is an
// *ExecError with the last 30 lines of stdout and stderr. Cancelling ctx kills
// the command's whole process group.
func Run(ctx context.Context, c Cmd) ([]byte, error) {
	if len(c.Argv) == 0 {
		return nil, fmt.Errorf("proc: run: empty command")
	}
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cmd := exec.CommandContext(ctx, c.Argv[0], c.Argv[1:]...)
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = c.Dir
	cmd.SysProcAttr = sysProcAttr(false)
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, sigKill) }
	cmd.WaitDelay = 5 * time.Second

	var stdout bytes.Buffer
	combined := &LockedBuffer{}
	cmd.Stdout = io.MultiWriter(&stdout, combined)
	cmd.Stderr = combined

	start := time.Now()
	err := cmd.Run()
	logger.Debug("exec", "argv", c.Argv, "elapsed", time.Since(start).Round(time.Millisecond), "err", err)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return stdout.Bytes(), &ExecError{Argv: c.Argv, Err: err, Output: Tail(combined.String(), 30, 8<<10)}
	}
	return stdout.Bytes(), nil
}

// Tail returns at most the last n lines and max bytes of s.
func Tail(s string, n, max int) string {
	s = strings.TrimRight(s, "\n")
	if len(s) > max {
		s = s[len(s)-max:]
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
		s = "…\n" + s
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// QuoteArgv renders argv for messages, quoting arguments a shell would split.
func QuoteArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsAny(a, " \t\n\"'\\$`*?[]{}();&|<>#~") {
			q[i] = strconv.Quote(a)
		} else {
			q[i] = a
		}
	}
	return strings.Join(q, " ")
}

// LockedBuffer is a bytes.Buffer safe for the concurrent writes of a
// command's stdout and stderr.
type LockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
