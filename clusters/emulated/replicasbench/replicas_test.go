// Package replicasbench measures the emulated cluster at scale: the time to
// N Ready replicas, the bench process's (data plane and observer) and the
// control plane's CPU and memory per replica, and the observation lag at
// 10, 100 and 1000 replicas of one app, and with 100 apps × 10 replicas.
// It is a benchmark, not a test of behaviour: `make bench-replicas` runs it
// (SCALEBENCH_BENCH_REPLICAS set), the nightly workflow too; elsewhere it
// skips.
package replicasbench

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/emulated"
	"github.com/scalebench/scalebench/clusters/emulated/components"
	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/observe"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/stats"
	"github.com/scalebench/scalebench/timeline"
	"github.com/scalebench/scalebench/workloads"
)

// The workload: the fixture's (cpu-load-gen, 100m/400Mi requests).
const fixture = "../../../fixtures/scale/hpa-1000-replicas.yaml"

// Measurement windows.
const (
	window      = 20 * time.Second       // CPU is averaged over this
	probeEvery  = 250 * time.Millisecond // a lag probe this often during the busy window
	busyPercent = 50                     // the busy window's CPU level, % of the request
	probeLabel  = "lag-probe"
)

// Result is one measured point.
type Result struct {
	Label    string `json:"label"`
	Apps     int    `json:"apps"`
	Replicas int    `json:"replicas"`
	// ReadySeconds: spec.replicas set → every replica Ready.
	ReadySeconds float64 `json:"readySeconds"`
	// Bench process (data plane, observer, clients): CPU in cores over the
	// window, idle pods and pods held at busyPercent; heap after a GC.
	ProcIdleCores float64 `json:"benchProcessIdleCores"`
	ProcBusyCores float64 `json:"benchProcessBusyCores"`
	HeapBytes     uint64  `json:"heapBytes"`
	Goroutines    int     `json:"goroutines"`
	// Control plane (kwokctl's processes: API server, etcd, controllers,
	// scheduler, kwok, metrics-server), cores, same windows.
	CPIdleCores float64 `json:"controlPlaneIdleCores"`
	CPBusyCores float64 `json:"controlPlaneBusyCores"`
	// Observation lag: probe pod create sent → its "created" event in the
	// timeline, and the create request's round trip.
	LagP50 float64 `json:"lagP50Seconds"`
	LagP99 float64 `json:"lagP99Seconds"`
	LagMax float64 `json:"lagMaxSeconds"`
	RTTP50 float64 `json:"createRoundTripP50Seconds"`
	Probes int     `json:"probes"`
}

func TestReplicasBenchmark(t *testing.T) {
	steps := envInts(t, "SCALEBENCH_BENCH_REPLICAS")
	if len(steps) == 0 {
		t.Skip("benchmark: set SCALEBENCH_BENCH_REPLICAS=10,100,1000 (make bench-replicas)")
	}
	s := loadFixture(t)
	maxN := slices.Max(steps)
	b := newBench(t, []clusters.NodeNeed{{Scenario: s.Metadata.Name, MaxReplicas: maxN,
		CPURequest: s.Spec.Workload.Resources.Requests.CPU, MemoryRequest: s.Spec.Workload.Resources.Requests.Memory}})
	app := b.createApps(s, 1)[0]
	base := b.sample("baseline (0 replicas)", 0, 0, nil, false)
	results := []Result{base}
	for _, n := range steps {
		r := b.scaleAndMeasure([]string{app}, n, fmt.Sprintf("1 app × %d", n), n == maxN)
		results = append(results, r)
	}
	t0 := time.Now()
	b.scaleAll([]string{app}, 0)
	b.waitPodsGone()
	t.Logf("scaled back to 0 from %d in %.1f s", maxN, time.Since(t0).Seconds())
	b.report(results, fmt.Sprintf("back to 0 from %d replicas in %.1f s", maxN, time.Since(t0).Seconds()))
}

