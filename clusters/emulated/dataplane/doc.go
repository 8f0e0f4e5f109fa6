// Package dataplane is the emulated cluster's data plane: what kubelets,
// containerd-shim-spin, kube-proxy and the k3d load balancer + Traefik do for
// Spin apps on a real cluster, done in one process on virtual time.
//
// Instances. Every Running, Ready pod annotated with AnnotationModel gets an
// emulated app instance, keyed by pod IP and by pod name. Models:
//   - cpu-load-gen: each request costs AnnotationCPUPerRequest of CPU time
//     (default DefaultFib43CPU, the sample's naive fib(43)), served by a
//     processor-sharing CPU capped at the pod's CPU limit (Processor). It is a
//     model in time, driven by timers: hundreds of instances cost almost no
//     real CPU. A client that gives up releases its share.
//   - hello: a tiny CPU cost (DefaultHelloCPU) then AnnotationLatency.
//   - more through Config.Models (the sqs-transformer sample): a Model has
//     Start/ServeHTTP/CPUUsed/Stop.
//
// Draining. A pod that stops being Ready or starts terminating has its
// instance stop taking requests, finish the ones in flight and go; a
// terminating pod's instance is killed when its grace period ends (in-flight
// requests then get 502).
//
// Node CPU. With Config.NodeCPUMilli, the pods of one node share its
// capacity: max-min fair shares weighted by CPU request, each capped at the
// pod's limit (cgroup cpu.weight and CFS quota).
//
// CPU usage. Each pod's cumulative CPU-seconds (idle 1m included) is written
// to AnnotationCPUSeconds every Config.UsageInterval while it is busy; kwok
// serves it as the kubelet's container_cpu_usage_seconds_total, so the real
// metrics-server computes the average between two of its scrapes, as from
// cAdvisor. The average over Config.UsageWindow is written to
// AnnotationUsageCPU (kwok's usage-from-annotation: node metrics) only when
// it moved by max(2m, 5%).
//
// Ingress. Config.IngressAddr serves HTTP routed by networking.k8s.io/v1
// Ingress rules (host, longest path; every IngressClass) to the backend
// Service's ready EndpointSlice endpoints, round-robin, keeping the Host
// header: 404 without a rule, 503 without a ready endpoint. Endpoints that no
// emulated pod backs can be mapped to local listeners (Plane.MapEndpoint).
//
// Service network. With Config.ProxyAddr, an HTTP forward proxy (plain
// requests and CONNECT) lets out-of-cluster processes reach Services by their
// cluster DNS names, endpoint IPs, and the KEDA HTTP add-on's hosts.
package dataplane
