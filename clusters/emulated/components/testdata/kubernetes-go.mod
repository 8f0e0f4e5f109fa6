// An excerpt of the go.mod of k8s.io/kubernetes v1.35.4 (requirements shortened), to test the derivation
// of the staging replace list. A single-line replace and a non-staging replace are added on purpose.

module k8s.io/kubernetes

go 1.25.0

require (
	github.com/google/cel-go v0.26.0
	k8s.io/api v0.0.0
	k8s.io/client-go v0.0.0
	sigs.k8s.io/yaml v1.6.0
	k8s.io/kubelet v0.0.0
)

replace (
	k8s.io/api => ./staging/src/k8s.io/api
	k8s.io/apiextensions-apiserver => ./staging/src/k8s.io/apiextensions-apiserver
	k8s.io/apimachinery => ./staging/src/k8s.io/apimachinery
	k8s.io/apiserver => ./staging/src/k8s.io/apiserver
	k8s.io/cli-runtime => ./staging/src/k8s.io/cli-runtime
	k8s.io/client-go => ./staging/src/k8s.io/client-go
	k8s.io/cloud-provider => ./staging/src/k8s.io/cloud-provider
)

replace example.com/not-staging => ../elsewhere

replace k8s.io/kubelet => ./staging/src/k8s.io/kubelet