func TestAppsBenchmark(t *testing.T) {
	shape := os.Getenv("SCALEBENCH_BENCH_APPS")
	if shape == "" {
		t.Skip("benchmark: set SCALEBENCH_BENCH_APPS=100x10 (make bench-replicas)")
	}
	k, per, ok := strings.Cut(shape, "x")
	apps, err1 := strconv.Atoi(k)
	n, err2 := strconv.Atoi(per)
	if !ok || err1 != nil || err2 != nil || apps < 1 || n < 1 {
		t.Fatalf("SCALEBENCH_BENCH_APPS=%q: want APPSxREPLICAS such as 100x10", shape)
	}
	s := loadFixture(t)
	var needs []clusters.NodeNeed
	for i := range apps {
		needs = append(needs, clusters.NodeNeed{Scenario: fmt.Sprintf("app-%d", i), MaxReplicas: n,
			CPURequest: s.Spec.Workload.Resources.Requests.CPU, MemoryRequest: s.Spec.Workload.Resources.Requests.Memory})
	}
	b := newBench(t, needs)
	names := b.createApps(s, apps)
	base := b.sample("baseline (0 replicas)", 0, 0, nil, false)
	r := b.scaleAndMeasure(names, n, fmt.Sprintf("%d apps × %d", apps, n), true)
	t0 := time.Now()
	b.scaleAll(names, 0)
	b.waitPodsGone()
	b.report([]Result{base, r}, fmt.Sprintf("back to 0 from %d replicas in %.1f s", apps*n, time.Since(t0).Seconds()))
}

type bench struct {
	t      *testing.T
	ctx    context.Context
	c      *emulated.Cluster
	cs     kubernetes.Interface
	ns     string
	rec    *timeline.Recorder
	ready  time.Duration
	nodes  string
	source string
}

