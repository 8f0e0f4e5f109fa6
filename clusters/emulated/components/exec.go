package components

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"strings"
	"time"

	"github.com/scalebench/scalebench/clusters/emulated/proc"
)

// command is one external program run: an argv slice (never a shell string), a working directory and the
// complete environment of the child.
type command struct {
	argv []string
	dir  string
	env  []string
	// stdout: capture stdout apart from stderr (for commands that print JSON). Otherwise both share one
	// pipe, so that the output tail of a failure keeps the order in which the child wrote it.
	stdout bool
}

// ExecError is returned when an external command fails. It keeps the command and the tail of its output.
type ExecError struct {
	Argv   []string
	Dir    string
	Err    error
	Output string // last lines of stdout and stderr, interleaved as written
}

func (e *ExecError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s", proc.QuoteArgv(e.Argv))
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

const (
	tailLines = 40
	tailBytes = 8 << 10
)

// run runs c and returns its stdout (when c.stdout is set). On failure the error is an *ExecError.
func run(ctx context.Context, log *slog.Logger, c command) ([]byte, error) {
	if len(c.argv) == 0 {
		return nil, fmt.Errorf("components: run: empty command")
	}
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	if cmd.Env == nil {
		cmd.Env = []string{} // never inherit by accident
	}
	setProcessGroup(cmd)
	cmd.WaitDelay = 10 * time.Second

	var stdout bytes.Buffer
	combined := &proc.LockedBuffer{}
	if c.stdout {
		cmd.Stdout = io.MultiWriter(&stdout, combined)
	} else {
		cmd.Stdout = combined
	}
	cmd.Stderr = combined

	start := time.Now()
	log.Debug("exec", "argv", c.argv, "dir", c.dir)
	err := cmd.Run()
	log.Debug("exec done", "argv0", c.argv[0], "elapsed", time.Since(start).Round(time.Millisecond), "err", err)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			err = fmt.Errorf("%w (%w)", ctxErr, err)
		}
		return stdout.Bytes(), &ExecError{Argv: c.argv, Dir: c.dir, Err: err, Output: proc.Tail(combined.String(), tailLines, tailBytes)}
	}
	return stdout.Bytes(), nil
}
