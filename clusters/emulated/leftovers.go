// Control-plane processes belong to kwokctl, not to the supervisor, and can
// outlive their owner: this cluster's, when kwokctl delete leaves some behind
// (killLeftovers, at teardown), and other clusters', when the harness that
// created them died (reapOrphans, at Create; Leftovers and RemoveLeftovers,
// for bench cleanup). A process belongs to a cluster when its command line
// names the cluster's work folder or it runs in it; nothing else is touched.

package emulated

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
)

// controlPlanePids returns the pids kwokctl recorded for the control-plane
// processes that are still running and still belong to this cluster (their
// command line names a file in the cluster's kwok work folder).
func (c *Cluster) controlPlanePids() map[string]int {
	out := map[string]int{}
	if c.kwokWorkDir == "" {
		return out
	}
	dir := filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "pids")
	files, _ := filepath.Glob(filepath.Join(dir, "*.pid"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid <= 1 {
			continue
		}
		if processBelongsTo(pid, c.kwokWorkDir) {
			out[strings.TrimSuffix(filepath.Base(f), ".pid")] = pid
		}
	}
	return out
}

// processBelongsTo reports whether pid runs and its command line mentions
// dir or it runs in dir (guards against pid reuse).
func processBelongsTo(pid int, dir string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if bytes.Contains(cmdline, []byte(dir)) {
		return true
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	cwd = strings.TrimSuffix(cwd, " (deleted)") // the folder was removed under it
	return err == nil && (cwd == dir || strings.HasPrefix(cwd, dir+"/"))
}

// killLeftovers SIGKILLs control-plane processes that survived kwokctl
// delete (or that kwokctl could not delete), and reports them: those kwokctl
// records now, and those of known (pids taken before kwokctl delete removed
// its pid files) that still run in the work dir.
func (c *Cluster) killLeftovers(known map[string]int) error {
	alive := func() map[string]int {
		out := c.controlPlanePids()
		for name, pid := range known {
			if processBelongsTo(pid, c.kwokWorkDir) {
				out[name] = pid
			}
		}
		return out
	}
	left := alive()
	if len(left) == 0 {
		return nil
	}
	var errs []error
	for name, pid := range left {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %s (pid %d): %w", name, pid, err))
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := kube.Poll(ctx, 50*time.Millisecond, "control-plane processes gone after SIGKILL", func(context.Context) (bool, string, error) {
		still := alive()
		return len(still) == 0, fmt.Sprintf("still running: %v", still), nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	c.logger.Warn("killed control-plane processes left behind", "processes", left)
	return errors.Join(errs...)
}

// harnessPIDFile marks a cluster work folder with the pid of the harness
// that owns it. The control-plane processes belong to kwokctl and outlive a
// harness that crashed; the next Create (or bench cleanup) finds such
// folders and reaps them. keptFile marks a cluster kept with --keep: Create
// leaves it alone, bench cleanup removes it only when asked.
const (
	harnessPIDFile = "scalebench-harness.pid"
	keptFile       = "scalebench-kept"
)

func writeHarnessPID(workDir string, keep bool) error {
	if err := os.WriteFile(filepath.Join(workDir, harnessPIDFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return err
	}
	if keep {
		return os.WriteFile(filepath.Join(workDir, keptFile), nil, 0o644)
	}
	return nil
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// runIDPattern is how a run's work folder is named (runner.NewRunID inside
// "scalebench-<run id>-<random>").
var runIDPattern = regexp.MustCompile(`^scalebench-(\d{8}-\d{6}-[0-9a-f]{6})-`)

func runIDOf(dir string) string {
	if m := runIDPattern.FindStringSubmatch(filepath.Base(dir)); m != nil {
		return m[1]
	}
	return ""
}

// orphan is a cluster work folder whose harness is gone.
type orphan struct {
	dir     string
	harness int
	kept    bool
}

// findOrphans lists the cluster work folders under parent (named
// scalebench-*, marked with harnessPIDFile) whose harness is not running.
func findOrphans(parent string) []orphan {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var out []orphan
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "scalebench-") {
			continue
		}
		dir := filepath.Join(parent, e.Name())
		data, err := os.ReadFile(filepath.Join(dir, harnessPIDFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil || pid == os.Getpid() || processAlive(pid) {
			continue
		}
		_, kerr := os.Stat(filepath.Join(dir, keptFile))
		out = append(out, orphan{dir: dir, harness: pid, kept: kerr == nil})
	}
	return out
}

// processesOf lists the running processes that belong to dir: the pids
// kwokctl recorded and any process started from dir or naming it.
func processesOf(dir string) map[int]string {
	out := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		if processBelongsTo(pid, dir) {
			comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
			out[pid] = strings.TrimSpace(string(comm))
		}
	}
	return out
}

// strayProcesses lists processes that name or run in a run's work folder
// (scalebench-<run id>-… under parent) that no longer exists: a teardown
// removed the folder but not them.
func strayProcesses(parent string) map[int]string {
	out := map[int]string{}
	prefix := []byte(filepath.Join(parent, "scalebench-"))
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 1 || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
		for _, field := range append(bytes.Split(cmdline, []byte{0}), []byte(cwd)) {
			i := bytes.Index(field, prefix)
			if i < 0 {
				continue
			}
			rest := string(field[i+len(prefix)-len("scalebench-"):])
			name, _, _ := strings.Cut(rest, "/")
			name = strings.TrimSuffix(name, " (deleted)")
			if runIDOf(name) == "" {
				continue
			}
			if _, err := os.Stat(filepath.Join(parent, name)); errors.Is(err, os.ErrNotExist) {
				comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
				out[pid] = strings.TrimSpace(string(comm)) + " of removed folder " + filepath.Join(parent, name)
				break
			}
		}
	}
	return out
}

// killAll SIGKILLs the processes that still belong to dir and waits for
// them to go (5 s).
func killAll(dir string) error {
	for pid := range processesOf(dir) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return kube.Poll(ctx, 50*time.Millisecond, "processes of "+dir+" gone after SIGKILL", func(context.Context) (bool, string, error) {
		left := processesOf(dir)
		return len(left) == 0, fmt.Sprintf("still running: %v", left), nil
	})
}

// reapOrphans kills the processes of clusters whose harness is gone
// (siblings of the new cluster's work folder, not kept) and removes their
// folders. It returns the folders it reaped.
func reapOrphans(parent string, logger *slog.Logger) []string {
	var reaped []string
	for _, o := range findOrphans(parent) {
		if o.kept {
			continue
		}
		if err := killAll(o.dir); err != nil {
			logger.Warn("reaping an orphaned emulated cluster", "err", err)
			continue
		}
		if err := os.RemoveAll(o.dir); err == nil {
			reaped = append(reaped, o.dir)
		}
	}
	if len(reaped) > 0 {
		logger.Warn("reaped emulated clusters left by a harness that died", "folders", reaped)
	}
	return reaped
}

// leftoversIn lists, under parent, the clusters whose harness is gone with
// their processes, and the processes of run folders already removed.
func leftoversIn(parent string) []clusters.Leftover {
	var out []clusters.Leftover
	for _, o := range findOrphans(parent) {
		reason := fmt.Sprintf("its harness (pid %d) is gone", o.harness)
		if o.kept {
			reason = "kept with --keep; its harness has ended"
		}
		out = append(out, clusters.Leftover{Kind: "cluster", Name: o.dir, RunID: runIDOf(o.dir), Reason: reason, Kept: o.kept, ID: o.dir})
		pids := processesOf(o.dir)
		for _, pid := range slices.Sorted(maps.Keys(pids)) {
			out = append(out, clusters.Leftover{Kind: "process", Name: fmt.Sprintf("pid %d (%s)", pid, pids[pid]), RunID: runIDOf(o.dir),
				Reason: "runs from " + o.dir, Kept: o.kept, ID: fmt.Sprintf("%d:%s", pid, o.dir)})
		}
	}
	stray := strayProcesses(parent)
	for _, pid := range slices.Sorted(maps.Keys(stray)) {
		what := stray[pid]
		_, folder, _ := strings.Cut(what, " of removed folder ")
		out = append(out, clusters.Leftover{Kind: "process", Name: fmt.Sprintf("pid %d (%s)", pid, what), RunID: runIDOf(folder),
			Reason: "its run folder is gone", ID: fmt.Sprintf("%d:%s", pid, folder)})
	}
	return out
}

// removeLeftovers kills the listed processes (when they still belong to
// their folder) and removes the listed cluster folders with every process
// of theirs. Each is re-checked: a folder whose harness came back is left.
func removeLeftovers(parent string, ls []clusters.Leftover) error {
	var errs []error
	orphans := map[string]bool{}
	for _, o := range findOrphans(parent) {
		orphans[o.dir] = true
	}
	for _, l := range ls {
		if l.Kind != "process" {
			continue
		}
		pidStr, dir, ok := strings.Cut(l.ID, ":")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil || filepath.Dir(dir) != parent || runIDOf(dir) == "" && !orphans[dir] {
			errs = append(errs, fmt.Errorf("emulated: leftover %q: not one of this provider's", l.Name))
			continue
		}
		if !processBelongsTo(pid, dir) {
			continue // gone already
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("emulated: kill %s: %w", l.Name, err))
		}
	}
	for _, l := range ls {
		if l.Kind != "cluster" {
			continue
		}
		if !orphans[l.ID] {
			errs = append(errs, fmt.Errorf("emulated: %s is no longer left over (its harness runs, or it is gone)", l.ID))
			continue
		}
		if err := killAll(l.ID); err != nil {
			errs = append(errs, fmt.Errorf("emulated: %w", err))
			continue
		}
		if err := os.RemoveAll(l.ID); err != nil {
			errs = append(errs, fmt.Errorf("emulated: remove %s: %w", l.ID, err))
		}
	}
	return errors.Join(errs...)
}

// LeftoverDir is where runs make their clusters' work folders (the
// session's temporary folders); Leftovers looks there.
var LeftoverDir = os.TempDir

// Leftovers lists emulated clusters whose harness is gone (crashed, killed,
// or ended with --keep), their processes, and processes of run folders
// already removed (clusters.LeftoverCleaner).
func (p *Provider) Leftovers(context.Context) ([]clusters.Leftover, error) {
	return leftoversIn(LeftoverDir()), nil
}

// RemoveLeftovers kills the leftover processes and removes the leftover
// clusters' folders (clusters.LeftoverCleaner).
func (p *Provider) RemoveLeftovers(_ context.Context, ls []clusters.Leftover) error {
	return removeLeftovers(LeftoverDir(), ls)
}

var _ clusters.LeftoverCleaner = (*Provider)(nil)
