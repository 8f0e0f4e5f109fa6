package suite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/timeline"
)

// LeftoverBound is how long a fault test waits for the goroutines and
// processes of its run to end after the run returned.
const LeftoverBound = 30 * time.Second

// Baseline is what a fault test compares with once its run is over: the
// test binary's goroutines and the processes started from the suite's work
// folder (the cluster's own, which outlive every run), taken before the
// fault.
type Baseline struct {
	goroutines goleak.Option
	procs      map[int]string
	dir        string
	conns      int
	// ids are the goroutines running then, and self the one that took
	// the snapshot (the test's, which starts the run).
	ids  map[int]bool
	self int
}

// Baseline takes the snapshot a later CheckNothingLeft compares with.
func (s *Suite) Baseline(t *testing.T) Baseline {
	t.Helper()
	b, err := newBaseline(s.session.WorkDir())
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newBaseline(dir string) (Baseline, error) {
	procs, err := processesFrom(dir)
	if err != nil {
		return Baseline{}, fmt.Errorf("processes started from %s: %w", dir, err)
	}
	ids := map[int]bool{}
	for id := range creators() {
		ids[id] = true
	}
	return Baseline{goroutines: goleak.IgnoreCurrent(), procs: procs, dir: dir, conns: http2Conns(), ids: ids, self: currentGoroutine()}, nil
}

// CheckNothingLeft fails t when, LeftoverBound after the run, a goroutine
// started since b is still running, or a process started from the work
// folder since b is, other than one of the components named in restarted
// (a fault test restores what it killed, the emulated cluster starts its
// SQS side on first use: the cluster keeps those, known by the process ids
// its FailureInjector gives). A component that
// rewrites its command line (redis-server shows "redis-server host:port")
// is not found by folder.
func (s *Suite) CheckNothingLeft(ctx context.Context, t *testing.T, b Baseline, restarted ...string) {
	t.Helper()
	// A restart makes the cluster's own clients reconnect (new connections, and new watch goroutines
	// started by its informers); otherwise the connections to the API server must not grow with a run.
	procs, err := b.leftovers(ctx, LeftoverBound, func() map[int]bool { return s.restartedPIDs(restarted) }, len(restarted) > 0)
	if err != nil {
		t.Errorf("after the fault: %v", err)
		return
	}
	t.Logf("nothing of the run left: no new goroutine, %d processes from the work folder as before the fault (restarted: %v); HTTP/2 client connections %d before, %d after", len(procs), restarted, b.conns, http2Conns())
}

// leftovers waits up to bound for the goroutines and processes started
// since b to end, other than the cluster's own (ignoreCluster) and the
// processes kept returns. After a restart (reconnected) a goroutine that a
// goroutine already running at b started (an informer of the cluster
// re-opening its watch, not the run, which the test's goroutine starts) is
// the cluster's too; without one the HTTP/2 client connections may not
// have grown either. It returns the processes from the work folder now, or
// an error listing what is left.
func (b Baseline) leftovers(ctx context.Context, bound time.Duration, kept func() map[int]bool, reconnected bool) (map[int]string, error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var procs map[int]string
	err := kube.Poll(ctx, 500*time.Millisecond, "no goroutine and no process of the run left", func(context.Context) (bool, string, error) {
		var left []string
		if err := goleak.Find(append(ignoreCluster(), b.goroutines)...); err != nil && (!reconnected || b.anyOfTheRun(err)) {
			left = append(left, "goroutines: "+err.Error())
		}
		now, err := processesFrom(b.dir)
		if err != nil {
			return false, "", err
		}
		procs = now
		if n := http2Conns(); !reconnected && n > b.conns {
			left = append(left, fmt.Sprintf("HTTP/2 client connections: %d, %d before the fault", n, b.conns))
		}
		if extra := newProcesses(b.procs, now, kept()); len(extra) > 0 {
			left = append(left, "processes started from "+b.dir+": "+strings.Join(extra, "; "))
		}
		return len(left) == 0, strings.Join(left, "\n"), nil
	})
	return procs, err
}

var leakedID = regexp.MustCompile(`Goroutine (\d+) in state`)

// anyOfTheRun tells whether a goroutine goleak reports (err) was not
// started by one already running at b other than the test's own.
func (b Baseline) anyOfTheRun(err error) bool {
	by := creators()
	for _, m := range leakedID.FindAllStringSubmatch(err.Error(), -1) {
		id, _ := strconv.Atoi(m[1])
		c, ok := by[id]
		if !ok {
			continue // ended since
		}
		if !b.ids[c] || c == b.self {
			return true
		}
	}
	return false
}

var (
	stackHeader = regexp.MustCompile(`(?m)^goroutine (\d+) \[`)
	createdBy   = regexp.MustCompile(`(?m)^created by .* in goroutine (\d+)$`)
)

// creators maps every goroutine of the test binary to the one that
// started it (0 when the trace names none).
func creators() map[int]int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	out := map[int]int{}
	for _, block := range strings.Split(string(buf), "\n\n") {
		h := stackHeader.FindStringSubmatch(block)
		if h == nil {
			continue
		}
		id, _ := strconv.Atoi(h[1])
		out[id] = 0
		if c := createdBy.FindStringSubmatch(block); c != nil {
			out[id], _ = strconv.Atoi(c[1])
		}
	}
	return out
}

