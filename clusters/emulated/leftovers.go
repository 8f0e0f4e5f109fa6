// Control-plane processes belong to kwokctl, not to the supervisor, and can
// outlive their owner: this cluster's, when kwokctl delete leaves some behind
// (killLeftovers, at teardown), and other clusters', when the harness that
// created them died (reapOrphans, at Create).

package emulated

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
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

// processBelongsTo reports whether pid runs and its command line mentions dir
// (guards against pid reuse).
func processBelongsTo(pid int, dir string) bool {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	return bytes.Contains(cmdline, []byte(dir))
}

// killLeftovers SIGKILLs control-plane processes that survived kwokctl
// delete (or that kwokctl could not delete), and reports them.
func (c *Cluster) killLeftovers() error {
	left := c.controlPlanePids()
	if len(left) == 0 {
		return nil
	}
	var errs []error
	for name, pid := range left {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
			errs = append(errs, fmt.Errorf("kill %s (pid %d): %w", name, pid, err))
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && len(c.controlPlanePids()) > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	if still := c.controlPlanePids(); len(still) > 0 {
		errs = append(errs, fmt.Errorf("control-plane processes still running after SIGKILL: %v", still))
	}
	c.logger.Warn("killed control-plane processes left behind", "processes", left)
	return errors.Join(errs...)
}

// harnessPIDFile marks a cluster work folder with the pid of the harness
// that owns it. The control-plane processes belong to kwokctl and outlive a
// harness that crashed; the next Create finds such folders and reaps them.
const harnessPIDFile = "scalebench-harness.pid"

func writeHarnessPID(workDir string) error {
	return os.WriteFile(filepath.Join(workDir, harnessPIDFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// reapOrphans kills the control-plane processes of clusters whose harness
// is gone (siblings of workDir marked with harnessPIDFile) and removes their
// folders. It returns the folders it reaped.
func reapOrphans(parent string, logger *slog.Logger) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	var reaped []string
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
		files, _ := filepath.Glob(filepath.Join(dir, "kwok", "clusters", "*", "pids", "*.pid"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			p, err := strconv.Atoi(strings.TrimSpace(string(b)))
			if err == nil && p > 1 && processBelongsTo(p, dir) {
				_ = syscall.Kill(p, syscall.SIGKILL)
			}
		}
		if err := os.RemoveAll(dir); err == nil {
			reaped = append(reaped, dir)
		}
	}
	if len(reaped) > 0 {
		logger.Warn("reaped emulated clusters left by a harness that died", "folders", reaped)
	}
	return reaped
}
