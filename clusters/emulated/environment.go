package emulated

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
	"github.com/scalebench/scalebench/proc"
	"github.com/scalebench/scalebench/results"
)

// Environment fingerprints the cluster: the real components with their
// versions, what is emulated, and the timing knobs in force.
func (c *Cluster) Environment() results.Environment {
	kv := c.kubeVersion
	if kv == "" {
		kv = c.versions.Kubernetes
	}
	env := results.Environment{
		Provider:          "emulated",
		KubernetesVersion: kv,
		Components:        componentVersions(c.versions, kv, c.parts),
		Emulated: []string{
			fmt.Sprintf("kubelet and nodes (KWOK: %d nodes, pods Ready after kwok stage delays, no containers run)", len(c.nodes)),
			"Spin app pods (scalebench data plane: request handling modelled in virtual time; " +
				"cpu-load-gen is a processor-sharing CPU model at the pod's limit, not WebAssembly)",
			"node CPU (each node's capacity shared by its pods' CPU models: weighted by request, capped at limit)",
			"pod CPU usage (the data plane's cumulative CPU-seconds served by kwok as the kubelet's " +
				"container_cpu_usage_seconds_total, read by the real metrics-server); memory from kwok usage-from-annotation",
			"ingress (the k3d load balancer and Traefik: the data plane routes networking.k8s.io Ingress rules " +
				"to ready endpoints, round-robin)",
			"container runtime and images (RuntimeClass " + RuntimeClassName + " has no runtime behind it)",
			"service networking (ExternalName Services to loopback processes; a service-network proxy, " +
				"the HTTP_PROXY/HTTPS_PROXY of the KEDA operator and the HTTP add-on's scaler and interceptor, " +
				"resolves <service>.<namespace> names, the add-on's hosts and endpoint IPs to emulated instances " +
				"or, for the add-on's Services, to its local processes)",
		},
		Knobs: knobs(c.hpa, c.timing, c.shape, len(c.nodes), c.nodeSource, c.cost, c.parts),
		Host:  results.LocalHost(),
	}
	c.sqsSide.mu.Lock()
	sqsStarted := c.sqsSide.env != nil
	c.sqsSide.mu.Unlock()
	if sqsStarted {
		env.Components["goaws"] = c.versions.Goaws
		env.Components["redis-server"] = redisVersion()
		env.Emulated = append(env.Emulated,
			"AWS SQS (goaws "+c.versions.Goaws+", an SQS emulator speaking the JSON protocol; the store is a real redis-server)",
			"the SQS consumer (scalebench's Go model of the customer-transformer Spin app; its records are "+
				"verified with the same transform, so the check proves delivery, not the transform)")
	}
	return env
}

// redisVersion asks the redis-server on PATH for its version.
func redisVersion() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := proc.Run(ctx, proc.Cmd{Argv: []string{"redis-server", "--version"}, Env: os.Environ(), Stdout: true})
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

// componentVersions are the versions of the components the cluster runs:
// KEDA and the HTTP add-on only when it started them.
func componentVersions(v interface{ Of(string) string }, kubeVersion string, parts platformParts) map[string]string {
	out := map[string]string{
		"kube-apiserver":          kubeVersion,
		"kube-controller-manager": kubeVersion,
		"kube-scheduler":          kubeVersion,
		"etcd":                    v.Of("etcd"),
		"kwok":                    v.Of("kwok"),
		"metrics-server":          v.Of("metrics-server"),
		"keda":                    v.Of("keda"),
		"spin-operator":           v.Of("spin-operator"),
		"http-add-on":             v.Of("http-add-on"), // platform.HTTPAddOn: one name on every cluster kind
	}
	if !parts.keda {
		delete(out, "keda")
	}
	if !parts.httpAddOn {
		delete(out, "http-add-on")
	}
	return out
}

// knobs are the cluster-wide timing settings and emulation parameters in
// force, with units.
func knobs(h HPASettings, t PodTiming, s NodeShape, nodes int, nodeSource string, cost CPUCost, parts platformParts) map[string]string {
	if cost.PerRequest <= 0 {
		cost = AssumedCPUCost
	}
	out := map[string]string{
		"dataplane.cpuLoadGen.cpuPerRequest":       cost.PerRequest.String(),
		"dataplane.cpuLoadGen.cpuPerRequestSource": cost.Source,
		"dataplane.hello.cpuPerRequest":            dataplane.DefaultHelloCPU.String(),
		"dataplane.idleCPU":                        fmt.Sprintf("%dm", dataplane.DefaultIdleCPUMilli),
		"dataplane.cpuSharing": "processor sharing: a pod's requests share its CPU limit equally, one core at most each; " +
			"a node's pods share its capacity max-min fairly, weighted by CPU request",
		"dataplane.clientDisconnectCancelsWork": "true (a request whose client gives up releases its CPU share at once)",
		"dataplane.usageCounterInterval": dataplane.DefaultUsageInterval.String() +
			" (a busy pod's cumulative CPU-seconds annotation is rewritten this often; idle pods every 15s)",
		"dataplane.usageWriteBudget": fmt.Sprintf("%d pod usage writes/s (busy pods beyond it take turns, least recently written first: "+
			"each counter is rewritten every ⌈busy pods ÷ %d⌉ s, exact when written)", dataplane.DefaultUsageWritesPerSecond, dataplane.DefaultUsageWritesPerSecond),
		"dataplane.usageRateWindow":   dataplane.DefaultUsageWindow.String() + " (usage-cpu annotation average, node metrics)",
		"dataplane.usageRateDeadBand": "max(2m, 5%) (usage-cpu annotation rewritten only on a larger change)",
		"node.cpuCapacity": fmt.Sprintf("%s per node, %d nodes (%s in total); contention modelled",
			s.CPU.String(), nodes, resource.NewMilliQuantity(s.CPU.MilliValue()*int64(nodes), resource.DecimalSI).String()),
		"controlPlane.clientQPS": fmt.Sprintf("kube-controller-manager and kube-scheduler --kube-api-qps=%d --kube-api-burst=%d (Kubernetes defaults 20/30 and 50/100)",
			ControlPlaneQPS.QPS, ControlPlaneQPS.Burst),
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
		"nodes":                          fmt.Sprintf("%d (1 server, %d agents)", nodes, nodes-1),
		"nodes.source":                   nodeSource,
		"node.allocatable":               fmt.Sprintf("cpu=%s memory=%s pods=%d", s.CPU.String(), s.Memory.String(), s.Pods),
	}
	if !parts.keda {
		for _, k := range []string{"keda.pollingIntervalDefault", "keda.cooldownPeriodDefault", "keda.httpTimeout"} {
			delete(out, k)
		}
	}
	return out
}
