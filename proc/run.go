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
	// Env is the complete environment of the child; nil means empty (pass
	// os.Environ() to inherit the harness's).
	Env []string
	Dir string
	// Stdout makes Run return stdout alone, read apart from stderr, for a
	// command that prints a value or JSON (go env, go mod download -json,
	// bombardier's results). Otherwise stdout and stderr share one pipe and
	// Run returns them together, in the order the child wrote them.
	Stdout bool
	// Interrupt, when ctx ends, sends SIGINT to the command's process group
	// instead of SIGKILL, so that a tool such as bombardier can stop and
	// print its results; it is killed Grace later if still running.
	Interrupt bool
	// Grace is how long Run waits, once ctx ends, for the command (and for
	// its output pipes) before killing it; 0 means 5 s.
	Grace time.Duration
	// Logger receives a debug line per run; nil discards.
	Logger *slog.Logger
}

// ExecError is the error of a command that failed to start or exited with a
// failure. It keeps the command, its working directory and the tail of its
// output (stdout and stderr, interleaved as written).
type ExecError struct {
	Argv   []string
	Dir    string
	Err    error
	Output string
}

func (e *ExecError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s", QuoteArgv(e.Argv))
	if e.Dir != "" {
		fmt.Fprintf(&b, " (in %s)", e.Dir)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	if out := strings.TrimSpace(e.Output); out != "" {
		b.WriteString("\n")
		b.WriteString(out)
	}
	return b.String()
}

func (e *ExecError) Unwrap() error { return e.Err }

// The output an ExecError keeps.
const (
	tailLines = 40
	tailBytes = 8 << 10
)

// Run runs c to completion in its own process group and returns its output
// (see Cmd.Stdout). On failure the error is an *ExecError, returned with the
// output read so far; when ctx ended it wraps ctx's error too. Cancelling
// ctx signals the whole process group: a `go build` starts compilers and
// linkers that would otherwise outlive it.
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
		cmd.Env = []string{} // never inherit by accident
	}
	cmd.Dir = c.Dir
	cmd.SysProcAttr = sysProcAttr(false)
	sig := sigKill
	if c.Interrupt {
		sig = sigInt
	}
	cmd.Cancel = func() error { return signalGroup(cmd.Process.Pid, sig) }
	cmd.WaitDelay = c.Grace
	if cmd.WaitDelay <= 0 {
		cmd.WaitDelay = 5 * time.Second
	}

	var stdout bytes.Buffer
	combined := &LockedBuffer{}
	if c.Stdout {
		cmd.Stdout = io.MultiWriter(&stdout, combined)
	} else {
		cmd.Stdout = combined
	}
	cmd.Stderr = combined

	start := time.Now()
	logger.DebugContext(ctx, "exec", "argv", c.Argv, "dir", c.Dir)
	err := cmd.Run()
	logger.DebugContext(ctx, "exec done", "argv0", c.Argv[0], "elapsed", time.Since(start).Round(time.Millisecond), "err", err)
	out := stdout.Bytes()
	if !c.Stdout {
		out = []byte(combined.String())
	}
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return out, &ExecError{Argv: c.Argv, Dir: c.Dir, Err: err, Output: Tail(combined.String(), tailLines, tailBytes)}
	}
	return out, nil
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
