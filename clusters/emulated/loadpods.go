package emulated

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/loadjob"
)

// The in-cluster load Job's pods on the emulated cluster. KWOK runs no
// container, so the data plane runs each load pod's command (bench loadgen
// with the pod's own arguments and Job index) in this process, writing its
// stdout as a CRI container log. A kwok Logs object (kwok's CRD, enabled in
// the kwokctl configuration) points kwok's kubelet server at that file, so
// the bench reads the pods' logs as on any cluster: pods/log through the
// real API server, which asks the node's kubelet endpoint (kwok). When the
// command exits, the pod is annotated with its exit code and a kwok stage
// (loadPodCompleteStages) completes it (as Succeeded whatever the code: the
// stage has one status template; the pod's done line says why a load
// stopped), instead of kwok's pod-complete, which
// completes a Job's pods a few seconds after they are Ready.

// kwokLogs is kwok's Logs resource.
var kwokLogs = schema.GroupVersionResource{Group: "kwok.x-k8s.io", Version: "v1alpha1", Resource: "logs"}

// AnnotationExitCode is set on a load pod when its emulated command exits.
const AnnotationExitCode = "scalebench.dev/emulated-exit-code"

// kwokEnabledCRDs are the kwok CRDs kwokctl installs and kwok watches.
var kwokEnabledCRDs = []string{"Logs"}

// loadPodNote is the report's word on how the load pods ran.
const loadPodNote = "emulated: each pod's bench loadgen ran in the bench process on the emulated data plane; its log was read through the API server"

// LoadPodNote says how the emulated cluster runs the load Job's pods
// (clusters.LoadPodHost).
func (c *Cluster) LoadPodNote() string { return loadPodNote }

var _ clusters.LoadPodHost = (*Cluster)(nil)

// loadPodHost runs the load pods' commands.
type loadPodHost struct {
	cs     kubernetes.Interface
	dyn    dynamic.Interface
	dir    string
	logger *slog.Logger

	mu      sync.Mutex
	started map[types.UID]context.CancelFunc
	wg      sync.WaitGroup
}

// runLoadPods hosts load pods until stop is called, which stops their
// commands and waits for them.
func runLoadPods(cs kubernetes.Interface, dyn dynamic.Interface, dir string, logger *slog.Logger) (stop func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("load pods: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &loadPodHost{cs: cs, dyn: dyn, dir: dir, logger: logger, started: map[types.UID]context.CancelFunc{}}
	f := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.LabelSelector = loadjob.LabelName + "=" + loadjob.Name
	}))
	inf := f.Core().V1().Pods().Informer()
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(o any) { h.observe(ctx, o) },
		UpdateFunc: func(_, o any) { h.observe(ctx, o) },
		DeleteFunc: func(o any) { h.forget(o) },
	}); err != nil {
		cancel()
		return nil, fmt.Errorf("load pods: %w", err)
	}
	f.Start(ctx.Done())
	return func() {
		cancel()
		f.Shutdown()
		h.wg.Wait()
	}, nil
}

func (h *loadPodHost) observe(ctx context.Context, o any) {
	p, ok := o.(*corev1.Pod)
	if !ok || p.Status.Phase != corev1.PodRunning || p.DeletionTimestamp != nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.started[p.UID]; ok {
		return
	}
	cctx, cancel := context.WithCancel(ctx)
	h.started[p.UID] = cancel
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		code := h.run(cctx, p.DeepCopy())
		if ctx.Err() != nil {
			return
		}
		patch := fmt.Appendf(nil, `{"metadata":{"annotations":{%q:%q}}}`, AnnotationExitCode, strconv.Itoa(code))
		if _, err := h.cs.CoreV1().Pods(p.Namespace).Patch(ctx, p.Name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil && !apierrors.IsNotFound(err) {
			h.logger.Warn("load pod: exit annotation", "pod", p.Namespace+"/"+p.Name, "err", err)
		}
	}()
}

