package loadjob

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/load"
)

// DefaultImageRepository is where the release workflow
// (.github/workflows/loadgen-image.yml) publishes the bench image that load
// pods run; the tag is the CLI's version (ImageTag).
const DefaultImageRepository = "ghcr.io/scalebench/scalebench"

// version is the CLI's version when set at link time
// (-X github.com/scalebench/scalebench/loadjob.version=v1.2.3, as the image
// workflow does); otherwise the module version Go stamped into the binary.
var version string

// Version is the CLI's version: the link-time version, else the main
// module's version from the build info ("(devel)" for a plain go build).
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

var (
	releaseVersion = regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$`)
	pseudoVersion  = regexp.MustCompile(`[0-9]{14}-[0-9a-f]{12}$`)
)

// ImageTag is the image tag for CLI version v: the version itself for a
// release (v1.2.3, v1.3.0-rc.1), "main" for anything else (a pseudo-version,
// a dirty or devel build), which the workflow publishes from the main branch.
func ImageTag(v string) string {
	if releaseVersion.MatchString(v) && !pseudoVersion.MatchString(v) {
		return v
	}
	return "main"
}

// DefaultImage is the image of this CLI's version.
func DefaultImage() string { return DefaultImageRepository + ":" + ImageTag(Version()) }

// Labels on the Job and its pods.
const (
	LabelName = "app.kubernetes.io/name"
	// Name is LabelName's value on every load Job and pod.
	Name = "scalebench-loadgen"
	// LabelJob names the Job on its pods (set by scalebench, so it does
	// not depend on the Job controller's own labels).
	LabelJob = "scalebench.dev/loadgen-job"
	// Container is the load pods' container name.
	Container = "loadgen"
)

// Spec is what a load Job is rendered from.
type Spec struct {
	Name, Namespace string
	// Image runs `bench loadgen` as its entrypoint's first argument (a ko
	// image's entrypoint is the binary).
	Image string
	// Parallelism is how many pods share the load (all run at once).
	Parallelism int
	// Options are the whole Job's load; each pod runs its Split.
	Options load.Options
	// StartAt is the start barrier: every pod starts its load then.
	StartAt time.Time
	// RunID labels the Job and its pods.
	RunID string
}

// Selector selects the Job's pods.
func (s Spec) Selector() string { return LabelJob + "=" + s.Name }

// deadline bounds the pods' lives, so a Job outlives a bench process that
// died without tearing it down by at most a minute: until the barrier, the
// load, the last requests' timeout, and a minute.
func (s Spec) deadline(now time.Time) time.Duration {
	o := s.Options
	d := o.Duration
	if len(o.Steps) > 0 {
		d = 0
		for _, st := range o.Steps {
			d += st.Duration
		}
	}
	if d == 0 {
		d = load.DefaultDuration
	}
	t := o.Timeout
	if t == 0 {
		t = load.DefaultTimeout
	}
	return max(s.StartAt.Sub(now), 0) + d + t + time.Minute
}

// Render is the Job that runs s: an Indexed Job of Parallelism pods, all at
// once, none retried (a retried pod would send its share twice), each
// running `bench loadgen` with the whole load's flags (Args) and finding
// its share from its index. now fixes the deadline (the barrier's distance).
func Render(s Spec, now time.Time) (*unstructured.Unstructured, error) {
	if s.Parallelism < 1 {
		return nil, fmt.Errorf("loadjob: parallelism %d: must be >= 1", s.Parallelism)
	}
	for i := range s.Parallelism {
		if _, err := Split(s.Options, s.Parallelism, i); err != nil {
			return nil, err
		}
	}
	if s.Image == "" || strings.ContainsAny(s.Image, " \t\n") {
		return nil, fmt.Errorf("loadjob: image %q: must be an image reference", s.Image)
	}
	labels := map[string]string{LabelName: Name, LabelJob: s.Name, kube.LabelManagedBy: kube.ManagedBy}
	if s.RunID != "" {
		labels[kube.LabelRunID] = s.RunID
	}
	n := int32(s.Parallelism)
	job := &batchv1.Job{
		TypeMeta:   metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace, Labels: labels},
		Spec: batchv1.JobSpec{
			Parallelism:             &n,
			Completions:             &n,
			CompletionMode:          ptr.To(batchv1.IndexedCompletion),
			BackoffLimit:            ptr.To[int32](0),
			ActiveDeadlineSeconds:   ptr.To(int64(s.deadline(now).Seconds())),
			TTLSecondsAfterFinished: ptr.To[int32](600),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					RestartPolicy:                 corev1.RestartPolicyNever,
					TerminationGracePeriodSeconds: ptr.To[int64](5),
					AutomountServiceAccountToken:  ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot:   ptr.To(true),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{{
						Name:  Container,
						Image: s.Image,
						Args:  append([]string{CommandName}, Args(s.Options, s.Parallelism, s.StartAt)...),
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
							corev1.ResourceCPU:    resource.MustParse("250m"),
							corev1.ResourceMemory: resource.MustParse("64Mi"),
						}},
						SecurityContext: &corev1.SecurityContext{
							AllowPrivilegeEscalation: ptr.To(false),
							ReadOnlyRootFilesystem:   ptr.To(true),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
						},
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
					}},
				},
			},
		},
	}
	u, err := kube.ToUnstructured(job)
	if err != nil {
		return nil, fmt.Errorf("loadjob: %w", err)
	}
	return u, nil
}
