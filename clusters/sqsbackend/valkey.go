package sqsbackend

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/kube"
)

// Valkey as the customer-transformer app expects it: its spin.toml
// defaults redis_host to "valkey" and redis_port to "6379", so an app in
// the same namespace needs no variables.
const (
	ValkeyImage = "valkey/valkey:8.1.8"
	ValkeyName  = "valkey"
	ValkeyPort  = 6379
	// ValkeyURL is the address pods in the namespace use.
	ValkeyURL = "redis://valkey:6379"
	// ValkeyAddr is ValkeyURL as host:port (SQSWiring.RedisAddr).
	ValkeyAddr = "valkey:6379"
	// ValkeySelector selects Valkey's pods.
	ValkeySelector = labelName + "=" + ValkeyName

	labelName = "app.kubernetes.io/name"
)

// Valkey renders the Valkey the scenario applies (in this order) to
// namespace: a one-replica Deployment and the Service valkey:6379. Nothing
// is persisted: the store lives as long as the scenario. Objects and pods
// carry the run id label (scalebench.dev/run-id, when runID is set) and
// app.kubernetes.io/managed-by=scalebench for cleanup by label; the
// selector is app.kubernetes.io/name=valkey alone, so a later run can
// re-apply over a leftover.
func Valkey(namespace, runID string) ([]*unstructured.Unstructured, error) {
	selector := map[string]string{labelName: ValkeyName}
	labels := map[string]string{labelName: ValkeyName, kube.LabelManagedBy: kube.ManagedBy}
	if runID != "" {
		labels[kube.LabelRunID] = runID
	}
	meta := metav1.ObjectMeta{Name: ValkeyName, Namespace: namespace, Labels: labels}
	port := corev1.ContainerPort{Name: "valkey", ContainerPort: ValkeyPort, Protocol: corev1.ProtocolTCP}
	d := &appsv1.Deployment{
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](1),
			Selector: &metav1.LabelSelector{MatchLabels: selector},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					TerminationGracePeriodSeconds: ptr.To[int64](5),
					Containers: []corev1.Container{{
						Name:  ValkeyName,
						Image: ValkeyImage,
						// No RDB snapshots, no AOF.
						Args:  []string{"--save", "", "--appendonly", "no"},
						Ports: []corev1.ContainerPort{port},
						ReadinessProbe: &corev1.Probe{
							ProbeHandler:  corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"valkey-cli", "ping"}}},
							PeriodSeconds: 2,
						},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m"), corev1.ResourceMemory: resource.MustParse("64Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
					}},
				},
			},
		},
	}
	s := &corev1.Service{
		ObjectMeta: meta,
		Spec: corev1.ServiceSpec{
			Selector: selector,
			Ports: []corev1.ServicePort{{
				Name: port.Name, Port: ValkeyPort, TargetPort: intstr.FromString(port.Name), Protocol: corev1.ProtocolTCP,
			}},
		},
	}
	var out []*unstructured.Unstructured
	for _, o := range []runtime.Object{d, s} {
		u, err := kube.ToUnstructured(o)
		if err != nil {
			return nil, fmt.Errorf("valkey: %w", err)
		}
		out = append(out, u)
	}
	return out, nil
}
