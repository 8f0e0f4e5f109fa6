// Package proc runs the external programs of the harness, always as argv
// slices, never through a shell. Run runs a one-shot command (a build, a
// tool, a load generator) whose error keeps the command and the tail of its
// output. A Supervisor keeps long-running processes (the emulated cluster's
// components): it starts them with an explicit environment, gives each a log
// file, stops them gracefully (SIGTERM, then SIGKILL), and reports the ones
// that exit on their own.
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// DefaultStopTimeout is how long Stop waits after SIGTERM before SIGKILL.
const DefaultStopTimeout = 10 * time.Second

// Spec describes one supervised process.
type Spec struct {
	// Name identifies the process in the supervisor; its log is
	// <log dir>/<Name>.log. Names are unique among running processes.
	Name string
	// Path is the executable.
	Path string
	// Args are the arguments, without the program name.
	Args []string
	// Env is the complete environment of the child: nothing is inherited
	// from the harness (no HTTP_PROXY by accident). Nil means empty.
	Env []string
	// Dir is the working directory ("" = the log directory).
	Dir string
	// StopTimeout is the grace period between SIGTERM and SIGKILL
	// (DefaultStopTimeout when zero).
	StopTimeout time.Duration
}

// Exit records how a supervised process ended.
type Exit struct {
	Name string
	Pid  int
	// Err is the wait error (nil for exit status 0).
	Err error
	// Requested is true when the process was stopped or killed through the
	// supervisor; false means it died on its own.
	Requested bool
	At        time.Time
	// Uptime is how long it ran.
	Uptime time.Duration
	// LogPath is its log file; LogTail the last lines of it.
	LogPath string
	LogTail string
}

// Error describes the exit, naming the process, for reports.
func (e Exit) Error() string {
	how := "exited"
	if e.Err != nil {
		how = "exited: " + e.Err.Error()
	}
	if e.Requested {
		how = "was stopped on request"
	}
	msg := fmt.Sprintf("component %q (pid %d) %s after %s", e.Name, e.Pid, how, e.Uptime.Round(time.Millisecond))
	if !e.Requested && e.LogTail != "" {
		msg += "; log " + e.LogPath + " ends with:\n" + e.LogTail
	}
	return msg
}

// ErrNotRunning is returned when a named process is not running.
var ErrNotRunning = errors.New("process not running")

// Options configure a Supervisor.
type Options struct {
	// LogDir receives one log file per process.
	LogDir string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Detach lets processes outlive the harness (no parent-death signal):
	// for clusters kept for debugging.
	Detach bool
}

// Supervisor starts and stops named processes. It is safe for concurrent use.
type Supervisor struct {
	opts   Options
	logger *slog.Logger

	mu      sync.Mutex
	procs   map[string]*Process
	order   []string // start order of running processes
	exits   []Exit   // unexpected exits, in order
	waiters []chan Exit

	spawn chan spawnReq
	quit  chan struct{}
	once  sync.Once
}

// New returns a supervisor writing logs to opts.LogDir.
func New(opts Options) (*Supervisor, error) {
	if opts.LogDir == "" {
		return nil, errors.New("proc: empty log directory")
	}
	if err := os.MkdirAll(opts.LogDir, 0o755); err != nil {
		return nil, fmt.Errorf("proc: create log directory: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Supervisor{
		opts:   opts,
		logger: logger,
		procs:  map[string]*Process{},
		spawn:  make(chan spawnReq),
		quit:   make(chan struct{}),
	}
	go s.spawner()
	return s, nil
}

type spawnReq struct {
	cmd  *exec.Cmd
	done chan error
}

// spawner forks every child from one OS thread that stays alive while the
// supervisor does: Linux delivers the parent-death signal when the forking
// thread exits, not the process.
func (s *Supervisor) spawner() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for {
		select {
		case r := <-s.spawn:
			r.done <- r.cmd.Start()
		case <-s.quit:
			return
		}
	}
}

// LogPath is where the named process logs.
func (s *Supervisor) LogPath(name string) string {
	return filepath.Join(s.opts.LogDir, name+".log")
}

