package dataplane

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
)

// defaultGrace is a pod's termination grace period when it names none.
const defaultGrace = 30 * time.Second

// instances is the state machine that follows pods: an instance for every
// ready pod that names a model, draining when the pod stops being ready or
// is deleted. Its handlers are pure state updates (no API calls), so tests
// feed it synthetic pods.
type instances struct {
	ctx      context.Context // parent of every instance's kill context
	clock    Clock
	log      *slog.Logger
	models   map[string]NewModelFunc
	interval time.Duration // usage sampling interval (the usage loop's tick)
	window   time.Duration // span of the usage-rate annotation's average
	// nodeCPUMilli is every node's CPU capacity (0: unlimited); the pods of
	// one node share it through nodes[pod.Spec.NodeName].
	nodeCPUMilli int64
	nodes        map[string]*NodeCPU
	// writeBudget caps the usage writes of one sampling round (0: none).
	writeBudget int

	mu   sync.Mutex
	pods map[string]*podRecord // by namespace/name
	byIP map[string]*instance  // serving instances
	// cpuTargets are the CPU utilizations pods are held at
	// (setCPUUtilization), by namespace and selector.
	cpuTargets map[string]cpuTarget
}

// cpuTarget holds the pods of a namespace that match a selector at a share
// of their CPU request.
type cpuTarget struct {
	ns      string
	sel     labels.Selector
	percent float64
}

// podRecord is what the data plane keeps for one pod that names a model.
type podRecord struct {
	ns, name   string
	uid        types.UID
	ip         string // last seen pod IP
	gone       bool   // deleted from the API
	deleting   bool   // deletionTimestamp seen
	grace      time.Duration
	idleMilli  int64
	limitMilli int64
	// labels and requestMilli place the pod under a CPU target.
	labels       map[string]string
	requestMilli int64
	// started: an instance has run for this pod, so its usage is ours to
	// report (pods that never became ready keep kwok's default).
	started bool

	active   *instance   // serving
	draining []*instance // finishing in-flight requests
	// removedUsed is the CPU used by instances already removed, so the
	// pod's cumulative usage never goes backwards.
	removedUsed time.Duration
	sampler     usageSampler
}

func newInstances(ctx context.Context, clock Clock, log *slog.Logger, models map[string]NewModelFunc, interval time.Duration) *instances {
	return &instances{
		ctx: ctx, clock: clock, log: log, models: models, interval: interval, window: DefaultUsageWindow,
		pods: map[string]*podRecord{}, byIP: map[string]*instance{}, nodes: map[string]*NodeCPU{},
		cpuTargets: map[string]cpuTarget{},
	}
}

// setCPUUtilization holds every serving pod of ns that matches sel, and
// those that start serving later, at percent % of its CPU request (0: no
// longer).
func (s *instances) setCPUUtilization(ns string, sel labels.Selector, percent float64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := ns + "/" + sel.String()
	if percent <= 0 {
		delete(s.cpuTargets, key)
	} else {
		s.cpuTargets[key] = cpuTarget{ns: ns, sel: sel, percent: percent}
	}
	for _, rec := range s.pods {
		if rec.ns == ns && rec.active != nil && sel.Matches(labels.Set(rec.labels)) {
			s.applySteadyLocked(rec)
		}
	}
}

// applySteadyLocked sets the pod's serving instance to the CPU its targets
// ask for (the highest when several match).
func (s *instances) applySteadyLocked(rec *podRecord) {
	m, ok := rec.active.model.(SteadyCPU)
	if !ok {
		return
	}
	var pct float64
	for _, t := range s.cpuTargets {
		if t.ns == rec.ns && t.sel.Matches(labels.Set(rec.labels)) {
			pct = max(pct, t.percent)
		}
	}
	m.SetSteadyCPU(int64(math.Round(pct / 100 * float64(rec.requestMilli))))
}

// nodeLocked is the shared CPU of a node, made on first use; nil when nodes
// are unlimited (every pod then has a CPU of its own).
func (s *instances) nodeLocked(name string) *NodeCPU {
	if s.nodeCPUMilli <= 0 {
		return nil
	}
	n := s.nodes[name]
	if n == nil {
		n = NewNodeCPU(s.clock, s.nodeCPUMilli)
		s.nodes[name] = n
	}
	return n
}

// objKey is the namespace/name key of an object.
func objKey(ns, name string) string { return ns + "/" + name }