func newBench(t *testing.T, needs []clusters.NodeNeed) *bench {
	if missing := emulated.MissingBinaries(&components.Builder{}); len(missing) > 0 {
		t.Skipf("component binaries not cached (go run ./cmd/bench components): %s", strings.Join(missing, ", "))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	t.Cleanup(cancel)
	prov := &emulated.Provider{IngressAddr: "127.0.0.1:0"}
	if err := prov.PlanNodes(needs); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	t0 := time.Now()
	c, err := prov.CreateCluster(ctx, clusters.Options{Name: "replicas", RunID: "bench-" + time.Now().Format("150405"), WorkDir: t.TempDir(), Logger: logger})
	if err != nil {
		t.Fatalf("create cluster: %v", err)
	}
	b := &bench{t: t, ctx: ctx, c: c, cs: kubernetes.NewForConfigOrDie(c.RESTConfig()), ns: "replicas", ready: time.Since(t0)}
	t.Cleanup(func() {
		if err := c.Delete(context.Background()); err != nil {
			t.Errorf("delete cluster: %v", err)
		}
	})
	knobs := c.Environment().Knobs
	b.nodes, b.source = knobs["nodes"], knobs["nodes.source"]
	t.Logf("cluster ready in %.1f s; nodes %s (%s); allocatable %s", b.ready.Seconds(), b.nodes, b.source, knobs["node.allocatable"])
	// The nodes the report states are the nodes the API server has.
	list, err := b.cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := strings.Fields(b.nodes)[0]; strconv.Itoa(len(list.Items)) != want {
		t.Fatalf("%d nodes in the API server, the knob says %s", len(list.Items), b.nodes)
	}
	if _, err := b.cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: b.ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.Poll(ctx, 200*time.Millisecond, "default service account", func(ctx context.Context) (bool, string, error) {
		_, err := b.cs.CoreV1().ServiceAccounts(b.ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, fmt.Sprint(err), nil
	}); err != nil {
		t.Fatal(err)
	}
	b.rec = timeline.NewRecorder()
	obs, err := observe.Start(ctx, observe.Config{Client: b.cs, Namespace: b.ns, PodSelector: "bench in (app, " + probeLabel + ")", Recorder: b.rec})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(obs.Stop)
	return b
}

func loadFixture(t *testing.T) *scenario.Scenario {
	s, err := scenario.Resolve(fixture)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// createApps applies k copies of the fixture's Deployment (the runner's
// manifests, workloads.Render) at 0 replicas, labelled bench=app.
func (b *bench) createApps(s *scenario.Scenario, k int) []string {
	ap, err := kube.NewClients(b.c.RESTConfig())
	if err != nil {
		b.t.Fatal(err)
	}
	var names []string
	for i := range k {
		cp := *s
		cp.Spec.Namespace = b.ns
		cp.Spec.Workload.Name = fmt.Sprintf("app-%d", i)
		cp.Spec.Autoscaler.MinReplicas = ptr.To[int32](0)
		set, err := workloads.Render(&cp, workloads.Options{})
		if err != nil {
			b.t.Fatal(err)
		}
		for _, o := range set.Workload {
			if o.GetKind() == "Deployment" {
				if err := setNested(o.Object, map[string]string{"bench": "app"}, "spec", "template", "metadata", "labels"); err != nil {
					b.t.Fatal(err)
				}
			}
		}
		if err := ap.Apply(b.ctx, "bench", set.Workload...); err != nil {
			b.t.Fatal(err)
		}
		names = append(names, set.DeploymentName)
	}
	return names
}

func setNested(obj map[string]any, kv map[string]string, path ...string) error {
	cur := obj
	for _, p := range path {
		next, ok := cur[p].(map[string]any)
		if !ok {
			return fmt.Errorf("no %s in %v", p, path)
		}
		cur = next
	}
	for k, v := range kv {
		cur[k] = v
	}
	return nil
}

func (b *bench) scaleAll(names []string, n int) {
	patch := []byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, n))
	for _, name := range names {
		if _, err := b.cs.AppsV1().Deployments(b.ns).Patch(b.ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
			b.t.Fatal(err)
		}
	}
}

// scaleAndMeasure scales every app to n, waits until all are Ready, then
// samples idle and busy windows.
func (b *bench) scaleAndMeasure(names []string, n int, label string, profile bool) Result {
	t0 := time.Now()
	b.scaleAll(names, n)
	if err := kube.Poll(b.ctx, 250*time.Millisecond, label+" Ready", func(ctx context.Context) (bool, string, error) {
		list, err := b.cs.AppsV1().Deployments(b.ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err.Error(), nil
		}
		ready := 0
		for _, d := range list.Items {
			if d.Status.ObservedGeneration >= d.Generation && d.Status.ReadyReplicas == int32(n) && d.Status.UpdatedReplicas == int32(n) {
				ready++
			}
		}
		return ready == len(names), fmt.Sprintf("%d of %d apps at %d Ready", ready, len(names), n), nil
	}); err != nil {
		b.t.Fatal(err)
	}
	readyS := time.Since(t0).Seconds()
	b.t.Logf("%s: all Ready in %.1f s", label, readyS)
	r := b.sample(label, len(names), n*len(names), names, profile)
	r.ReadySeconds = readyS
	return r
}

// sample measures an idle window, then (with apps) a busy window with lag
// probes.
func (b *bench) sample(label string, apps, replicas int, names []string, profile bool) Result {
	r := Result{Label: label, Apps: apps, Replicas: replicas}
	time.Sleep(5 * time.Second) // the scale-up's own writes settle
	r.ProcIdleCores, r.CPIdleCores = b.cpuOver(window)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	r.HeapBytes, r.Goroutines = ms.HeapAlloc, runtime.NumGoroutine()
	plane := b.c.DataPlane()
	for _, name := range names {
		if err := plane.SetCPUUtilization(b.ns, "app="+name, busyPercent); err != nil {
			b.t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Second)
	var stop func()
	if dir := os.Getenv("SCALEBENCH_BENCH_PROFILE"); profile && dir != "" {
		stop = b.cpuProfile(dir, label)
	}
	var lags, rtts []float64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lags, rtts = b.probe(window)
	}()
	r.ProcBusyCores, r.CPBusyCores = b.cpuOver(window)
	wg.Wait()
	if stop != nil {
		stop()
	}
	for _, name := range names {
		if err := plane.SetCPUUtilization(b.ns, "app="+name, 0); err != nil {
			b.t.Fatal(err)
		}
	}
	b.deleteProbes()
	r.Probes = len(lags)
	if len(lags) > 0 {
		r.LagP50, r.LagP99, r.LagMax = stats.Percentile(lags, 0.5), stats.Percentile(lags, 0.99), slices.Max(lags)
		r.RTTP50 = stats.Percentile(rtts, 0.5)
	}
	b.t.Logf("%s: bench process %.3f cores idle, %.3f busy; heap %.1f MiB, %d goroutines; control plane %.3f cores idle, %.3f busy; lag p50 %.0f ms p99 %.0f ms max %.0f ms over %d probes (create RTT p50 %.0f ms)",
		label, r.ProcIdleCores, r.ProcBusyCores, float64(r.HeapBytes)/(1<<20), r.Goroutines, r.CPIdleCores, r.CPBusyCores, r.LagP50*1000, r.LagP99*1000, r.LagMax*1000, r.Probes, r.RTTP50*1000)
	return r
}

// probe creates a probe pod every probeEvery for d and returns, per probe,
// the time from just before its create request to its "created" event in
// the observer's timeline, and the request's round trip (seconds).
func (b *bench) probe(d time.Duration) (lags, rtts []float64) {
	type sent struct {
		name string
		at   time.Duration
	}
	var all []sent
	end := time.Now().Add(d)
	tick := time.NewTicker(probeEvery)
	defer tick.Stop()
	for i := 0; time.Now().Before(end); i++ {
		name := fmt.Sprintf("%s-%d-%d", probeLabel, time.Now().UnixNano(), i)
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"bench": probeLabel}},
			Spec: corev1.PodSpec{
				// On no node kwok knows: the probe is an API object, not a
				// replica, and no scheduler or kwok stage touches it.
				NodeName:   "no-such-node",
				Containers: []corev1.Container{{Name: "probe", Image: "probe"}},
			},
		}
		t0 := time.Now()
		if _, err := b.cs.CoreV1().Pods(b.ns).Create(b.ctx, p, metav1.CreateOptions{}); err != nil {
			b.t.Fatal(err)
		}
		rtts = append(rtts, time.Since(t0).Seconds())
		all = append(all, sent{name, b.rec.Since(t0)})
		<-tick.C
	}
	// Every probe's event arrives (wait up to 30 s for the last).
	want := map[string]time.Duration{}
	for _, s := range all {
		want["Pod/"+b.ns+"/"+s.name] = s.at
	}
	got := map[string]time.Duration{}
	deadline := time.Now().Add(30 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		for _, e := range b.rec.Events() {
			if at, ok := want[e.Object]; ok && e.Kind == timeline.KindPod && e.Pod.Transition == timeline.PodCreated {
				if _, seen := got[e.Object]; !seen {
					got[e.Object] = e.At - at
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(got) < len(want) {
		b.t.Fatalf("%d of %d probe pods never reached the timeline", len(want)-len(got), len(want))
	}
	for _, lag := range got {
		lags = append(lags, lag.Seconds())
	}
	return lags, rtts
}

func (b *bench) deleteProbes() {
	err := b.cs.CoreV1().Pods(b.ns).DeleteCollection(b.ctx, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)},
		metav1.ListOptions{LabelSelector: "bench=" + probeLabel})
	if err != nil && !apierrors.IsNotFound(err) {
		b.t.Fatal(err)
	}
}

func (b *bench) waitPodsGone() {
	if err := kube.Poll(b.ctx, 500*time.Millisecond, "every replica gone", func(ctx context.Context) (bool, string, error) {
		list, err := b.cs.CoreV1().Pods(b.ns).List(ctx, metav1.ListOptions{LabelSelector: "bench=app"})
		if err != nil {
			return false, err.Error(), nil
		}
		return len(list.Items) == 0, fmt.Sprintf("%d pods left", len(list.Items)), nil
	}); err != nil {
		b.t.Fatal(err)
	}
}

// cpuOver is the CPU (cores) of this process and of the control-plane
// processes over d.
func (b *bench) cpuOver(d time.Duration) (proc, cp float64) {
	p0, c0, t0 := selfCPU(), b.controlPlaneCPU(), time.Now()
	time.Sleep(d)
	p1, c1 := selfCPU(), b.controlPlaneCPU()
	el := time.Since(t0).Seconds()
	return (p1 - p0).Seconds() / el, (c1 - c0).Seconds() / el
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var controlPlane = []string{"kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler", "kwok-controller", "metrics-server"}

func (b *bench) controlPlaneCPU() time.Duration {
	var sum time.Duration
	for _, name := range controlPlane {
		pid, ok := b.c.ComponentPID(name)
		if !ok {
			continue
		}
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis: utime and stime
		// are the 12th and 13th (clock ticks of 10 ms).
		s := string(data)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) < 13 {
			continue
		}
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		sum += time.Duration(u+st) * 10 * time.Millisecond
	}
	return sum
}

func (b *bench) cpuProfile(dir, label string) func() {
	name := strings.NewReplacer(" ", "", "×", "x").Replace(label)
	f, err := os.Create(filepath.Join(dir, "cpu-"+name+".pprof"))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.t.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		if h, err := os.Create(filepath.Join(dir, "heap-"+name+".pprof")); err == nil {
			_ = pprof.WriteHeapProfile(h)
			h.Close()
		}
		if g, err := os.Create(filepath.Join(dir, "goroutine-"+name+".pprof")); err == nil {
			_ = pprof.Lookup("goroutine").WriteTo(g, 0)
			g.Close()
		}
	}
}

