package emulated

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/clusters/emulated/dataplane"
)

// Pod stage annotations of kwok's "general" pod stages (kustomize/stage/pod/general
// in the kwok module). A scenario models pod start-up latency by setting them on
// pods (for a SpinApp: spec.podAnnotations), as Go durations ("3s") or RFC 3339
// times:
//
//   - pod-create: scheduled → Pending with IP, containers "ContainerCreating";
//   - pod-ready: Pending → Running and Ready.
//
// Without a jitter annotation the delay is exact. With one, kwok picks uniformly
// in [delay, jitter-delay] — and uses jitter-delay alone when it is not larger
// than delay.
const (
	AnnotationPodCreateDelay       = "pod-create.stage.kwok.x-k8s.io/delay"
	AnnotationPodCreateJitterDelay = "pod-create.stage.kwok.x-k8s.io/jitter-delay"
	AnnotationPodReadyDelay        = "pod-ready.stage.kwok.x-k8s.io/delay"
	AnnotationPodReadyJitterDelay  = "pod-ready.stage.kwok.x-k8s.io/jitter-delay"
	AnnotationPodDeleteDelay       = "pod-delete.stage.kwok.x-k8s.io/delay"
)

// Usage annotations read by kwok's "usage-from-annotation" ClusterResourceUsage:
// the CPU and memory metrics-server reports for a pod (per container).
const (
	AnnotationUsageCPU    = "kwok.x-k8s.io/usage-cpu"
	AnnotationUsageMemory = "kwok.x-k8s.io/usage-memory"
)

// PodTiming sets the default delays of the kwok pod stages, used when a pod
// carries no delay annotation. Upstream's defaults are 1 s plus up to 4 s of
// jitter per stage; the provider replaces them with exact values so that runs
// are repeatable (jitter stays available per pod through the annotations).
type PodTiming struct {
	// CreateDelay: pod bound to a node → Pending with an IP.
	CreateDelay time.Duration
	// ReadyDelay: Pending → Running and Ready.
	ReadyDelay time.Duration
}

// DefaultPodTiming is about what a Spin app pod takes on k3d with the image
// cached: ~1.5 s from scheduling to Ready.
var DefaultPodTiming = PodTiming{CreateDelay: 500 * time.Millisecond, ReadyDelay: time.Second}

// ControlPlaneQPS is the client rate limit of kube-controller-manager (its
// ReplicaSet, Deployment, endpoint and HPA controllers share one) and
// kube-scheduler. Their defaults (20 QPS, burst 30; 50, burst 100) create
// or bind 1000 pods in tens of seconds on their own; the emulated cluster
// raises both so that the API server, not a client limiter, is what a
// large scale-up waits for. kwok's controller has no limit.
var ControlPlaneQPS = struct {
	QPS   int
	Burst int
}{QPS: 500, Burst: 1000}

// controlPlaneQPSArgs are the --kube-api-qps and --kube-api-burst flags.
func controlPlaneQPSArgs() [][2]string {
	return [][2]string{
		{"kube-api-qps", fmt.Sprint(ControlPlaneQPS.QPS)},
		{"kube-api-burst", fmt.Sprint(ControlPlaneQPS.Burst)},
	}
}

// kwokctlPorts are the loopback ports of the kwokctl-managed components.
type kwokctlPorts struct {
	APIServer, Etcd, EtcdPeer, KwokController, MetricsServer, ControllerManager, Scheduler int
}

// kwokctlParams is everything the kwokctl configuration is rendered from.
type kwokctlParams struct {
	KubeVersion string
	KwokVersion string
	// Binaries by component binary name (kube-apiserver, ..., kubectl).
	KubeAPIServer, KubeControllerManager, KubeScheduler, Kwok, Etcd, MetricsServer, Kubectl string
	// MetricsServerManifests is a local kustomize directory.
	MetricsServerManifests string
	Ports                  kwokctlPorts
	CacheDir               string
	// ControllerManagerArgs and SchedulerArgs are extra
	// kube-controller-manager and kube-scheduler flags (key → value).
	ControllerManagerArgs, SchedulerArgs [][2]string
	// Stages are kwok configuration documents (Stage, Metric, ClusterResourceUsage).
	Stages [][]byte
}

