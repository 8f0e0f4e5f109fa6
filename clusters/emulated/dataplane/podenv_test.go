package dataplane

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

func envPod(env []corev1.EnvVar, from []corev1.EnvFromSource) *corev1.Pod {
	p := pod("ns", "app-1", "10.0.0.7", ModelSQSTransformer, "500m")
	p.Labels["tier"] = "worker"
	p.Spec.NodeName = "kwok-node-0"
	p.Spec.Containers[0].Env = env
	p.Spec.Containers[0].EnvFrom = from
	p.Spec.Containers[0].Resources.Requests = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("400Mi")}
	return p
}

func secretRef(name, key string, opt bool) *corev1.EnvVarSource {
	return &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key, Optional: &opt,
	}}
}

func testEnvSource() apiEnvSource {
	return apiEnvSource{client: fake.NewClientset(
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "aws"}, Data: map[string][]byte{
			"AWS_ACCESS_KEY_ID": []byte("AKIA"), "AWS_SECRET_ACCESS_KEY": []byte("s3cret"), "9lives": []byte("x"),
		}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "other", Name: "aws"}, Data: map[string][]byte{"AWS_ACCESS_KEY_ID": []byte("wrong-namespace")}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "cfg"}, Data: map[string]string{
			"REGION": "us-east-1", "HOST": "127.0.0.1",
		}},
	)}
}

func TestContainerEnvResolvesLikeTheKubelet(t *testing.T) {
	p := envPod([]corev1.EnvVar{
		{Name: "AWS_ACCESS_KEY_ID", ValueFrom: secretRef("aws", "AWS_ACCESS_KEY_ID", false)},
		{Name: "AWS_SECRET_ACCESS_KEY", ValueFrom: secretRef("aws", "AWS_SECRET_ACCESS_KEY", false)},
		{Name: "AWS_DEFAULT_REGION", ValueFrom: &corev1.EnvVarSource{ConfigMapKeyRef: &corev1.ConfigMapKeySelector{
			LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}, Key: "REGION"}}},
		{Name: "PORT", Value: "6379"},
		{Name: "REDIS_CONNECTION_STRING", Value: "redis://$(CFG_HOST):$(PORT)/$(UNDEFINED)$$(PORT)"},
		{Name: "OPTIONAL_MISSING_SECRET", ValueFrom: secretRef("nope", "k", true)},
		{Name: "OPTIONAL_MISSING_KEY", ValueFrom: secretRef("aws", "nope", true)},
		{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
		{Name: "POD_IP", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "status.podIP"}}},
		{Name: "TIER", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.labels['tier']"}}},
		{Name: "CPU_LIMIT_MILLI", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu", Divisor: resource.MustParse("1m")}}},
		{Name: "CPU_LIMIT", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.cpu"}}},
		{Name: "MEM_MI", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "requests.memory", Divisor: resource.MustParse("1Mi")}}},
		{Name: "SHADOWED", Value: "from env"},
	}, []corev1.EnvFromSource{
		{Prefix: "CFG_", ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}},
		{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "aws"}}},
		{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "gone"}, Optional: ptrTo(true)}},
	})
	got, err := containerEnv(context.Background(), p, &p.Spec.Containers[0], testEnvSource())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s3cret", "AWS_DEFAULT_REGION": "us-east-1",
		"PORT": "6379", "REDIS_CONNECTION_STRING": "redis://127.0.0.1:6379/$(UNDEFINED)$(PORT)",
		"POD_NAME": "app-1", "POD_IP": "10.0.0.7", "TIER": "worker",
		"CPU_LIMIT_MILLI": "500", "CPU_LIMIT": "1", "MEM_MI": "400",
		"CFG_REGION": "us-east-1", "CFG_HOST": "127.0.0.1", "SHADOWED": "from env",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, k := range []string{"OPTIONAL_MISSING_SECRET", "OPTIONAL_MISSING_KEY", "9lives"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s is set: %q", k, got[k])
		}
	}
}

func ptrTo[T any](v T) *T { return &v }

func TestContainerEnvRequiredReferencesFail(t *testing.T) {
	for name, tc := range map[string]struct {
		env  []corev1.EnvVar
		want string
	}{
		"missing secret": {[]corev1.EnvVar{{Name: "K", ValueFrom: secretRef("nope", "k", false)}}, `env K: Secret "nope"`},
		"missing key":    {[]corev1.EnvVar{{Name: "K", ValueFrom: secretRef("aws", "nope", false)}}, `Secret "aws" has no key "nope"`},
		"bad field":      {[]corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "spec.nope"}}}}, `fieldRef "spec.nope"`},
		"unset limit":    {[]corev1.EnvVar{{Name: "K", ValueFrom: &corev1.EnvVarSource{ResourceFieldRef: &corev1.ResourceFieldSelector{Resource: "limits.memory"}}}}, "not set on the container"},
	} {
		p := envPod(tc.env, nil)
		_, err := containerEnv(context.Background(), p, &p.Spec.Containers[0], testEnvSource())
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), `pod ns/app-1 container "app"`) {
			t.Errorf("%s: err = %v, want it to say %q", name, err, tc.want)
		}
	}
}

func TestExpandEnv(t *testing.T) {
	env := map[string]string{"A": "1", "B": "two"}
	for in, want := range map[string]string{
		"plain":         "plain",
		"$(A)":          "1",
		"x$(A)y$(B)z":   "x1ytwoz",
		"$$(A)":         "$(A)",
		"$(C)":          "$(C)",
		"$(A":           "$(A",
		"$A":            "$A",
		"end$":          "end$",
		"$$$(A)":        "$1",
		"a$$b":          "a$b",
		"$()":           "$()",
		"$(A)$(A)$(B)$": "11two$",
	} {
		if got := expandEnv(in, env); got != want {
			t.Errorf("expandEnv(%q) = %q, want %q", in, got, want)
		}
	}
}