// report logs the Markdown table (per replica: above the baseline) and
// writes the results as JSON to SCALEBENCH_BENCH_OUT when set.
func (b *bench) report(rs []Result, back string) {
	base := rs[0]
	var md strings.Builder
	fmt.Fprintf(&md, "cluster ready %.1f s, nodes %s (%s); %s\n\n", b.ready.Seconds(), b.nodes, b.source, back)
	md.WriteString("| replicas | all Ready after | bench process CPU per replica (idle / busy) | heap per replica | control plane CPU (idle / busy) | observation lag p50 / p99 / max (probes) | create RTT p50 |\n|---|---|---|---|---|---|---|\n")
	for _, r := range rs[1:] {
		n := float64(r.Replicas)
		fmt.Fprintf(&md, "| %s | %.1f s | %.2f / %.2f millicores | %.1f KiB | %.2f / %.2f cores | %.0f / %.0f / %.0f ms (%d) | %.0f ms |\n",
			r.Label, r.ReadySeconds,
			(r.ProcIdleCores-base.ProcIdleCores)/n*1000, (r.ProcBusyCores-base.ProcIdleCores)/n*1000,
			(float64(r.HeapBytes)-float64(base.HeapBytes))/n/1024,
			r.CPIdleCores, r.CPBusyCores, r.LagP50*1000, r.LagP99*1000, r.LagMax*1000, r.Probes, r.RTTP50*1000)
	}
	fmt.Fprintf(&md, "| baseline, 0 replicas | | %.3f cores (whole process) | %.1f MiB | %.2f / %.2f cores | %.0f / %.0f ms (%d) | |\n",
		base.ProcIdleCores, float64(base.HeapBytes)/(1<<20), base.CPIdleCores, base.CPBusyCores, base.LagP50*1000, base.LagP99*1000, base.Probes)
	b.t.Log("\n" + md.String())
	if out := os.Getenv("SCALEBENCH_BENCH_OUT"); out != "" {
		data, _ := json.MarshalIndent(map[string]any{"clusterReadySeconds": b.ready.Seconds(), "nodes": b.nodes, "nodesSource": b.source, "scaleBack": back, "results": rs}, "", "  ")
		name := filepath.Join(out, strings.ToLower(strings.TrimPrefix(b.t.Name(), "Test"))+".json")
		if err := os.WriteFile(name, data, 0o644); err != nil {
			b.t.Error(err)
		}
		if err := os.WriteFile(strings.TrimSuffix(name, ".json")+".md", []byte(md.String()), 0o644); err != nil {
			b.t.Error(err)
		}
	}
}

func envInts(t *testing.T, name string) []int {
	v := os.Getenv(name)
	if v == "" {
		return nil
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a comma-separated list of replica counts such as 10,100,1000", name, v)
		}
		out = append(out, n)
	}
	return out
}
