// Package observe watches everything that moves during a run through
// client-go informers and turns it into timeline events. The handlers are
// pure state updates (State), so tests feed them synthetic objects without a
// cluster.
package observe

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/scalebench/scalebench/timeline"
)

// State remembers the last recorded state of each watched object, so only
// changes become events.
type State struct {
	deployments map[string]timeline.Replicas
	autoscalers map[string]timeline.AutoscalerStatus
	conditions  map[string]map[string]timeline.Condition
	pods        map[types.UID]podState
}

type podState struct {
	scheduled, ready bool
}

// NewState is an empty state.
func NewState() *State {
	return &State{
		deployments: map[string]timeline.Replicas{},
		autoscalers: map[string]timeline.AutoscalerStatus{},
		conditions:  map[string]map[string]timeline.Condition{},
		pods:        map[types.UID]podState{},
	}
}

func objName(kind, ns, name string) string { return kind + "/" + ns + "/" + name }

// Deployment records the replica counts when they changed and the
// controller has observed the current generation: a count from a stale
// generation could belong to the previous spec.
func (s *State) Deployment(d *appsv1.Deployment) []timeline.Event {
	if d.Status.ObservedGeneration < d.Generation {
		return nil
	}
	var spec int32 = 1
	if d.Spec.Replicas != nil {
		spec = *d.Spec.Replicas
	}
	r := timeline.Replicas{
		Spec:      spec,
		Current:   d.Status.Replicas,
		Updated:   d.Status.UpdatedReplicas,
		Ready:     d.Status.ReadyReplicas,
		Available: d.Status.AvailableReplicas,
	}
	key := objName("Deployment", d.Namespace, d.Name)
	if prev, ok := s.deployments[key]; ok && prev == r {
		return nil
	}
	s.deployments[key] = r
	return []timeline.Event{{Kind: timeline.KindDeployment, Object: key, Deployment: &r}}
}

// HPA records current/desired replicas and the first metric's value when
// they change, once the HPA controller has written a status, and not while
// a status says it observed an older generation: a status written for the
// previous spec (another target or bounds) says nothing about this one.
func (s *State) HPA(h *autoscalingv2.HorizontalPodAutoscaler) []timeline.Event {
	switch og := h.Status.ObservedGeneration; {
	case og != nil && *og < h.Generation:
		return nil
	case og == nil && h.Status.CurrentReplicas == 0 && h.Status.DesiredReplicas == 0 && len(h.Status.Conditions) == 0:
		// Not synced yet. Kubernetes' HPA controller (as of 1.35) never
		// writes observedGeneration, so a status without it but with
		// content is the controller's, for the only spec a run applies.
		return nil
	}
	st := timeline.AutoscalerStatus{Current: h.Status.CurrentReplicas, Desired: h.Status.DesiredReplicas, Metric: hpaMetric(h)}
	key := objName("HorizontalPodAutoscaler", h.Namespace, h.Name)
	var out []timeline.Event
	if prev, ok := s.autoscalers[key]; !ok || prev != st {
		s.autoscalers[key] = st
		out = append(out, timeline.Event{Kind: timeline.KindAutoscaler, Object: key, Autoscaler: &st})
	}
	for _, c := range h.Status.Conditions {
		out = append(out, s.condition(key, timeline.Condition{Type: string(c.Type), Status: string(c.Status), Reason: c.Reason, Message: c.Message})...)
	}
	return out
}

func hpaMetric(h *autoscalingv2.HorizontalPodAutoscaler) string {
	for _, m := range h.Status.CurrentMetrics {
		switch {
		case m.Resource != nil && m.Resource.Current.AverageUtilization != nil:
			return fmt.Sprintf("%s %d%%", m.Resource.Name, *m.Resource.Current.AverageUtilization)
		case m.Resource != nil && m.Resource.Current.AverageValue != nil:
			return fmt.Sprintf("%s %s", m.Resource.Name, m.Resource.Current.AverageValue.String())
		case m.External != nil && m.External.Current.AverageValue != nil:
			return fmt.Sprintf("%s %s", m.External.Metric.Name, m.External.Current.AverageValue.String())
		case m.External != nil && m.External.Current.Value != nil:
			return fmt.Sprintf("%s %s", m.External.Metric.Name, m.External.Current.Value.String())
		}
	}
	return ""
}

// CustomResource records changes of status.conditions of a custom resource
// (ScaledObject, HTTPScaledObject, SpinApp).
func (s *State) CustomResource(u *unstructured.Unstructured) []timeline.Event {
	key := objName(u.GetKind(), u.GetNamespace(), u.GetName())
	conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
	var out []timeline.Event
	for _, c := range conds {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		str := func(k string) string { v, _ := m[k].(string); return v }
		out = append(out, s.condition(key, timeline.Condition{Type: str("type"), Status: str("status"), Reason: str("reason"), Message: str("message")})...)
	}
	return out
}

func (s *State) condition(key string, c timeline.Condition) []timeline.Event {
	if c.Type == "" {
		return nil
	}
	byType := s.conditions[key]
	if byType == nil {
		byType = map[string]timeline.Condition{}
		s.conditions[key] = byType
	}
	if prev, ok := byType[c.Type]; ok && prev.Status == c.Status && prev.Reason == c.Reason {
		return nil
	}
	byType[c.Type] = c
	return []timeline.Event{{Kind: timeline.KindCondition, Object: key, Condition: &c}}
}

// Event records a Kubernetes Event about a watched object.
func (s *State) Event(e *corev1.Event) []timeline.Event {
	io := e.InvolvedObject
	src := e.Source.Component
	if src == "" {
		src = e.ReportingController
	}
	return []timeline.Event{{
		Kind:      timeline.KindKubeEvent,
		Object:    objName(io.Kind, io.Namespace, io.Name),
		KubeEvent: &timeline.KubeEvent{Reason: e.Reason, Type: e.Type, Message: strings.TrimSpace(e.Message), Source: src},
	}}
}

// Pod records a pod's transitions: created, scheduled, ready, unready.
func (s *State) Pod(p *corev1.Pod) []timeline.Event {
	key := objName("Pod", p.Namespace, p.Name)
	prev, known := s.pods[p.UID]
	cur := podState{scheduled: p.Spec.NodeName != "", ready: podReady(p)}
	var out []timeline.Event
	ev := func(tr string) {
		out = append(out, timeline.Event{Kind: timeline.KindPod, Object: key, Pod: &timeline.Pod{Name: p.Name, Transition: tr, Node: p.Spec.NodeName}})
	}
	if !known {
		ev(timeline.PodCreated)
	}
	if cur.scheduled && !prev.scheduled {
		ev(timeline.PodScheduled)
	}
	if cur.ready && !prev.ready {
		ev(timeline.PodReady)
	}
	if !cur.ready && prev.ready {
		ev(timeline.PodUnready)
	}
	s.pods[p.UID] = cur
	return out
}

// PodDeleted records a pod's deletion.
func (s *State) PodDeleted(p *corev1.Pod) []timeline.Event {
	if _, ok := s.pods[p.UID]; !ok {
		return nil
	}
	delete(s.pods, p.UID)
	return []timeline.Event{{Kind: timeline.KindPod, Object: objName("Pod", p.Namespace, p.Name), Pod: &timeline.Pod{Name: p.Name, Transition: timeline.PodDeleted, Node: p.Spec.NodeName}}}
}

func podReady(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
