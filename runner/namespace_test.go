package runner

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/workloads"
)

// A run deletes the namespace it created, labelled with its id, and never
// one that was there before it (on a cluster it did not create, nothing it
// made stays and nothing it found goes).
func TestCleanupDeletesOnlyTheNamespaceItCreated(t *testing.T) {
	for _, existed := range []bool{false, true} {
		sc := testScenario(t, "ns")
		sc.Spec.Namespace = "bench-ns"
		api := fakeAPI(t, sc.Spec.Namespace)
		ctx := context.Background()
		if existed {
			if _, err := api.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: sc.Spec.Namespace}}, metav1.CreateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		r := &run{opts: Options{RunID: "run-1"}, s: sc, c: api, set: &workloads.Set{}}
		if err := r.ensureNamespace(ctx, sc.Spec.Namespace); err != nil {
			t.Fatal(err)
		}
		ns, err := api.Kube.CoreV1().Namespaces().Get(ctx, sc.Spec.Namespace, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got := ns.Labels[kube.LabelRunID]; (got == "run-1") == existed {
			t.Errorf("existed %v: namespace run-id label %q", existed, got)
		}
		if err := r.cleanup(ctx, false); err != nil {
			t.Fatal(err)
		}
		_, err = api.Kube.CoreV1().Namespaces().Get(ctx, sc.Spec.Namespace, metav1.GetOptions{})
		if gone := apierrors.IsNotFound(err); gone == existed {
			t.Errorf("namespace there before the run: %v; deleted by its cleanup: %v (err %v)", existed, gone, err)
		}
	}
}