// podServing reports whether a pod should have a serving instance.
func podServing(pod *corev1.Pod) bool {
	if pod.DeletionTimestamp != nil || pod.Status.PodIP == "" || pod.Status.Phase != corev1.PodRunning {
		return false
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

// graceOf is the termination grace a pod's containers get.
func graceOf(pod *corev1.Pod) time.Duration {
	if pod.DeletionTimestamp != nil && pod.DeletionGracePeriodSeconds != nil {
		return time.Duration(*pod.DeletionGracePeriodSeconds) * time.Second
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return time.Duration(*pod.Spec.TerminationGracePeriodSeconds) * time.Second
	}
	return defaultGrace
}

// podChanged handles a pod added or updated.
func (s *instances) podChanged(pod *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := objKey(pod.Namespace, pod.Name)
	rec := s.pods[key]
	modelName := pod.Annotations[AnnotationModel]
	if rec != nil && rec.uid != pod.UID {
		// Same name, new pod (the old one's delete was missed).
		s.podGoneLocked(rec, graceOf(pod))
		rec = nil
	}
	if rec == nil {
		if modelName == "" {
			return
		}
		rec = &podRecord{ns: pod.Namespace, name: pod.Name, uid: pod.UID}
		s.pods[key] = rec
	}
	if pod.Status.PodIP != "" {
		rec.ip = pod.Status.PodIP
	}
	rec.labels = pod.Labels
	if pod.DeletionTimestamp != nil && !rec.deleting {
		rec.deleting = true
		rec.grace = graceOf(pod)
		for _, in := range rec.draining {
			in.drain(rec.grace, true)
		}
	}
	serving := modelName != "" && podServing(pod)
	if in := rec.active; in != nil && (!serving || in.ip != pod.Status.PodIP || in.modelName != modelName) {
		s.drainLocked(rec)
	}
	if serving && rec.active == nil {
		s.startLocked(rec, pod, modelName)
	}
	s.forgetIfDoneLocked(key, rec)
}

// podDeleted handles a pod removed from the API.
func (s *instances) podDeleted(pod *corev1.Pod) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := objKey(pod.Namespace, pod.Name)
	rec := s.pods[key]
	if rec == nil || (pod.UID != "" && rec.uid != pod.UID) {
		return
	}
	s.podGoneLocked(rec, graceOf(pod))
}

func (s *instances) podGoneLocked(rec *podRecord, grace time.Duration) {
	if !rec.deleting {
		rec.deleting = true
		rec.grace = grace
	}
	rec.gone = true
	if rec.active != nil {
		s.drainLocked(rec)
	}
	for _, in := range rec.draining {
		in.drain(rec.grace, true)
	}
	s.forgetIfDoneLocked(objKey(rec.ns, rec.name), rec)
}

func (s *instances) forgetIfDoneLocked(key string, rec *podRecord) {
	if rec.gone && rec.active == nil && len(rec.draining) == 0 && s.pods[key] == rec {
		delete(s.pods, key)
	}
}

// drainLocked moves the active instance to draining.
func (s *instances) drainLocked(rec *podRecord) {
	in := rec.active
	if m, ok := in.model.(SteadyCPU); ok {
		m.SetSteadyCPU(0) // a pod going away gets no more work
	}
	rec.active = nil
	if s.byIP[in.ip] == in {
		delete(s.byIP, in.ip)
	}
	rec.draining = append(rec.draining, in)
	in.drain(rec.grace, rec.deleting)
}

func (s *instances) startLocked(rec *podRecord, pod *corev1.Pod, modelName string) {
	log := s.log.With("pod", rec.ns+"/"+rec.name, "model", modelName)
	newModel, ok := s.models[modelName]
	if !ok {
		log.Warn("pod names an unknown model; no instance")
		return
	}
	idle, err := idleCPUMilli(pod)
	if err != nil {
		log.Warn("bad idle CPU annotation; using the default", "err", err)
		idle = DefaultIdleCPUMilli
	}
	spec := specFor(pod, s.clock, s.nodeLocked(pod.Spec.NodeName), s.log)
	m, err := newModel(spec)
	if err != nil {
		log.Warn("cannot build model; no instance", "err", err)
		return
	}
	in := newInstance(s.ctx, spec, pod.UID, modelName, m, s.removed)
	if err := m.Start(in.killCtx); err != nil {
		log.Warn("cannot start model; no instance", "err", err)
		in.kill()
		return
	}
	rec.idleMilli, rec.limitMilli, rec.requestMilli = idle, spec.CPULimitMilli, spec.CPURequestMilli
	rec.started = true
	rec.active = in
	s.applySteadyLocked(rec)
	if old := s.byIP[in.ip]; old != nil && old != in {
		log.Warn("pod IP already held by another instance; replacing", "ip", in.ip, "other", old.ns+"/"+old.name)
	}
	s.byIP[in.ip] = in
	log.Debug("instance started", "ip", in.ip, "cpuLimitMilli", spec.CPULimitMilli)
}

// removed is called by an instance once it has drained.
func (s *instances) removed(in *instance) {
	used := in.model.CPUUsed()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byIP[in.ip] == in {
		delete(s.byIP, in.ip)
	}
	key := objKey(in.ns, in.name)
	rec := s.pods[key]
	if rec == nil || rec.uid != in.uid {
		return
	}
	if rec.active == in {
		rec.active = nil
	}
	for k, d := range rec.draining {
		if d == in {
			rec.draining = append(rec.draining[:k], rec.draining[k+1:]...)
			rec.removedUsed += used
			break
		}
	}
	s.forgetIfDoneLocked(key, rec)
}

// byAddress is the serving instance at a pod IP, if any.
func (s *instances) byAddress(ip string) *instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.byIP[ip]
}

