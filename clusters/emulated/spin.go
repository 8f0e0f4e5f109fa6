package emulated

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/proc"
)

// Spin runtime names, as spin-operator's release assets define them.
const (
	RuntimeClassName    = "wasmtime-spin-v2"
	RuntimeClassHandler = "spin"
	SpinAppExecutorName = "containerd-shim-spin"
)

// runtimeClass is the RuntimeClass every Spin pod names.
func runtimeClass() *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "node.k8s.io/v1", "kind": "RuntimeClass",
		"metadata": map[string]any{"name": RuntimeClassName},
		"handler":  RuntimeClassHandler,
	}}
}

// spinAppExecutor is the executor of spin-operator's release asset
// spin-operator.shim-executor.yaml, in namespace ns.
func spinAppExecutor(namespace string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "core.spinkube.dev/v1alpha1", "kind": "SpinAppExecutor",
		"metadata": map[string]any{"name": SpinAppExecutorName, "namespace": namespace},
		"spec": map[string]any{
			"createDeployment": true,
			"deploymentConfig": map[string]any{
				"runtimeClassName": RuntimeClassName,
			},
		},
	}}
}

// EnsureSpinAppExecutor server-side-applies the SpinAppExecutor
// "containerd-shim-spin" (createDeployment, runtimeClassName
// wasmtime-spin-v2) in namespace: SpinApps can only use an executor of their
// own namespace. runID, when set, labels it.
func EnsureSpinAppExecutor(ctx context.Context, dyn dynamic.Interface, namespace, runID string) error {
	o := spinAppExecutor(namespace)
	if runID != "" {
		o.SetLabels(map[string]string{LabelRunID: runID})
	}
	data, err := o.MarshalJSON()
	if err != nil {
		return fmt.Errorf("spin app executor %s/%s: %w", namespace, SpinAppExecutorName, err)
	}
	force := true
	_, err = dyn.Resource(kube.SpinAppExecutors).Namespace(namespace).Patch(ctx, SpinAppExecutorName, types.ApplyPatchType, data, metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
	if err != nil {
		return fmt.Errorf("spin app executor %s/%s: %w", namespace, SpinAppExecutorName, err)
	}
	return nil
}

// spinOperatorSpec runs spin-operator against the cluster: webhooks off (no
// cert-manager here; the SpinApp defaulting/validation webhook does not run),
// leader election off, probe and metrics on loopback.
func spinOperatorSpec(binary, kubeconfig, home string, probePort, metricsPort int) proc.Spec {
	return proc.Spec{
		Name: ComponentSpinOperator,
		Path: binary,
		Env:  []string{"HOME=" + home},
		Args: []string{
			"--kubeconfig=" + kubeconfig,
			"--enable-webhooks=false",
			"--leader-elect=false",
			"--health-probe-bind-address=" + loopback(probePort),
			"--metrics-bind-address=" + loopback(metricsPort),
			"--metrics-secure=false",
			"--zap-devel=false",
			"--zap-encoder=console",
		},
	}
}
