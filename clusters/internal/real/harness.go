package real

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/scalebench/scalebench/clusters"
)

// Harness names this process as the harness that creates a cluster
// ("host/pid"), recorded with the cluster (a k3d container label, a kind
// marker file), so bench cleanup leaves the clusters of running harnesses
// alone.
func Harness() string {
	host, _ := os.Hostname()
	return host + "/" + strconv.Itoa(os.Getpid())
}

// HarnessGone reports whether the harness a Harness value names has ended;
// a harness on another host, or a value that does not parse, cannot be told
// gone.
func HarnessGone(harness string) (pid int, gone bool) {
	host, p, ok := strings.Cut(harness, "/")
	me, _ := os.Hostname()
	pid, err := strconv.Atoi(p)
	if !ok || err != nil || pid <= 1 || host != me {
		return 0, false
	}
	if pid == os.Getpid() {
		return pid, false
	}
	err = syscall.Kill(pid, 0)
	return pid, errors.Is(err, syscall.ESRCH)
}

// LeftoverCluster is the leftover a cluster of a run is when the harness
// that created it has ended (crashed, killed, or ended with --keep: kept);
// false while that harness runs or when it cannot be told gone.
func LeftoverCluster(name, runID, harness string, kept bool) (clusters.Leftover, bool) {
	pid, gone := HarnessGone(harness)
	if !gone {
		return clusters.Leftover{}, false
	}
	reason := fmt.Sprintf("its harness (pid %d) is gone", pid)
	if kept {
		reason = "kept with --keep; its harness has ended"
	}
	return clusters.Leftover{Kind: "cluster", Name: name, RunID: runID, Reason: reason, Kept: kept, ID: name}, true
}

// RemoveStillLeftOver removes, with remove, each of ls that is still left
// over (in now, listed again, with the same run id); each other one is an
// error naming it. Errors are joined.
func RemoveStillLeftOver(kind string, now, ls []clusters.Leftover, remove func(id string) error) error {
	still := map[string]string{}
	for _, l := range now {
		still[l.ID] = l.RunID
	}
	var errs []error
	for _, l := range ls {
		if run, ok := still[l.ID]; !ok || run != l.RunID {
			errs = append(errs, fmt.Errorf("%s: cluster %s is no longer left over (its harness runs, or it is gone)", kind, l.ID))
			continue
		}
		errs = append(errs, remove(l.ID))
	}
	return errors.Join(errs...)
}