// knowsIP reports whether an IP belongs to a pod that names a model, serving
// or not (an endpoint the data plane owns but that takes no requests now).
func (s *instances) knowsIP(ip string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byIP[ip] != nil {
		return true
	}
	for _, rec := range s.pods {
		if rec.ip == ip {
			return true
		}
	}
	return false
}

// byPod is the serving instance of a pod, if any.
func (s *instances) byPod(ns, name string) *instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.pods[objKey(ns, name)]; rec != nil {
		return rec.active
	}
	return nil
}

// all lists every instance, serving and draining.
func (s *instances) all() []*instance {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*instance
	for _, rec := range s.pods {
		if rec.active != nil {
			out = append(out, rec.active)
		}
		out = append(out, rec.draining...)
	}
	return out
}

// killAll kills every instance (the plane is stopping).
func (s *instances) killAll() {
	for _, in := range s.all() {
		in.killNow()
	}
}

// usageWrite is one pod's usage annotations to write.
type usageWrite struct {
	ns, name string
	uid      types.UID
	usageUpdate
}

// annotations are the annotations the write sets.
func (w usageWrite) annotations() map[string]string {
	a := map[string]string{}
	if w.writeRate {
		a[AnnotationUsageCPU] = formatMilli(w.milli)
	}
	if w.writeCounter {
		a[AnnotationCPUSeconds] = formatSeconds(w.seconds)
	}
	return a
}

// usageDue samples the live pods' CPU use at now and returns the usage
// annotations that need writing: at most writeBudget of them (0: no
// limit), the pods whose counter was written longest ago first. A pod left
// out is not sampled this round, so it keeps its last written state and is
// among the first next round: with more busy pods than the budget, each
// pod's counter is rewritten every pods ÷ budget intervals instead of every
// interval, still exact at the time it is written.
func (s *instances) usageDue(now time.Time) []usageWrite {
	s.mu.Lock()
	defer s.mu.Unlock()
	recs := make([]*podRecord, 0, len(s.pods))
	for _, rec := range s.pods {
		if rec.deleting || !rec.started {
			continue
		}
		recs = append(recs, rec)
	}
	if s.writeBudget > 0 && len(recs) > s.writeBudget {
		sort.Slice(recs, func(i, j int) bool {
			a, b := recs[i].sampler.counterAt, recs[j].sampler.counterAt
			if !a.Equal(b) {
				return a.Before(b)
			}
			return objKey(recs[i].ns, recs[i].name) < objKey(recs[j].ns, recs[j].name)
		})
	}
	var out []usageWrite
	for _, rec := range recs {
		if s.writeBudget > 0 && len(out) >= s.writeBudget {
			break
		}
		used := rec.removedUsed
		if rec.active != nil {
			used += rec.active.model.CPUUsed()
		}
		for _, in := range rec.draining {
			used += in.model.CPUUsed()
		}
		p := usageParams{interval: s.interval, window: s.window, idle: rec.idleMilli, limit: rec.limitMilli}
		if u := rec.sampler.observe(now, used, p); u.any() {
			out = append(out, usageWrite{ns: rec.ns, name: rec.name, uid: rec.uid, usageUpdate: u})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ns != out[j].ns {
			return out[i].ns < out[j].ns
		}
		return out[i].name < out[j].name
	})
	return out
}

// usageFailed forgets a write that did not reach the API, so it is retried.
func (s *instances) usageFailed(w usageWrite) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rec := s.pods[objKey(w.ns, w.name)]; rec != nil && rec.uid == w.uid {
		rec.sampler.forget()
	}
}
