package platform

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v3/pkg/action"
	helmkube "helm.sh/helm/v3/pkg/kube"
	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/cli-runtime/pkg/resource"

	"github.com/scalebench/scalebench/kube"
)

// NotReadyError is a release that did not become ready in time: its name, and each object that was not ready
// with why (pod states and warning events).
type NotReadyError struct {
	Release   string
	Namespace string
	// NotReady describes each object that was not ready, e.g. "Deployment keda/keda-operator: 0/1 ready;
	// pod keda-operator-6d9c Pending (Unschedulable: 0/3 nodes are available...)".
	NotReady []string
	Cause    error
}

func (e *NotReadyError) Error() string {
	return fmt.Sprintf("release %s/%s not ready: %v; not ready: %s", e.Namespace, e.Release, e.Cause, strings.Join(e.NotReady, "; "))
}

func (e *NotReadyError) Unwrap() error { return e.Cause }

// waitReady polls the release's objects with Helm's readiness rules (Deployments available with their updated
// replicas, StatefulSets, DaemonSets, Jobs complete, PVCs bound, Services with an IP, CRDs established, APIServices
// available) until all are ready or ctx ends; then the error is a *NotReadyError.
func waitReady(ctx context.Context, ac *action.Configuration, cl *kube.Clients, rel *release.Release) error {
	kc, ok := ac.KubeClient.(*helmkube.Client)
	if !ok {
		return fmt.Errorf("release %s: unexpected Helm kube client %T", rel.Name, ac.KubeClient)
	}
	res, err := kc.Build(bytes.NewBufferString(rel.Manifest), false)
	if err != nil {
		return fmt.Errorf("release %s/%s: read its objects: %w", rel.Namespace, rel.Name, err)
	}
	checker := helmkube.NewReadyChecker(cl.Kube, func(string, ...any) {}, helmkube.PausedAsReady(true), helmkube.CheckJobs(true))
	var notReady []*resource.Info
	err = kube.Poll(ctx, time.Second, "release "+rel.Name+" ready", func(ctx context.Context) (bool, string, error) {
		notReady = notReady[:0]
		var names []string
		for _, info := range res {
			ok, err := checker.IsReady(ctx, info)
			if err != nil && ctx.Err() == nil {
				names = append(names, describeInfo(info)+": "+err.Error())
				notReady = append(notReady, info)
				continue
			}
			if !ok {
				names = append(names, describeInfo(info))
				notReady = append(notReady, info)
			}
		}
		return len(notReady) == 0, strings.Join(names, ", "), nil
	})
	if err == nil {
		return nil
	}
	var we *kube.WaitError
	if !errors.As(err, &we) {
		return fmt.Errorf("release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	// The context has ended: explain with a fresh one.
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	nre := &NotReadyError{Release: rel.Name, Namespace: rel.Namespace, Cause: we.Cause}
	for _, info := range notReady {
		nre.NotReady = append(nre.NotReady, explain(dctx, cl, info))
	}
	return nre
}

func describeInfo(info *resource.Info) string {
	kind := info.Object.GetObjectKind().GroupVersionKind().Kind
	if info.Mapping != nil {
		kind = info.Mapping.GroupVersionKind.Kind
	}
	if info.Namespace == "" {
		return kind + " " + info.Name
	}
	return kind + " " + info.Namespace + "/" + info.Name
}

// explain describes why a workload is not ready: its replica counts, and its pods' phases, waiting reasons,
// unmet conditions and warning events.
func explain(ctx context.Context, cl *kube.Clients, info *resource.Info) string {
	d := describeInfo(info)
	var sel *metav1.LabelSelector
	kind := ""
	if info.Mapping != nil {
		kind = info.Mapping.GroupVersionKind.Kind
	}
	switch kind {
	case "Deployment":
		o, err := cl.Kube.AppsV1().Deployments(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil {
			return d + ": " + err.Error()
		}
		want := int32(1)
		if o.Spec.Replicas != nil {
			want = *o.Spec.Replicas
		}
		d += fmt.Sprintf(": %d/%d ready, %d updated", o.Status.ReadyReplicas, want, o.Status.UpdatedReplicas)
		sel = o.Spec.Selector
	case "StatefulSet":
		o, err := cl.Kube.AppsV1().StatefulSets(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil {
			return d + ": " + err.Error()
		}
		d += fmt.Sprintf(": %d ready", o.Status.ReadyReplicas)
		sel = o.Spec.Selector
	case "DaemonSet":
		o, err := cl.Kube.AppsV1().DaemonSets(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil {
			return d + ": " + err.Error()
		}
		d += fmt.Sprintf(": %d/%d ready", o.Status.NumberReady, o.Status.DesiredNumberScheduled)
		sel = o.Spec.Selector
	case "Job":
		o, err := cl.Kube.BatchV1().Jobs(info.Namespace).Get(ctx, info.Name, metav1.GetOptions{})
		if err != nil {
			return d + ": " + err.Error()
		}
		d += fmt.Sprintf(": %d succeeded, %d failed", o.Status.Succeeded, o.Status.Failed)
		sel = o.Spec.Selector
	}
	if sel == nil {
		return d
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return d
	}
	pods, err := cl.Kube.CoreV1().Pods(info.Namespace).List(ctx, metav1.ListOptions{LabelSelector: s.String()})
	if err != nil {
		return d + "; pods: " + err.Error()
	}
	if len(pods.Items) == 0 {
		return d + "; no pods"
	}
	for _, p := range pods.Items {
		if podReady(&p) {
			continue
		}
		d += "; pod " + p.Name + " " + podState(&p)
		if ev := warnings(ctx, cl, &p); ev != "" {
			d += " events: " + ev
		}
	}
	return d
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podState(p *corev1.Pod) string {
	parts := []string{string(p.Status.Phase)}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Reason != "" {
			parts = append(parts, fmt.Sprintf("%s=%s: %s", c.Type, c.Reason, c.Message))
		}
	}
	for _, cs := range append(append([]corev1.ContainerStatus{}, p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil {
			parts = append(parts, fmt.Sprintf("container %s waiting: %s %s", cs.Name, w.Reason, w.Message))
		}
		if t := cs.State.Terminated; t != nil && t.ExitCode != 0 {
			parts = append(parts, fmt.Sprintf("container %s terminated: %s (exit %d)", cs.Name, t.Reason, t.ExitCode))
		}
	}
	return "(" + strings.Join(parts, "; ") + ")"
}

// warnings are a pod's latest warning events, newest last, at most three.
func warnings(ctx context.Context, cl *kube.Clients, p *corev1.Pod) string {
	evs, err := cl.Kube.CoreV1().Events(p.Namespace).List(ctx, metav1.ListOptions{
		FieldSelector: fields.Set{"involvedObject.name": p.Name, "type": corev1.EventTypeWarning}.String(),
	})
	if err != nil || len(evs.Items) == 0 {
		return ""
	}
	items := evs.Items
	sort.Slice(items, func(i, j int) bool { return eventTime(&items[i]).Before(eventTime(&items[j])) })
	if len(items) > 3 {
		items = items[len(items)-3:]
	}
	var out []string
	for _, e := range items {
		out = append(out, e.Reason+": "+strings.TrimSpace(e.Message))
	}
	return strings.Join(out, " | ")
}

func eventTime(e *corev1.Event) time.Time {
	if !e.LastTimestamp.IsZero() {
		return e.LastTimestamp.Time
	}
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return e.CreationTimestamp.Time
}
