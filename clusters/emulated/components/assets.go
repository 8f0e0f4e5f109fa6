package components

// Files other packages read from module sources, relative to ModuleDir(ctx, <component>) for the pinned
// versions (checked by TestModuleAssets). Directories are marked "Dir".
const (
	// KEDA (ModuleDir(ctx, KEDA)).
	KEDACRDDir                = "config/crd/bases"
	KEDAValidationWebhookFile = "config/webhooks/validation_webhooks.yaml"

	// spin-operator (ModuleDir(ctx, SpinOperator)).
	SpinOperatorCRDDir = "config/crd/bases"

	// metrics-server (ModuleDir(ctx, MetricsServer)): a kustomize dir, as kwokctl's metricsServerManifests.
	MetricsServerManifestsDir = "manifests/base"

	// kwok (ModuleDir(ctx, Kwok)).
	// ClusterResourceUsage "usage-from-annotation": pod annotation kwok.x-k8s.io/usage-cpu becomes its usage.
	KwokUsageFromAnnotationFile = "kustomize/metrics/usage/usage-from-annotation.yaml"
	// Metric "metrics-resource": serves /metrics/nodes/<node>/metrics/resource for metrics-server.
	KwokMetricsResourceFile = "kustomize/metrics/resource/metrics-resource.yaml"
	// Pod stages whose delays and outcomes come from pod annotations (pod-create, pod-ready, pod-delete…).
	KwokPodGeneralStageDir = "kustomize/stage/pod/general"
	// Pod stages without delays.
	KwokPodFastStageDir = "kustomize/stage/pod/fast"
	// Node stages: initialize (fast) and heartbeat.
	KwokNodeFastStageDir      = "kustomize/stage/node/fast"
	KwokNodeHeartbeatStageDir = "kustomize/stage/node/heartbeat"
	KwokCRDDir                = "kustomize/crd/bases"

	// KEDA HTTP add-on (ModuleDir(ctx, HTTPAddOn)).
	HTTPAddOnCRDDir = "config/crd/bases"
)
