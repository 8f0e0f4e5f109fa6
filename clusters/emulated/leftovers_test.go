package emulated

import (
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/clusters"
)

// startIn starts a long sleep running in dir, stopped at the test's end.
func startIn(t *testing.T, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "300")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go cmd.Wait() //nolint:errcheck // reaps the child when it is killed
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd
}

func alive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	return err == nil && !strings.Contains(string(b), ") Z ")
}

// Leftovers lists a crashed run's cluster with its processes, a kept one
// as kept, and a process of a run folder already removed; it never lists a
// running harness's cluster or a process that is not a run's. Removing
// them kills exactly those and removes the folders.
func TestLeftoversListAndRemove(t *testing.T) {
	parent := t.TempDir()
	mk := func(name string, harness int, kept bool) string {
		d := filepath.Join(parent, name)
		if err := os.MkdirAll(filepath.Join(d, "logs"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, harnessPIDFile), []byte(strconv.Itoa(harness)), 0o644)
		if kept {
			os.WriteFile(filepath.Join(d, keptFile), nil, 0o644)
		}
		return d
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	crashed := mk("scalebench-20261201-101010-abcdef-1", dead.Process.Pid, false)
	kept := mk("scalebench-20261201-111111-abcdef-2", dead.Process.Pid, true)
	running := mk("scalebench-20261201-121212-abcdef-3", os.Getppid(), false)
	removed := mk("scalebench-20261201-131313-abcdef-4", dead.Process.Pid, false)
	other := t.TempDir() // not a run's folder

	pCrashed := startIn(t, filepath.Join(crashed, "logs"))
	pKept := startIn(t, kept)
	pRunning := startIn(t, running)
	pStray := startIn(t, removed)
	pOther := startIn(t, other)
	if err := os.RemoveAll(removed); err != nil {
		t.Fatal(err)
	}

	ls := leftoversIn(parent)
	find := func(kind, substr string) *clusters.Leftover {
		for i := range ls {
			if ls[i].Kind == kind && strings.Contains(ls[i].Name, substr) {
				return &ls[i]
			}
		}
		return nil
	}
	if l := find("cluster", crashed); l == nil || l.Kept || l.RunID != "20261201-101010-abcdef" || !strings.Contains(l.Reason, "harness") {
		t.Errorf("crashed run's cluster: %+v in %+v", l, ls)
	}
	if l := find("cluster", kept); l == nil || !l.Kept {
		t.Errorf("kept cluster: %+v", l)
	}
	if l := find("process", "pid "+strconv.Itoa(pCrashed.Process.Pid)+" "); l == nil || l.RunID != "20261201-101010-abcdef" {
		t.Errorf("crashed run's process: %+v in %+v", l, ls)
	}
	if l := find("process", "pid "+strconv.Itoa(pStray.Process.Pid)+" "); l == nil || l.RunID != "20261201-131313-abcdef" {
		t.Errorf("process of a removed run folder: %+v in %+v", l, ls)
	}
	for _, pid := range []int{pRunning.Process.Pid, pOther.Process.Pid} {
		if l := find("process", "pid "+strconv.Itoa(pid)+" "); l != nil {
			t.Errorf("listed a process that is not left over: %+v", l)
		}
	}
	if find("cluster", running) != nil {
		t.Error("listed the cluster of a running harness")
	}

	// Remove what is not kept, as bench cleanup does without --kept.
	var remove []clusters.Leftover
	for _, l := range ls {
		if !l.Kept {
			remove = append(remove, l)
		}
	}
	if err := removeLeftovers(parent, remove); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && (alive(pCrashed.Process.Pid) || alive(pStray.Process.Pid)) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pCrashed.Process.Pid) || alive(pStray.Process.Pid) {
		t.Error("leftover processes survived RemoveLeftovers")
	}
	for _, p := range []*exec.Cmd{pKept, pRunning, pOther} {
		if !alive(p.Process.Pid) {
			t.Errorf("pid %d (%s) killed, but it was not to be removed", p.Process.Pid, p.Dir)
		}
	}
	if _, err := os.Stat(crashed); !os.IsNotExist(err) {
		t.Errorf("crashed run's folder still there: %v", err)
	}
	for _, d := range []string{kept, running} {
		if _, err := os.Stat(d); err != nil {
			t.Errorf("%s removed: %v", d, err)
		}
	}
	// A folder whose harness runs is refused, even when asked by name.
	if err := removeLeftovers(parent, []clusters.Leftover{{Kind: "cluster", ID: running}}); err == nil {
		t.Error("removed the cluster of a running harness")
	}
	if _, err := os.Stat(running); err != nil {
		t.Errorf("%s removed: %v", running, err)
	}
}

// A control-plane process still shutting down when kwokctl delete returned
// has no pid file any more; the pid known from before the delete is
// enough to kill it, and one that is not the work dir's is left alone.
func TestKillLeftoversKillsKnownPidsWithoutPidFiles(t *testing.T) {
	work := t.TempDir()
	c := &Cluster{kwokWorkDir: work, kwokName: "gone", logger: slog.New(slog.DiscardHandler)}
	apiserver := startIn(t, work)
	other := startIn(t, t.TempDir())
	if err := c.killLeftovers(map[string]int{"kube-apiserver": apiserver.Process.Pid, "other": other.Process.Pid}); err != nil {
		t.Fatal(err)
	}
	if alive(apiserver.Process.Pid) {
		t.Error("the work dir's process known from before the delete still runs")
	}
	if !alive(other.Process.Pid) {
		t.Error("a process outside the work dir was killed")
	}
	if err := c.killLeftovers(nil); err != nil {
		t.Errorf("nothing left: %v", err)
	}
}
