package emulated

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/proc"
)

// componentSymptoms says what stops working when a component is gone, so a
// verdict names the symptom beside the component (a user sees "no CPU
// metric", not only a process name).
var componentSymptoms = map[string]string{
	"kube-apiserver":              "the Kubernetes API does not answer",
	"etcd":                        "the API server has no storage",
	"kube-controller-manager":     "no HPA decisions and no Deployment rollouts",
	"kube-scheduler":              "new pods are not scheduled",
	"kwok-controller":             "emulated nodes and pods are not updated, and no pod CPU reaches metrics-server",
	"metrics-server":              "no CPU metric for the HPA: metrics-server not answering",
	ComponentKEDAOperator:         "KEDA neither reconciles ScaledObjects nor serves their metrics",
	ComponentKEDAAdapter:          "the HPA gets no external (KEDA) metric",
	ComponentKEDAWebhooks:         "KEDA objects cannot be admitted",
	ComponentSpinOperator:         "SpinApps are not reconciled",
	ComponentHTTPAddOnOperator:    "HTTPScaledObjects are not reconciled",
	ComponentHTTPAddOnScaler:      "KEDA gets no HTTP request counts",
	ComponentHTTPAddOnInterceptor: "HTTP requests through the add-on are not answered",
	ComponentGoaws:                "the SQS queue is gone: nothing can send, receive or count messages",
	ComponentRedis:                "the app cannot store the messages it processes",
}

// ComponentSymptom is what stops working without the named component ("" for
// a name it does not know).
func ComponentSymptom(name string) string { return componentSymptoms[name] }

// snapshotControlPlane records how kwokctl started each control-plane
// process (command line, environment, working folder), so a process killed
// by a fault test can be started again as it was.
func (c *Cluster) snapshotControlPlane() {
	specs := map[string]proc.Spec{}
	for name, pid := range c.controlPlanePids() {
		s, err := processSpec(name, pid)
		if err != nil {
			c.logger.Warn("control-plane process not recorded for restarts", "process", name, "err", err)
			continue
		}
		specs[name] = s
	}
	c.specMu.Lock()
	c.cpSpecs = specs
	c.specMu.Unlock()
}

// processSpec reads a running process's command line, environment and
// working folder.
func processSpec(name string, pid int) (proc.Spec, error) {
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return proc.Spec{}, err
	}
	argv := splitNUL(cmdline)
	if len(argv) == 0 {
		return proc.Spec{}, fmt.Errorf("pid %d: empty command line", pid)
	}
	environ, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	if err != nil {
		return proc.Spec{}, err
	}
	cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	if err != nil {
		return proc.Spec{}, err
	}
	return proc.Spec{Name: name, Path: argv[0], Args: argv[1:], Env: splitNUL(environ), Dir: cwd}, nil
}

func splitNUL(b []byte) []string {
	var out []string
	for _, f := range bytes.Split(bytes.TrimRight(b, "\x00"), []byte{0}) {
		if len(f) > 0 {
			out = append(out, string(f))
		}
	}
	return out
}

// controlPlaneSpec is how a control-plane process was started, if recorded.
func (c *Cluster) controlPlaneSpec(name string) (proc.Spec, bool) {
	c.specMu.Lock()
	defer c.specMu.Unlock()
	s, ok := c.cpSpecs[name]
	return s, ok
}

// restartControlPlane starts a control-plane process again as kwokctl had
// started it (killing it first when it runs), now under the supervisor, and
// records its new pid where kwokctl keeps it, so CheckComponents, the
// watchdog and kwokctl delete see it.
func (c *Cluster) restartControlPlane(ctx context.Context, name string, s proc.Spec) error {
	if _, running := c.sup.Process(name); running {
		// Restarted before: the supervisor runs it now.
		if err := c.sup.Kill(ctx, name); err != nil {
			return fmt.Errorf("emulated: restart %s: %w", name, err)
		}
	}
	if pid, ok := c.controlPlanePids()[name]; ok {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		err := kube.Poll(ctx, 50*time.Millisecond, name+" to exit", func(context.Context) (bool, string, error) {
			return processEnded(pid), fmt.Sprintf("pid %d still runs", pid), nil
		})
		if err != nil {
			return fmt.Errorf("emulated: restart %s: %w", name, err)
		}
	}
	// The old process's listening socket can outlive it briefly (seen:
	// "bind: address already in use" right after it ended): start again
	// until it stays up, within a bound.
	deadline := time.Now().Add(restartWithin)
	var p *proc.Process
	for {
		var err error
		if p, err = c.sup.Start(s); err != nil {
			return fmt.Errorf("emulated: restart %s: %w", name, err)
		}
		select {
		case <-p.Done():
		case <-time.After(restartSettle):
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("emulated: restart %s: %w", name, ctx.Err()), c.sup.Kill(context.WithoutCancel(ctx), name))
		}
		if !isDone(p) {
			break
		}
		if time.Now().After(deadline) {
			e := p.Exit()
			return fmt.Errorf("emulated: restart %s: it kept exiting for %s; last: %v (log %s)", name, restartWithin, e.Err, e.LogPath)
		}
		time.Sleep(500 * time.Millisecond)
	}
	pidFile := filepath.Join(c.kwokWorkDir, "clusters", c.kwokName, "pids", name+".pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(p.Pid())), 0o644); err != nil {
		return errors.Join(fmt.Errorf("emulated: restart %s: record its pid: %w", name, err), c.sup.Kill(ctx, name))
	}
	c.logger.Info("control-plane process restarted", "process", name, "pid", p.Pid())
	return nil
}

// restartWithin bounds the attempts to start a control-plane process again;
// restartSettle is how long one must stay up to count as started.
const (
	restartWithin = 30 * time.Second
	restartSettle = 3 * time.Second
)

func isDone(p *proc.Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

// processEnded reports whether pid has finished exiting: gone, or a zombie.
// Its command line reads empty earlier, while it still holds its sockets
// (the kernel releases memory before files), and a restart that binds the
// same port then fails with "address already in use".
func processEnded(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return true
	}
	state := stat[i+2]
	return state == 'Z' || state == 'X'
}
