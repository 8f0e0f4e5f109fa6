package real

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
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
