// Package clusters defines what every cluster kind provides to scenarios:
// emulated (real control plane, KWOK nodes, emulated data plane), k3d, kind
// and an existing kubeconfig. Each kind lives in its own sub-package.
package clusters

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	"k8s.io/client-go/rest"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/sqs"
)

// Provider creates clusters of one kind.
type Provider interface {
	// Name is the kind: "emulated", "k3d", "kind" or "existing".
	Name() string
	// Create brings up a cluster (or connects to one) with the platform
	// installed, ready for scenarios.
	Create(ctx context.Context, opts Options) (Cluster, error)
}

// Options are the settings common to every provider.
type Options struct {
	// Name of the cluster.
	Name string
	// RunID labels everything the run creates.
	RunID string
	// WorkDir holds the cluster's files (kubeconfig, logs); diagnostics are
	// copied from here.
	WorkDir string
	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
	// Progress, when non-nil, receives human progress lines (a terminal).
	Progress io.Writer
	// Keep leaves the cluster running on Delete (for debugging).
	Keep bool
	// IngressAddr is where a cluster that serves its own ingress on this
	// machine listens (host:port; "127.0.0.1:0" picks a free port); "" is
	// the kind's default. Kinds whose ingress is elsewhere ignore it.
	IngressAddr string
	// Autoscalers are the autoscaler types (a scenario's
	// spec.autoscaler.type: hpa, keda-cpu, keda-sqs, keda-http) the run's
	// scenarios use. A kind whose platform parts are optional may start only
	// the parts these need (the emulated cluster: KEDA for keda-*, the HTTP
	// add-on for keda-http); nil means every part.
	Autoscalers []string
	// Settings are the user's cluster settings for this run.
	Settings
}

// Settings are the user's cluster settings (command-line flags). Each kind
// reads those that apply to it and ignores the others; zero values are the
// kind's defaults.
type Settings struct {
	// Kubeconfig and Context select a cluster that exists already.
	Kubeconfig string
	Context    string
	// InstallPlatform lets a provider install the platform parts missing on
	// a cluster it did not create (never changing the ones it finds).
	InstallPlatform bool
	// NodeImage replaces the node image of a cluster the provider creates.
	NodeImage string
	// Agents is the number of worker nodes of a created cluster; nil is the
	// kind's default.
	Agents *int
	// Ports replace the host port mappings of a created cluster, in the
	// kind's syntax (k3d: "8081:80@loadbalancer"; kind: "8081:80").
	Ports []string
	// PlatformVersions override the platform components' versions
	// (NAME=VERSION, as platform.Versions.Set takes them) for the parts a
	// provider installs.
	PlatformVersions []string
	// NeedsSQS is set when a planned scenario needs an SQS queue and a
	// store (keda-sqs): providers that install the platform add Valkey and
	// LocalStack to it. Derived from the scenarios, not a flag of its own.
	NeedsSQS bool
}

// Cluster is a running cluster with the platform installed.
type Cluster interface {
	// RESTConfig reaches the cluster's API server.
	RESTConfig() *rest.Config
	// KubeconfigPath is a kubeconfig file for the cluster.
	KubeconfigPath() string
	// Environment fingerprints the cluster for reports.
	Environment() results.Environment
	// CollectDiagnostics writes logs and state useful after a failure into dir.
	CollectDiagnostics(ctx context.Context, dir string) error
	// Delete tears the cluster down (unless Options.Keep) and releases every
	// resource the provider started.
	Delete(ctx context.Context) error
}

// The optional capabilities below are small interfaces a Cluster may
// implement; generic code finds them by type assertion, never by checking
// for a concrete cluster kind.

// HTTPIngress is implemented by clusters that expose an ingress (the docs'
// load balancer at localhost:8081) routing by Kubernetes Ingress objects.
type HTTPIngress interface {
	// IngressURL is the base URL load generators send requests to.
	IngressURL() string
}

// Watchdog is implemented by clusters that run platform components
// themselves: a component that dies is sent on the channel, so a scenario
// stops with that reason instead of hanging.
type Watchdog interface {
	// Failures delivers component failures until ctx is done; then the
	// subscription ends and nothing more is sent.
	Failures(ctx context.Context) <-chan error
}

// HealthChecker is implemented by clusters that can tell whether every
// platform component is running; a scenario does not start on a broken
// platform.
type HealthChecker interface {
	// CheckComponents is nil when every component runs, else an error
	// naming each one that does not.
	CheckComponents() error
}

