package kube

import (
	"reflect"
	"testing"
)

func TestInventoryDiff(t *testing.T) {
	before := Inventory{Objects: map[string]int64{
		"namespaces default": 0,
		"customresourcedefinitions.apiextensions.k8s.io a": 1,
		"deployments.apps keda/keda-operator":              3,
		"secrets keda/sh.helm.release.v1.keda.v1":          0,
	}}
	same := Inventory{Objects: map[string]int64{}}
	for k, v := range before.Objects {
		same.Objects[k] = v
	}
	if d := before.Diff(same); len(d) != 0 {
		t.Errorf("same objects: diff %q, want none", d)
	}
	after := Inventory{
		Objects: map[string]int64{
			"namespaces default":                       0,
			"namespaces bench-1":                       0,
			"deployments.apps keda/keda-operator":      4,
			"secrets keda/sh.helm.release.v1.keda.v1":  0,
			"secrets keda/sh.helm.release.v1.keda.v2":  0,
			"spinapps.core.spinkube.dev default/app-1": 1,
		},
		Labels: map[string]map[string]string{"namespaces bench-1": {LabelRunID: "run-1"}},
	}
	want := []string{
		"added namespaces bench-1 (labelled run run-1)",
		"added secrets keda/sh.helm.release.v1.keda.v2 (Helm release keda/keda revision 2)",
		"added spinapps.core.spinkube.dev default/app-1",
		"changed deployments.apps keda/keda-operator (generation 3 → 4)",
		"removed customresourcedefinitions.apiextensions.k8s.io a",
	}
	if d := before.Diff(after); !reflect.DeepEqual(d, want) {
		t.Errorf("diff:\n got %q\nwant %q", d, want)
	}
}
