package emulated

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/scalebench/scalebench/results"
)

// Environment fingerprints the cluster: the real components with their
// versions, what is emulated, and the timing knobs in force.
func (c *Cluster) Environment() results.Environment {
	kv := c.kubeVersion
	if kv == "" {
		kv = c.versions.Kubernetes
	}
	host, _ := os.Hostname()
	env := results.Environment{
		Provider:          "emulated",
		KubernetesVersion: kv,
		Components:        componentVersions(c.versions, kv),
		Emulated: []string{
			"kubelet and nodes (KWOK: 3 nodes, pods Ready after kwok stage delays, no containers run)",
			"Spin app pods (scalebench data plane: request handling and CPU usage)",
			"pod CPU/memory usage (kwok usage-from-annotation, reported through the real metrics-server)",
			"container runtime and images (RuntimeClass " + RuntimeClassName + " has no runtime behind it)",
			"service networking (ExternalName Services to loopback processes; a service-network proxy, " +
				"the HTTP_PROXY/HTTPS_PROXY of the KEDA operator and the HTTP add-on's scaler and interceptor, " +
				"resolves <service>.<namespace> names, the add-on's hosts and endpoint IPs to emulated instances " +
				"or, for the add-on's Services, to its local processes)",
		},
		Knobs: knobs(c.hpa, c.timing, c.shape),
		Host: results.Host{
			OS:        runtime.GOOS,
			Arch:      runtime.GOARCH,
			CPUs:      runtime.NumCPU(),
			GoVersion: runtime.Version(),
			Hostname:  host,
		},
	}
	c.sqsSide.mu.Lock()
	sqsStarted := c.sqsSide.env != nil
	c.sqsSide.mu.Unlock()
	if sqsStarted {
		env.Components["goaws"] = c.versions.Goaws
		env.Components["redis-server"] = redisVersion()
		env.Emulated = append(env.Emulated, "AWS SQS (goaws "+c.versions.Goaws+", an SQS emulator speaking the JSON protocol; the store is a real redis-server)")
	}
	return env
}

// redisVersion asks the redis-server on PATH for its version.
func redisVersion() string {
	out, err := exec.Command("redis-server", "--version").Output()
	if err != nil {
		return "unknown"
	}
	for _, f := range strings.Fields(string(out)) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return strings.TrimSpace(string(out))
}

func componentVersions(v interface{ Of(string) string }, kubeVersion string) map[string]string {
	return map[string]string{
		"kube-apiserver":          kubeVersion,
		"kube-controller-manager": kubeVersion,
		"kube-scheduler":          kubeVersion,
		"etcd":                    v.Of("etcd"),
		"kwok":                    v.Of("kwok"),
		"metrics-server":          v.Of("metrics-server"),
		"keda":                    v.Of("keda"),
		"spin-operator":           v.Of("spin-operator"),
		"keda-http-add-on":        v.Of("http-add-on"),
	}
}

// knobs are the cluster-wide timing settings in force, with units.
func knobs(h HPASettings, t PodTiming, s NodeShape) map[string]string {
	return map[string]string{
		"hpa.syncPeriod":                 h.SyncPeriod.String(),
		"hpa.downscaleStabilization":     h.DownscaleStabilization.String(),
		"hpa.tolerance":                  fmt.Sprint(h.Tolerance),
		"hpa.cpuInitializationPeriod":    h.CPUInitializationPeriod.String(),
		"hpa.initialReadinessDelay":      h.InitialReadinessDelay.String(),
		"metricsServer.metricResolution": metricsServerResolution.String(),
		"keda.pollingIntervalDefault":    "30s",
		"keda.cooldownPeriodDefault":     "5m0s",
		"keda.httpTimeout":               "3s",
		"kwok.podCreateDelayDefault":     t.CreateDelay.String(),
		"kwok.podReadyDelayDefault":      t.ReadyDelay.String(),
		"kwok.podStageDelayAnnotations":  strings.Join([]string{AnnotationPodCreateDelay, AnnotationPodReadyDelay}, ","),
		"nodes":                          "3 (1 server, 2 agents)",
		"node.allocatable":               fmt.Sprintf("cpu=%s memory=%s pods=%d", s.CPU.String(), s.Memory.String(), s.Pods),
	}
}