// CPUDriver is implemented by clusters whose data plane can hold a
// workload's pods at a CPU utilization directly (the emulated data plane),
// for load profiles written in CPU terms. Real clusters cannot: their pods
// run the real app.
type CPUDriver interface {
	// SetCPUUtilization makes every Ready pod in namespace that matches
	// podSelector use percent % of its CPU request (capped at its CPU
	// limit), on top of what its requests cost, until the next call; pods
	// that become Ready later join at that level. 0 returns them to idle.
	SetCPUUtilization(namespace, podSelector string, percent float64) error
}

// LoadPodHost is implemented by clusters whose data plane runs the
// in-cluster load Job's pods itself (the emulated one runs their command in
// the bench process); LoadPodNote says so in the report.
type LoadPodHost interface {
	LoadPodNote() string
}

// HPAKnobs are the HPA controller's cluster-wide settings in force
// (kube-controller-manager's --horizontal-pod-autoscaler-* flags).
type HPAKnobs struct {
	SyncPeriod             time.Duration
	DownscaleStabilization time.Duration
	Tolerance              float64
}

// HPAKnobReporter is implemented by clusters that know their HPA
// controller's settings (they start it), so budgets use the values in
// force instead of Kubernetes' defaults.
type HPAKnobReporter interface {
	HPAKnobs() HPAKnobs
}

// MetricsEndpoint is a Prometheus text endpoint of an autoscaling
// component, as the harness reaches it.
type MetricsEndpoint struct {
	// Component is the process: ComponentKEDAOperator or
	// ComponentControllerManager.
	Component string
	// URL is its /metrics.
	URL string
	// InsecureSkipVerify: the component serves HTTPS with its own
	// self-signed certificate on loopback; nothing to verify it against.
	InsecureSkipVerify bool
}

// Components whose metrics tell the autoscalers' own lag.
const (
	// ComponentKEDAOperator exposes keda_internal_scale_loop_latency_seconds.
	ComponentKEDAOperator = "keda-operator"
	// ComponentControllerManager exposes the HPA controller's workqueue
	// metrics (workqueue_*{name="horizontalpodautoscaler"}).
	ComponentControllerManager = "kube-controller-manager"
)

// AutoscalerMetrics is implemented by clusters whose autoscaling
// components' Prometheus endpoints the harness can reach (the emulated
// cluster runs them as local processes). On other kinds the autoscalers'
// own lag is reported absent, saying why.
type AutoscalerMetrics interface {
	AutoscalerMetricsEndpoints() []MetricsEndpoint
}

// CPUDriverProvider is implemented by providers whose clusters implement
// CPUDriver, so a CPU profile is refused before anything is created.
type CPUDriverProvider interface {
	DrivesCPU() bool
}

// SQSProvider is implemented by clusters that provide an SQS endpoint and a
// Redis-protocol store for the keda-sqs scenario.
type SQSProvider interface {
	SQSEnv(ctx context.Context) (sqs.Env, error)
}

// ComponentStopper is implemented by clusters that can stop one of their
// platform components on request and start it again (fault injection).
type ComponentStopper interface {
	StopComponent(ctx context.Context, name string) error
	RestartComponent(ctx context.Context, name string) error
}

// FailureInjector is implemented by clusters whose platform components are
// local processes: a test kills one from outside (as an OOM kill or
// `kill -9` would) by its process id, and restarts it afterwards.
type FailureInjector interface {
	ComponentPID(name string) (int, bool)
	RestartComponent(ctx context.Context, name string) error
}

// AppFaultInjector is implemented by clusters whose apps are emulated: for
// d, every app instance answers every request with status (a 5xx), as an
// app with a bad release would (fault tests).
type AppFaultInjector interface {
	FailAppRequests(status int, d time.Duration)
}

// NodeSizer is implemented by providers whose nodes' capacity is a setting
// (emulated nodes), not a property of the machines.
type NodeSizer interface {
	// SetNodeCPU sets each node's CPU capacity (a quantity: "4", "3500m").
	SetNodeCPU(quantity string) error
}

// NodeNeed is what one scenario asks of emulated nodes: its own node count
// and per-node capacity (spec.cluster.nodes; zero values unset), and its
// maximum replicas with each pod's requests (quantities, "" when unset),
// from which a provider derives the nodes when the scenario sets no count.
type NodeNeed struct {
	Scenario string
	Count    int
	CPU      string
	Memory   string
	Pods     int

	MaxReplicas   int
	CPURequest    string
	MemoryRequest string
}

