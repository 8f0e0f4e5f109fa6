package kube

import (
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

func TestToUnstructuredKindFromScheme(t *testing.T) {
	for _, tc := range []struct {
		obj              runtime.Object
		apiVersion, kind string
	}{
		{&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "d"}}, "apps/v1", "Deployment"},
		{&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "s"}}, "v1", "Service"},
		{&autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Name: "h"}}, "autoscaling/v2", "HorizontalPodAutoscaler"},
	} {
		u, err := ToUnstructured(tc.obj)
		if err != nil {
			t.Fatalf("%T: %v", tc.obj, err)
		}
		if u.GetAPIVersion() != tc.apiVersion || u.GetKind() != tc.kind {
			t.Errorf("%T: apiVersion %q kind %q, want %q %q", tc.obj, u.GetAPIVersion(), u.GetKind(), tc.apiVersion, tc.kind)
		}
	}
}

func TestToUnstructuredDropsWhatApplyMustNotClaim(t *testing.T) {
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "d", Namespace: "ns"},
		Spec: appsv1.DeploymentSpec{Template: corev1.PodTemplateSpec{
			ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "d"}},
		}},
		Status: appsv1.DeploymentStatus{Replicas: 3},
	}
	u, err := ToUnstructured(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range [][]string{
		{"metadata", "creationTimestamp"},
		{"spec", "template", "metadata", "creationTimestamp"},
		{"status"},
	} {
		if _, found, _ := unstructured.NestedFieldNoCopy(u.Object, path...); found {
			t.Errorf("%v kept, want it dropped", path)
		}
	}
	if got, _, _ := unstructured.NestedString(u.Object, "spec", "template", "metadata", "labels", "app"); got != "d" {
		t.Errorf("template label app = %q, want d", got)
	}
	if u.GetNamespace() != "ns" || u.GetName() != "d" {
		t.Errorf("name %s/%s, want ns/d", u.GetNamespace(), u.GetName())
	}
}

func TestToUnstructuredKeepsTypeMeta(t *testing.T) {
	s := &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: "s"}}
	u, err := ToUnstructured(s)
	if err != nil {
		t.Fatal(err)
	}
	if u.GetKind() != "Secret" || u.GetAPIVersion() != "v1" {
		t.Errorf("kind %q apiVersion %q, want Secret v1", u.GetKind(), u.GetAPIVersion())
	}
}

type notRegistered struct{ metav1.TypeMeta }

func (n *notRegistered) DeepCopyObject() runtime.Object { c := *n; return &c }

func TestToUnstructuredUnknownType(t *testing.T) {
	if _, err := ToUnstructured(&notRegistered{}); err == nil {
		t.Fatal("want an error for a type the scheme does not know and without TypeMeta")
	}
}
