package emulated

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

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