// NodePlanner is implemented by providers that create their nodes as the
// run's scenarios need them (emulated nodes). PlanNodes is called before
// Create with every scenario of the run; an error names the scenario field.
type NodePlanner interface {
	PlanNodes(needs []NodeNeed) error
}

// Preflighter is implemented by providers that can tell, before anything is
// created, that a prerequisite (a Docker engine, a kubeconfig) is missing.
type Preflighter interface {
	Preflight(ctx context.Context, opts Options) error
}

// PlatformPart is one part of the platform scenarios need (cert-manager,
// spin-operator, KEDA, the KEDA HTTP add-on) as found on a cluster.
type PlatformPart struct {
	Name string `json:"name"`
	// Present is true when the part's CRDs and controllers were found.
	Present bool `json:"present"`
	// Version is the controller's image tag when Present ("" when unknown).
	Version string `json:"version,omitempty"`
	// Detail says what was found or what is missing.
	Detail string `json:"detail,omitempty"`
	// InstalledByRun is true when this run installed the part (and
	// uninstalls it on Delete).
	InstalledByRun bool `json:"installedByRun,omitempty"`
}

// PlatformReporter is implemented by clusters that know which platform
// parts they have.
type PlatformReporter interface {
	Platform() []PlatformPart
}

// ErrPrerequisite is wrapped by errors saying a prerequisite of a cluster
// kind is missing (the provider created nothing); check with errors.Is.
var ErrPrerequisite = errors.New("missing prerequisite")

// PrerequisiteError names a missing prerequisite and how to get it.
type PrerequisiteError struct {
	Kind    string // the cluster kind
	Missing string // what is missing
	Step    string // the step that provides it
}

func (e *PrerequisiteError) Error() string {
	return "cluster " + e.Kind + " needs " + e.Missing + ": " + e.Step
}

func (e *PrerequisiteError) Unwrap() error { return ErrPrerequisite }

// ErrNotImplemented is returned for cluster kinds that are not built yet;
// check it with errors.Is.
var ErrNotImplemented = errors.New("not implemented yet")

// Leftover is something a run created that outlived it: a cluster, its
// processes or containers, a namespace.
type Leftover struct {
	// Kind says what it is: "cluster", "process", "container", "namespace".
	Kind string
	// Name is what a person recognises: a folder, "pid 123 (etcd)", a
	// cluster or namespace name.
	Name string
	// RunID is the run that created it; "" when it cannot be told.
	RunID string
	// Reason says why it is left over: "its harness (pid 42) is gone",
	// "kept with --keep".
	Reason string
	// Kept is true for what a run kept on purpose (--keep); cleanup removes
	// it only when asked to.
	Kept bool
	// ID is the provider's own handle for RemoveLeftovers.
	ID string
}

// LeftoverCleaner is implemented by providers whose runs can leave things
// behind when the harness dies (a crash, SIGKILL) or keeps them (--keep);
// `bench cleanup` asks every provider that implements it. An
// implementation finds only what scalebench created — by the run-id label
// (kube.LabelRunID, k3d/kind cluster labels), a marker file in the run's
// work folder, a process started from that folder — never by a name prefix
// alone, and never what a running harness still uses.
type LeftoverCleaner interface {
	// Leftovers lists what runs of this kind left behind.
	Leftovers(ctx context.Context) ([]Leftover, error)
	// RemoveLeftovers removes the given leftovers (as Leftovers returned
	// them), re-checking each is still left over; errors are joined.
	RemoveLeftovers(ctx context.Context, ls []Leftover) error
}

// Planner is implemented by providers that can say, without creating or
// contacting anything, what Create would bring up; bench plan prints it.
type Planner interface {
	PlanCluster(opts Options) (ClusterPlan, error)
}

// ClusterPlan describes the cluster a provider would create.
type ClusterPlan struct {
	// Details are human lines: node image, nodes, port mappings, where the
	// kubeconfig goes.
	Details []string
	// HelmPlatform is true when the platform (cert-manager, the Spin
	// operator, KEDA, the HTTP add-on) is installed with package platform;
	// false when the cluster provides it itself (PlatformNote says how).
	HelmPlatform bool
	PlatformNote string
}