// renderKwokctlConfig renders the multi-document configuration passed to
// `kwokctl --config`: the KwokctlConfiguration followed by the stage documents.
func renderKwokctlConfig(p kwokctlParams) ([]byte, error) {
	for name, v := range map[string]string{
		"kube-apiserver": p.KubeAPIServer, "kube-controller-manager": p.KubeControllerManager,
		"kube-scheduler": p.KubeScheduler, "kwok": p.Kwok, "etcd": p.Etcd,
		"metrics-server": p.MetricsServer, "kubectl": p.Kubectl,
		"metrics-server manifests": p.MetricsServerManifests,
	} {
		if v == "" {
			return nil, fmt.Errorf("kwokctl config: %s path is empty", name)
		}
	}
	// One controller manager and one scheduler: no leader election. With
	// it, a machine starved of CPU (100 apps at once on 2 cores) made
	// kube-controller-manager miss its lease renewal and exit
	// ("leaderelection lost"), taking the HPA controller with it.
	noElection := [][2]string{{"leader-elect", "false"}}
	var patches []map[string]any
	for _, c := range []struct {
		name string
		args [][2]string
	}{
		{"kube-controller-manager", append(append([][2]string{}, noElection...), p.ControllerManagerArgs...)},
		{"kube-scheduler", append(append([][2]string{}, noElection...), p.SchedulerArgs...)},
	} {
		var args []map[string]any
		for _, kv := range c.args {
			args = append(args, map[string]any{"key": kv[0], "value": kv[1]})
		}
		patches = append(patches, map[string]any{"name": c.name, "extraArgs": args})
	}
	// The API server reaches a node's kubelet endpoint (kwok's server: pod
	// logs) at its InternalIP (loopback); by default it would try the
	// node's Hostname first, which does not resolve.
	patches = append(patches, map[string]any{"name": "kube-apiserver", "extraArgs": []map[string]any{{"key": "kubelet-preferred-address-types", "value": "InternalIP"}}})
	options := map[string]any{
		"runtime":                     "binary",
		"kubeVersion":                 p.KubeVersion,
		"kwokVersion":                 p.KwokVersion,
		"bindAddress":                 "127.0.0.1",
		"quietPull":                   true,
		"kubeApiserverPort":           p.Ports.APIServer,
		"etcdPort":                    p.Ports.Etcd,
		"etcdPeerPort":                p.Ports.EtcdPeer,
		"kwokControllerPort":          p.Ports.KwokController,
		"metricsServerPort":           p.Ports.MetricsServer,
		"kubeControllerManagerPort":   p.Ports.ControllerManager,
		"kubeSchedulerPort":           p.Ports.Scheduler,
		"kubeApiserverBinary":         p.KubeAPIServer,
		"kubeControllerManagerBinary": p.KubeControllerManager,
		"kubeSchedulerBinary":         p.KubeScheduler,
		"kwokControllerBinary":        p.Kwok,
		"etcdBinary":                  p.Etcd,
		"metricsServerBinary":         p.MetricsServer,
		"kubectlBinary":               p.Kubectl,
		"enableMetricsServer":         true,
		"metricsServerManifests":      []string{p.MetricsServerManifests},
		"enableCRDs":                  kwokEnabledCRDs,
	}
	if p.CacheDir != "" {
		options["cacheDir"] = p.CacheDir
	}
	conf := map[string]any{
		"apiVersion": "config.kwok.x-k8s.io/v1alpha1",
		"kind":       "KwokctlConfiguration",
		"options":    options,
	}
	if len(patches) > 0 {
		conf["componentsPatches"] = patches
	}
	head, err := yaml.Marshal(conf)
	if err != nil {
		return nil, fmt.Errorf("kwokctl config: %w", err)
	}
	var buf bytes.Buffer
	buf.Write(head)
	for _, s := range p.Stages {
		buf.WriteString("---\n")
		buf.Write(bytes.TrimSpace(s))
		buf.WriteString("\n")
	}
	return buf.Bytes(), nil
}

// kwokStageFiles are the kwok configuration documents the cluster uses,
// relative to the kwok module root. Passing any Stage replaces kwokctl's
// defaults, so the node stages are listed too.
var kwokStageFiles = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
	// kustomize/stage/pod/general/kustomization.yaml resources are added by kwokStages.
	"kustomize/metrics/usage/usage-from-annotation.yaml",
	"kustomize/metrics/resource/metrics-resource.yaml",
}

const podGeneralDir = "kustomize/stage/pod/general"

// kwokStages reads the node stages, kwok's general pod stages (with their
// default delays set from timing) and the metrics documents from the kwok module.
func kwokStages(kwokModuleDir string, timing PodTiming) ([][]byte, error) {
	files := append([]string{}, kwokStageFiles[:2]...)
	kust, err := os.ReadFile(filepath.Join(kwokModuleDir, podGeneralDir, "kustomization.yaml"))
	if err != nil {
		return nil, fmt.Errorf("kwok pod stages: %w", err)
	}
	var k struct {
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(kust, &k); err != nil {
		return nil, fmt.Errorf("kwok pod stages: %s: %w", podGeneralDir, err)
	}
	if len(k.Resources) == 0 {
		return nil, fmt.Errorf("kwok pod stages: %s/kustomization.yaml lists no resources", podGeneralDir)
	}
	for _, r := range k.Resources {
		files = append(files, filepath.Join(podGeneralDir, r))
	}
	files = append(files, kwokStageFiles[2:]...)

	defaults := map[string]time.Duration{
		"pod-create": timing.CreateDelay,
		"pod-ready":  timing.ReadyDelay,
	}
	var out [][]byte
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(kwokModuleDir, f))
		if err != nil {
			return nil, fmt.Errorf("kwok stages: %w", err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("kwok stages: %s: %w", f, err)
		}
		name, _, _ := nestedString(doc, "metadata", "name")
		seen[name] = true
		if name == "metrics-resource" {
			if err := setCPUCounterFromAnnotation(doc); err != nil {
				return nil, fmt.Errorf("kwok stages: %s: %w", f, err)
			}
			if data, err = yaml.Marshal(doc); err != nil {
				return nil, err
			}
		}
		if name == "pod-complete" {
			// Load pods complete when their emulated command exits.
			_, own, err := loadPodCompleteStages(doc)
			if err != nil {
				return nil, fmt.Errorf("kwok stages: %s: %w", f, err)
			}
			if data, err = yaml.Marshal(doc); err != nil {
				return nil, err
			}
			ownData, err := yaml.Marshal(own)
			if err != nil {
				return nil, err
			}
			out = append(out, ownData)
		}
		if d, ok := defaults[name]; ok {
			if err := setStageDelay(doc, d); err != nil {
				return nil, fmt.Errorf("kwok stages: %s: %w", f, err)
			}
			if data, err = yaml.Marshal(doc); err != nil {
				return nil, err
			}
		}
		out = append(out, data)
	}
	for name := range defaults {
		if !seen[name] {
			return nil, fmt.Errorf("kwok stages: stage %q not found in %s", name, podGeneralDir)
		}
	}
	return out, nil
}