// forget stops a deleted pod's command, as a kubelet kills its container.
func (h *loadPodHost) forget(o any) {
	if d, ok := o.(cache.DeletedFinalStateUnknown); ok {
		o = d.Obj
	}
	p, ok := o.(*corev1.Pod)
	if !ok {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if cancel, ok := h.started[p.UID]; ok {
		cancel()
	}
}

// run runs one pod's command with its log file and Logs object; the exit
// code is 0 when the load ran to its end, 2 on bad arguments, 1 otherwise.
func (h *loadPodHost) run(ctx context.Context, p *corev1.Pod) int {
	log := h.logger.With("pod", p.Namespace+"/"+p.Name)
	path := filepath.Join(h.dir, p.Namespace+"_"+p.Name+".log")
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		log.Warn("load pod: log file", "err", err)
		return 1
	}
	defer f.Close()
	if err := h.createLogs(ctx, p, path); err != nil {
		log.Warn("load pod: kwok Logs object", "err", err)
		return 1
	}
	w := &criWriter{w: f}
	var args []string
	for _, c := range p.Spec.Containers {
		if c.Name == loadjob.Container {
			args = c.Args
		}
	}
	if len(args) == 0 || args[0] != loadjob.CommandName {
		fmt.Fprintf(w, "container %s does not run %s: args %q\n", loadjob.Container, loadjob.CommandName, args)
		return 2
	}
	index := p.Annotations["batch.kubernetes.io/job-completion-index"]
	inv, err := loadjob.Parse(args[1:], func(k string) string {
		if k == loadjob.IndexEnv {
			return index
		}
		return ""
	}, w)
	if err != nil {
		fmt.Fprintf(w, "bench: %s: %v\n", loadjob.CommandName, err)
		return 2
	}
	log.Info("load pod: running its command in process", "index", inv.Index, "startAt", inv.StartAt)
	if err := loadjob.Stream(ctx, load.NewHTTP(load.WithLogger(h.logger)), inv, w); err != nil {
		fmt.Fprintf(w, "bench: %v\n", err)
		return 1
	}
	return 0
}

// createLogs points kwok's kubelet server at the pod's log file; the object
// goes with the pod (owner reference).
func (h *loadPodHost) createLogs(ctx context.Context, p *corev1.Pod, path string) error {
	obj := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "kwok.x-k8s.io/v1alpha1",
		"kind":       "Logs",
		"metadata": map[string]any{
			"name": p.Name, "namespace": p.Namespace,
			"ownerReferences": []any{map[string]any{"apiVersion": "v1", "kind": "Pod", "name": p.Name, "uid": string(p.UID)}},
		},
		"spec": map[string]any{"logs": []any{map[string]any{
			"containers": []any{loadjob.Container}, "logsFile": path, "follow": true,
		}}},
	}}
	_, err := h.dyn.Resource(kwokLogs).Namespace(p.Namespace).Create(ctx, obj, metav1.CreateOptions{FieldManager: fieldManager})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// criWriter writes lines in the CRI container log format kwok's (and a
// kubelet's) log reader parses: "<RFC 3339 time> stdout F <line>".
type criWriter struct {
	mu   sync.Mutex
	w    io.Writer
	part []byte
}

func (c *criWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.part = append(c.part, p...)
	for {
		i := bytes.IndexByte(c.part, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := fmt.Appendf(nil, "%s stdout F %s\n", time.Now().UTC().Format(time.RFC3339Nano), c.part[:i])
		if _, err := c.w.Write(line); err != nil {
			return 0, err
		}
		c.part = c.part[i+1:]
	}
}

// loadPodCompleteStages split kwok's pod-complete stage doc: the original
// no longer applies to load pods, and a copy completes a load pod once its
// emulated command has exited (AnnotationExitCode), at once.
func loadPodCompleteStages(doc map[string]any) (map[string]any, map[string]any, error) {
	spec, ok := doc["spec"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("pod-complete stage has no spec")
	}
	sel, ok := spec["selector"].(map[string]any)
	if !ok {
		return nil, nil, fmt.Errorf("pod-complete stage has no spec.selector")
	}
	exprs, _ := sel["matchExpressions"].([]any)
	label := `.metadata.labels["` + loadjob.LabelName + `"]`
	own := deepCopyMap(doc)
	sel["matchExpressions"] = append(append([]any{}, exprs...), map[string]any{"key": label, "operator": "NotIn", "values": []any{loadjob.Name}})
	own["metadata"] = map[string]any{"name": "scalebench-load-pod-complete"}
	ospec := own["spec"].(map[string]any)
	osel := ospec["selector"].(map[string]any)
	osel["matchExpressions"] = append(append([]any{}, exprs...),
		map[string]any{"key": label, "operator": "In", "values": []any{loadjob.Name}},
		map[string]any{"key": `.metadata.annotations["` + AnnotationExitCode + `"]`, "operator": "Exists"})
	ospec["delay"] = map[string]any{"durationMilliseconds": int64(0)}
	delete(ospec, "weightFrom")
	return doc, own, nil
}

func deepCopyMap(m map[string]any) map[string]any { return runtime.DeepCopyJSON(m) }
