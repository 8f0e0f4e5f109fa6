package results

// AutoscalerLag is the autoscalers' own lag during a scenario, read from
// their Prometheus metrics every SampleIntervalSeconds from the scenario's
// start to its end. A figure the cluster cannot expose, or that no sample
// held, is absent, and Absent says why by JSON key; never zero-filled.
type AutoscalerLag struct {
	SampleIntervalSeconds float64 `json:"sampleIntervalSeconds"`
	// Samples counts the scrapes made (of either endpoint).
	Samples int `json:"samples"`
	// KEDAScaleLoopLatencySeconds is KEDA's
	// keda_internal_scale_loop_latency_seconds of the scenario's
	// ScaledObjects (how late each scale loop ran against its
	// pollingInterval), every reading of every ScaledObject pooled.
	KEDAScaleLoopLatencySeconds *Distribution `json:"kedaScaleLoopLatencySeconds,omitempty"`
	// The HPA controller's workqueue (kube-controller-manager's
	// workqueue_*{name="horizontalpodautoscaler"}), cluster-wide: every HPA
	// of the cluster, KEDA's included, not only this scenario's.
	// HPAWorkqueueDepth is the depth as sampled.
	HPAWorkqueueDepth *Distribution `json:"hpaWorkqueueDepth,omitempty"`
	// HPAWorkqueueAdds are the keys added during the scenario.
	HPAWorkqueueAdds *int64 `json:"hpaWorkqueueAdds,omitempty"`
	// HPAWorkqueueWaitMeanSeconds is the mean time a key waited in the
	// queue during the scenario (Δsum ÷ Δcount of
	// workqueue_queue_duration_seconds); HPAWorkqueueWaitP95BoundSeconds is
	// the upper bound of the histogram bucket that holds the 95th
	// percentile of those waits (the p95 is at most that).
	HPAWorkqueueWaitMeanSeconds     *float64 `json:"hpaWorkqueueWaitMeanSeconds,omitempty"`
	HPAWorkqueueWaitP95BoundSeconds *float64 `json:"hpaWorkqueueWaitP95BoundSeconds,omitempty"`
	// HPAWorkqueueWorkMeanSeconds is the mean time one HPA sync took
	// (workqueue_work_duration_seconds).
	HPAWorkqueueWorkMeanSeconds *float64 `json:"hpaWorkqueueWorkMeanSeconds,omitempty"`
	// Absent says, by JSON key, why a figure is absent.
	Absent map[string]string `json:"absent,omitempty"`
}