// AnnotationCPUSeconds is the data plane's cumulative CPU-seconds of a pod
// (dataplane.AnnotationCPUSeconds).
const AnnotationCPUSeconds = dataplane.AnnotationCPUSeconds

// cpuCounterExpr is the kwok Metric expression of a container's (and a
// pod's) cumulative CPU-seconds: the data plane's counter annotation when
// the pod has one, as a kubelet reports cAdvisor's cgroup counter, so that
// metrics-server's rate between two scrapes is the average use over exactly
// that window; 0 (no metrics yet, as for a container not yet scraped twice)
// for an emulated pod before its first counter; and otherwise kwok's own
// integral of usage-from-annotation. kwok's integral multiplies the time
// since its last scrape by the usage at scrape time, so the whole window
// would be charged at the rate of its last seconds: the first sample after
// load starts would read full saturation instead of the average of idle and
// busy time. Emulated pods have one container, which reports the pod's
// counter.
const cpuCounterExpr = `"` + AnnotationCPUSeconds + `" in pod.metadata.annotations` +
	` ? double(pod.metadata.annotations["` + AnnotationCPUSeconds + `"])` +
	` : ("` + dataplane.AnnotationModel + `" in pod.metadata.annotations ? 0.0 : %s)`

// setCPUCounterFromAnnotation points kwok's container and pod CPU counters at
// the data plane's counter annotation (cpuCounterExpr).
func setCPUCounterFromAnnotation(doc map[string]any) error {
	spec, _ := doc["spec"].(map[string]any)
	metrics, _ := spec["metrics"].([]any)
	fallback := map[string]string{
		"container_cpu_usage_seconds_total": `pod.CumulativeUsage("cpu", container.name)`,
		"pod_cpu_usage_seconds_total":       `pod.CumulativeUsage("cpu")`,
	}
	done := 0
	for _, m := range metrics {
		mm, ok := m.(map[string]any)
		if !ok {
			continue
		}
		name, _ := mm["name"].(string)
		if fb, ok := fallback[name]; ok {
			mm["value"] = fmt.Sprintf(cpuCounterExpr, fb)
			done++
		}
	}
	if done != len(fallback) {
		return fmt.Errorf("metric %q: want container_cpu_usage_seconds_total and pod_cpu_usage_seconds_total in spec.metrics, found %d of them", "metrics-resource", done)
	}
	return nil
}

// setStageDelay sets a stage's default delay and removes its default jitter,
// keeping the per-object overrides (durationFrom, jitterDurationFrom).
func setStageDelay(doc map[string]any, d time.Duration) error {
	spec, ok := doc["spec"].(map[string]any)
	if !ok {
		return fmt.Errorf("stage has no spec")
	}
	delay, ok := spec["delay"].(map[string]any)
	if !ok {
		return fmt.Errorf("stage has no spec.delay")
	}
	delay["durationMilliseconds"] = d.Milliseconds()
	delete(delay, "jitterDurationMilliseconds")
	return nil
}

func nestedString(m map[string]any, path ...string) (string, bool, error) {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return "", false, nil
		}
		cur = mm[p]
	}
	s, ok := cur.(string)
	return s, ok, nil
}

// kwokctlEnv is the complete environment of kwokctl and (through it) of the
// control-plane processes: kwokctl's work folder inside the cluster's WorkDir,
// nothing inherited (no proxies, no KWOK_* settings of the user).
func kwokctlEnv(kwokWorkDir, home string) []string {
	return []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"HOME=" + home,
		"KWOK_WORKDIR=" + kwokWorkDir,
		"TMPDIR=" + os.TempDir(),
	}
}

// kwokctlArgs builds a kwokctl command line for the cluster.
func kwokctlArgs(kwokctl, cluster string, args ...string) []string {
	return append([]string{kwokctl, "--name", cluster}, args...)
}

// kwokClusterName is kwokctl's name for the cluster: lower-case, safe as a
// directory name.
func kwokClusterName(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	s := strings.Trim(b.String(), "-")
	if s == "" {
		s = "scalebench"
	}
	return s
}
