package dataplane

import (
	"context"
	"fmt"
	"math"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"
)

// envSource reads the objects a container's environment refers to; a
// missing object is an error for which apierrors.IsNotFound holds.
type envSource interface {
	Secret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	ConfigMap(ctx context.Context, namespace, name string) (*corev1.ConfigMap, error)
}

// apiEnvSource reads them from the API server, as a kubelet does.
type apiEnvSource struct{ client kubernetes.Interface }

func (s apiEnvSource) Secret(ctx context.Context, ns, name string) (*corev1.Secret, error) {
	return s.client.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (s apiEnvSource) ConfigMap(ctx context.Context, ns, name string) (*corev1.ConfigMap, error) {
	return s.client.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
}

// containerEnv resolves a container's environment as the kubelet does
// (kubelet_pods.go makeEnvironmentVariables), minus the Service variables:
// envFrom first (ConfigMaps and Secrets, keys with the prefix, invalid
// names skipped), then env in order, later entries winning: value with
// $(VAR) references to the variables defined so far expanded ($$ is a
// literal $), or valueFrom secretKeyRef, configMapKeyRef, fieldRef and
// resourceFieldRef (set limits and requests only). A missing optional
// reference is skipped; a missing required one is an error, as it is a
// CreateContainerConfigError for the kubelet.
func containerEnv(ctx context.Context, pod *corev1.Pod, c *corev1.Container, src envSource) (map[string]string, error) {
	env := map[string]string{}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("pod %s/%s container %q: %s", pod.Namespace, pod.Name, c.Name, fmt.Sprintf(format, args...))
	}
	for _, from := range c.EnvFrom {
		var data map[string]string
		switch {
		case from.ConfigMapRef != nil:
			ref := from.ConfigMapRef
			cm, err := src.ConfigMap(ctx, pod.Namespace, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional(ref.Optional) {
					continue
				}
				return nil, fail("envFrom ConfigMap %q: %v", ref.Name, err)
			}
			data = cm.Data
		case from.SecretRef != nil:
			ref := from.SecretRef
			s, err := src.Secret(ctx, pod.Namespace, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional(ref.Optional) {
					continue
				}
				return nil, fail("envFrom Secret %q: %v", ref.Name, err)
			}
			data = map[string]string{}
			for k, v := range s.Data {
				data[k] = string(v)
			}
		default:
			continue
		}
		for k, v := range data {
			name := from.Prefix + k
			if len(validation.IsEnvVarName(name)) > 0 {
				continue // the kubelet skips these (and records an event)
			}
			env[name] = v
		}
	}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			env[e.Name] = expandEnv(e.Value, env)
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			s, err := src.Secret(ctx, pod.Namespace, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional(ref.Optional) {
					continue
				}
				return nil, fail("env %s: Secret %q: %v", e.Name, ref.Name, err)
			}
			v, ok := s.Data[ref.Key]
			if !ok {
				if optional(ref.Optional) {
					continue
				}
				return nil, fail("env %s: Secret %q has no key %q", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = string(v)
		case e.ValueFrom.ConfigMapKeyRef != nil:
			ref := e.ValueFrom.ConfigMapKeyRef
			cm, err := src.ConfigMap(ctx, pod.Namespace, ref.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && optional(ref.Optional) {
					continue
				}
				return nil, fail("env %s: ConfigMap %q: %v", e.Name, ref.Name, err)
			}
			v, ok := cm.Data[ref.Key]
			if !ok {
				if optional(ref.Optional) {
					continue
				}
				return nil, fail("env %s: ConfigMap %q has no key %q", e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
		case e.ValueFrom.FieldRef != nil:
			v, err := podFieldValue(pod, e.ValueFrom.FieldRef.FieldPath)
			if err != nil {
				return nil, fail("env %s: %v", e.Name, err)
			}
			env[e.Name] = v
		case e.ValueFrom.ResourceFieldRef != nil:
			v, err := resourceFieldValue(c, e.ValueFrom.ResourceFieldRef)
			if err != nil {
				return nil, fail("env %s: %v", e.Name, err)
			}
			env[e.Name] = v
		default:
			return nil, fail("env %s: valueFrom names no source", e.Name)
		}
	}
	return env, nil
}

func optional(p *bool) bool { return p != nil && *p }

// expandEnv expands $(VAR) references to defined variables, as the kubelet
// does (k8s.io/kubernetes third_party/forked/golang/expansion): $$ is a
// literal $, an undefined or unterminated reference stays as written.
func expandEnv(s string, env map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	checkpoint := 0
	for cursor := 0; cursor < len(s); cursor++ {
		if s[cursor] != '$' || cursor+1 >= len(s) {
			continue
		}
		b.WriteString(s[checkpoint:cursor])
		rest := s[cursor+1:]
		advance := 1
		switch rest[0] {
		case '$':
			b.WriteByte('$')
		case '(':
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				b.WriteString("$(")
				break
			}
			name := rest[1:end]
			if v, ok := env[name]; ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			advance = end + 1
		default:
			b.WriteByte('$')
			b.WriteByte(rest[0])
		}
		cursor += advance
		checkpoint = cursor + 1
	}
	b.WriteString(s[checkpoint:])
	return b.String()
}

// podFieldValue is a downward-API field of the pod.
func podFieldValue(pod *corev1.Pod, path string) (string, error) {
	if k, ok := subscript(path, "metadata.labels"); ok {
		return pod.Labels[k], nil
	}
	if k, ok := subscript(path, "metadata.annotations"); ok {
		return pod.Annotations[k], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.podIPs":
		ips := make([]string, len(pod.Status.PodIPs))
		for i, ip := range pod.Status.PodIPs {
			ips[i] = ip.IP
		}
		return strings.Join(ips, ","), nil
	}
	return "", fmt.Errorf("fieldRef %q is not supported", path)
}

// subscript parses `<prefix>['<key>']`.
func subscript(path, prefix string) (string, bool) {
	rest, ok := strings.CutPrefix(path, prefix+"['")
	if !ok || !strings.HasSuffix(rest, "']") {
		return "", false
	}
	return strings.TrimSuffix(rest, "']"), true
}

// resourceFieldValue is a container's limit or request divided by the
// divisor, rounded up, as the downward API reports it. Unset values (which
// the kubelet fills from the node's allocatable) are not supported.
func resourceFieldValue(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	var list corev1.ResourceList
	kind, name, ok := strings.Cut(ref.Resource, ".")
	switch {
	case ok && kind == "limits":
		list = c.Resources.Limits
	case ok && kind == "requests":
		list = c.Resources.Requests
	default:
		return "", fmt.Errorf("resourceFieldRef %q is not supported", ref.Resource)
	}
	q, set := list[corev1.ResourceName(name)]
	if !set {
		return "", fmt.Errorf("resourceFieldRef %q: not set on the container (the emulated kubelet knows no node allocatable)", ref.Resource)
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == "cpu" {
		return fmt.Sprint(int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))), nil
	}
	return fmt.Sprint(int64(math.Ceil(float64(q.Value()) / float64(divisor.Value())))), nil
}