// currentGoroutine is the calling goroutine's id.
func currentGoroutine() int {
	buf := make([]byte, 64)
	h := stackHeader.FindSubmatch(buf[:runtime.Stack(buf, false)])
	if h == nil {
		return 0
	}
	id, _ := strconv.Atoi(string(h[1]))
	return id
}

// ignoreCluster are the goroutines the cluster itself starts while a test
// runs: the supervision of a component a test restarted, or that the
// cluster started on first use, belongs to the cluster, which outlives the
// run.
func ignoreCluster() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreAnyFunction("github.com/scalebench/scalebench/proc.(*Supervisor).wait"),
		// The SQS side's forwarder (goaws for KEDA) and its network
		// namespace's dialer, started by the first keda-sqs run and kept by
		// the cluster.
		goleak.IgnoreAnyFunction("github.com/scalebench/scalebench/clusters/emulated.(*tcpForwarder).serve"),
		goleak.IgnoreAnyFunction("github.com/scalebench/scalebench/clusters/emulated.(*tcpForwarder).pipe"),
		goleak.IgnoreAnyFunction("github.com/scalebench/scalebench/clusters/emulated.(*nsDialer).run"),
		// HTTP/2 connections to the API server: the cluster's own clients open new ones when a
		// component restarts; counted instead (CheckNothingLeft).
		goleak.IgnoreAnyFunction(http2ReadLoop),
	}
}

const http2ReadLoop = "golang.org/x/net/http2.(*ClientConn).readLoop"

// http2Conns counts the test binary's open HTTP/2 client connections (their read loops).
func http2Conns() int {
	buf := make([]byte, 8<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return bytes.Count(buf, []byte(http2ReadLoop+"("))
}

// processesFrom lists the processes whose command line names dir (pgrep -f,
// as the SIGINT test finds a run's processes): pid → command line.
func processesFrom(dir string) (map[int]string, error) {
	if dir == "" {
		return nil, errors.New("no work folder (the cluster was not created)")
	}
	out, err := exec.Command("pgrep", "-a", "-f", dir).Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 1 {
		return map[int]string{}, nil // none
	}
	if err != nil {
		return nil, fmt.Errorf("pgrep -a -f %s: %w", dir, err)
	}
	procs := map[int]string{}
	for _, l := range strings.Split(string(bytes.TrimSpace(out)), "\n") {
		pid, cmd, _ := strings.Cut(l, " ")
		if n, err := strconv.Atoi(pid); err == nil {
			procs[n] = cmd
		}
	}
	return procs, nil
}

// restartedPIDs are the process ids the cluster runs the named components
// under now (a restart gives a component a new one).
func (s *Suite) restartedPIDs(names []string) map[int]bool {
	out := map[int]bool{}
	inj, ok := s.Cluster.(clusters.FailureInjector)
	if !ok {
		return out
	}
	for _, n := range names {
		if pid, ok := inj.ComponentPID(n); ok {
			out[pid] = true
		}
	}
	return out
}

// newProcesses are the processes in now but not in before, other than the
// allowed ones.
func newProcesses(before, now map[int]string, allowed map[int]bool) []string {
	var out []string
	for pid, cmd := range now {
		if _, ok := before[pid]; ok || allowed[pid] {
			continue
		}
		out = append(out, fmt.Sprintf("pid %d: %s", pid, cmd))
	}
	slices.Sort(out)
	return out
}

// VerdictAfter is the time from a fault's injection to the run's verdict:
// the fault marker the watchdog's report put in the timeline, else (a
// check's verdict, formed at the end) the end of the run.
func VerdictAfter(res results.Scenario, injected, end time.Time) time.Duration {
	for _, e := range res.Timeline {
		if e.Kind == timeline.KindMarker && e.Marker != nil && e.Marker.Name == timeline.MarkerFault {
			return e.Wall.Sub(injected)
		}
	}
	return end.Sub(injected)
}

// LogVerdict logs "fault <name>: verdict in <d>: <text>", the line the
// README's fault table quotes.
func LogVerdict(t *testing.T, fault string, d time.Duration, text string) {
	t.Helper()
	t.Logf("fault %s: verdict in %s: %s", fault, d.Round(100*time.Millisecond), text)
}