// Start starts a process. It fails if a process of that name is running.
func (s *Supervisor) Start(spec Spec) (*Process, error) {
	if spec.Name == "" || strings.ContainsAny(spec.Name, `/\`) {
		return nil, fmt.Errorf("proc: invalid process name %q", spec.Name)
	}
	s.mu.Lock()
	if p, ok := s.procs[spec.Name]; ok {
		s.mu.Unlock()
		return nil, fmt.Errorf("proc: start %s: already running as pid %d", spec.Name, p.Pid())
	}
	s.mu.Unlock()

	logPath := s.LogPath(spec.Name)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("proc: start %s: open log: %w", spec.Name, err)
	}
	fmt.Fprintf(logFile, "=== %s start: %s\n", time.Now().Format(time.RFC3339Nano), QuoteArgv(append([]string{spec.Path}, spec.Args...)))

	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Env = spec.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Dir = spec.Dir
	if cmd.Dir == "" {
		cmd.Dir = s.opts.LogDir
	}
	cmd.Stdin = nil
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = sysProcAttr(!s.opts.Detach)

	req := spawnReq{cmd: cmd, done: make(chan error, 1)}
	select {
	case s.spawn <- req:
		err = <-req.done
	case <-s.quit:
		err = errors.New("supervisor closed")
	}
	if err != nil {
		logFile.Close()
		return nil, fmt.Errorf("proc: start %s: %w", spec.Name, err)
	}

	p := &Process{
		spec:    spec,
		cmd:     cmd,
		logPath: logPath,
		started: time.Now(),
		done:    make(chan struct{}),
	}
	s.mu.Lock()
	s.procs[spec.Name] = p
	s.order = append(s.order, spec.Name)
	s.mu.Unlock()
	s.logger.Debug("process started", "name", spec.Name, "pid", cmd.Process.Pid, "log", logPath)

	go s.wait(p, logFile)
	return p, nil
}

func (s *Supervisor) wait(p *Process, logFile *os.File) {
	err := p.cmd.Wait()
	now := time.Now()
	fmt.Fprintf(logFile, "=== %s exit: %v\n", now.Format(time.RFC3339Nano), exitText(err))
	logFile.Close()

	p.mu.Lock()
	requested := p.requested
	p.mu.Unlock()
	e := Exit{
		Name:      p.spec.Name,
		Pid:       p.cmd.Process.Pid,
		Err:       err,
		Requested: requested,
		At:        now,
		Uptime:    now.Sub(p.started),
		LogPath:   p.logPath,
	}
	if !requested {
		e.LogTail = fileTail(p.logPath, 20, 4<<10)
	}
	p.exit = e

	s.mu.Lock()
	if s.procs[p.spec.Name] == p {
		delete(s.procs, p.spec.Name)
		s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == p.spec.Name })
	}
	var waiters []chan Exit
	if !requested {
		s.exits = append(s.exits, e)
		waiters = slices.Clone(s.waiters)
	}
	s.mu.Unlock()
	// Done only once the supervisor no longer lists the process: a Stop that
	// returns leaves Running without it.
	close(p.done)

	if requested {
		s.logger.Debug("process stopped", "name", e.Name, "pid", e.Pid, "err", err)
		return
	}
	s.logger.Warn("process exited unexpectedly", "name", e.Name, "pid", e.Pid, "err", err, "uptime", e.Uptime, "log", e.LogPath)
	for _, w := range waiters {
		select {
		case w <- e:
		default: // a slow subscriber misses events but can read Exits()
		}
	}
}

// Subscribe returns a channel that receives every later unexpected exit
// (buffered; events are dropped if the reader falls 16 behind — Exits keeps
// them all).
func (s *Supervisor) Subscribe() <-chan Exit {
	ch := make(chan Exit, 16)
	s.mu.Lock()
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()
	return ch
}

// Unsubscribe ends a subscription: ch receives nothing more (it is not
// closed, as a send may be under way).
func (s *Supervisor) Unsubscribe(ch <-chan Exit) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waiters = slices.DeleteFunc(s.waiters, func(w chan Exit) bool { return w == ch })
}

// Exits returns every unexpected exit so far.
func (s *Supervisor) Exits() []Exit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.exits)
}

// Process returns the running process of that name.
func (s *Supervisor) Process(name string) (*Process, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.procs[name]
	return p, ok
}

// Running returns the names of the running processes in start order.
func (s *Supervisor) Running() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.order)
}

// Stop stops the named process gracefully and waits for it.
func (s *Supervisor) Stop(ctx context.Context, name string) error {
	p, ok := s.Process(name)
	if !ok {
		return fmt.Errorf("proc: stop %s: %w", name, ErrNotRunning)
	}
	return p.Stop(ctx)
}

// Kill sends SIGKILL to the named process and waits for it.
func (s *Supervisor) Kill(ctx context.Context, name string) error {
	p, ok := s.Process(name)
	if !ok {
		return fmt.Errorf("proc: kill %s: %w", name, ErrNotRunning)
	}
	return p.Kill(ctx)
}

// StopAll stops every running process, the last started first, and closes
// the supervisor. Errors are joined.
func (s *Supervisor) StopAll(ctx context.Context) error {
	var errs []error
	for {
		s.mu.Lock()
		if len(s.order) == 0 {
			s.mu.Unlock()
			break
		}
		p := s.procs[s.order[len(s.order)-1]]
		s.mu.Unlock()
		if err := p.Stop(ctx); err != nil {
			errs = append(errs, err)
			// Give up on a process that would not die rather than loop.
			s.mu.Lock()
			if s.procs[p.spec.Name] == p {
				delete(s.procs, p.spec.Name)
				s.order = slices.DeleteFunc(s.order, func(n string) bool { return n == p.spec.Name })
			}
			s.mu.Unlock()
		}
	}
	s.close()
	return errors.Join(errs...)
}

// Release closes the supervisor without stopping anything: the processes keep
// running (for clusters kept for debugging).
func (s *Supervisor) Release() {
	s.close()
}

func (s *Supervisor) close() {
	s.once.Do(func() { close(s.quit) })
}

// Process is one supervised child.
type Process struct {
	spec    Spec
	cmd     *exec.Cmd
	logPath string
	started time.Time

	mu        sync.Mutex
	requested bool

	done chan struct{}
	exit Exit // set before done is closed
}

// Name is the process name.
func (p *Process) Name() string { return p.spec.Name }

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// LogPath is the process's log file.
func (p *Process) LogPath() string { return p.logPath }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exit is how the process ended; valid after Done is closed.
func (p *Process) Exit() Exit {
	<-p.done
	return p.exit
}

// Stop sends SIGTERM to the process group, waits up to the stop timeout (or
// ctx), then SIGKILLs it and waits.
func (p *Process) Stop(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	p.markRequested()
	timeout := p.spec.StopTimeout
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	if err := signalGroup(p.cmd.Process.Pid, sigTerm); err != nil {
		select {
		case <-p.done:
			return nil
		default:
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return nil
	case <-t.C:
	case <-ctx.Done():
	}
	return p.kill(ctx, fmt.Sprintf("did not stop within %s of SIGTERM", timeout))
}

// Kill sends SIGKILL to the process group and waits for the process.
func (p *Process) Kill(ctx context.Context) error {
	select {
	case <-p.done:
		return nil
	default:
	}
	p.markRequested()
	return p.kill(ctx, "")
}

func (p *Process) kill(ctx context.Context, why string) error {
	_ = signalGroup(p.cmd.Process.Pid, sigKill)
	// SIGKILL cannot be ignored; wait a bounded time even if ctx is done.
	t := time.NewTimer(5 * time.Second)
	defer t.Stop()
	select {
	case <-p.done:
		if why != "" {
			return fmt.Errorf("proc: stop %s: %s, killed", p.spec.Name, why)
		}
		return nil
	case <-t.C:
		return fmt.Errorf("proc: stop %s (pid %d): still running 5s after SIGKILL", p.spec.Name, p.cmd.Process.Pid)
	}
}

func (p *Process) markRequested() {
	p.mu.Lock()
	p.requested = true
	p.mu.Unlock()
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// fileTail returns the last n lines (at most max bytes) of a file.
func fileTail(path string, n, max int) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	off := st.Size() - int64(max)
	if off < 0 {
		off = 0
	}
	buf := make([]byte, st.Size()-off)
	if _, err := f.ReadAt(buf, off); err != nil && !errors.Is(err, io.EOF) {
		return ""
	}
	return Tail(string(buf), n, max)
}
