package kind

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// InstallerNamespace holds the node installer DaemonSet.
const InstallerNamespace = "kube-system"

// InstallerName names the node installer DaemonSet.
const InstallerName = "scalebench-spin-node-installer"

// NodeInstaller is the SpinKube node installer as a DaemonSet: on every
// node a privileged init container with the node's root filesystem copies
// containerd-shim-spin-v2 into it, adds the spin runtime to containerd's
// configuration and restarts containerd (what runtime-class-manager, the
// former kwasm operator, runs as a Job per node); a pause container then
// keeps the pod Running, so the DaemonSet's readiness says every node has
// the shim.
func NodeInstaller(shimVersion, runID string) *unstructured.Unstructured {
	labels := map[string]any{"app.kubernetes.io/name": InstallerName, "app.kubernetes.io/managed-by": "scalebench", RunIDLabel: runID}
	selector := map[string]any{"app.kubernetes.io/name": InstallerName}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apps/v1", "kind": "DaemonSet",
		"metadata": map[string]any{"name": InstallerName, "namespace": InstallerNamespace, "labels": labels},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": selector},
			"template": map[string]any{
				"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{
					"hostPID":     true,
					"tolerations": []any{map[string]any{"operator": "Exists"}},
					"volumes":     []any{map[string]any{"name": "node-root", "hostPath": map[string]any{"path": "/"}}},
					"initContainers": []any{map[string]any{
						"name":            "installer",
						"image":           NodeInstallerRepo + ":" + shimVersion,
						"env":             []any{map[string]any{"name": "NODE_ROOT", "value": "/mnt/node-root"}},
						"securityContext": map[string]any{"privileged": true},
						"volumeMounts":    []any{map[string]any{"name": "node-root", "mountPath": "/mnt/node-root"}},
					}},
					"containers": []any{map[string]any{
						"name":  "pause",
						"image": "registry.k8s.io/pause:3.10",
					}},
				},
			},
		},
	}}
}
