package scenario

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Load placements: where the HTTP load generator runs.
const (
	// PlacementBench runs it in the bench process (the default).
	PlacementBench = "bench"
	// PlacementCluster runs it as a Kubernetes Job in the cluster (package
	// loadjob), its pods sharing the load.
	PlacementCluster = "cluster"
)

// Placements lists the load placements.
var Placements = []string{PlacementBench, PlacementCluster}

// MaxLoadParallelism bounds load.cluster.parallelism.
const MaxLoadParallelism = 100

// DefaultLoadStartDelay is load.cluster.startDelay's default: how long the
// Job's pods have to be scheduled, pull the image and start before the
// start barrier.
const DefaultLoadStartDelay = 30 * time.Second

// ClusterLoad is HTTP load sent from inside the cluster: a Job of
// Parallelism pods running `bench loadgen`, each with its share of the load
// (connections dealt out, rates divided), all starting at one barrier.
type ClusterLoad struct {
	// Parallelism is how many pods share the load (1..MaxLoadParallelism;
	// default 1).
	Parallelism int `json:"parallelism,omitempty"`
	// Image runs the pods (default: the bench image of the CLI's version).
	Image string `json:"image,omitempty"`
	// URL is the base URL the pods send to, from inside the cluster (e.g. the
	// ingress controller's Service); load.http.path is appended. Default:
	// the URL the bench process would use.
	URL string `json:"url,omitempty"`
	// StartDelay is the start barrier's distance from the Job's creation
	// (default DefaultLoadStartDelay): a pod not running by then fails the run.
	StartDelay Duration `json:"startDelay,omitempty"`
}

// defaultPlacement fills the placement's defaults.
func defaultPlacement(l *Load) {
	if l.Placement == "" {
		l.Placement = PlacementBench
	}
	if l.Placement == PlacementCluster {
		if l.Cluster == nil {
			l.Cluster = &ClusterLoad{}
		}
		if l.Cluster.Parallelism == 0 {
			l.Cluster.Parallelism = 1
		}
		if l.Cluster.StartDelay.Duration == 0 {
			l.Cluster.StartDelay = D(DefaultLoadStartDelay)
		}
	}
}

// validatePlacement checks load.placement and load.cluster.
func validatePlacement(p *field.Path, l *Load) field.ErrorList {
	var errs field.ErrorList
	if l.Placement != "" && !slices.Contains(Placements, l.Placement) {
		return append(errs, field.NotSupported(p.Child("placement"), l.Placement, Placements))
	}
	if l.Placement != PlacementCluster {
		if l.Cluster != nil {
			errs = append(errs, field.Forbidden(p.Child("cluster"), "only with placement "+PlacementCluster))
		}
		return errs
	}
	if l.Type != LoadHTTP {
		errs = append(errs, field.Invalid(p.Child("placement"), l.Placement, "only HTTP load (type http) can be placed in the cluster"))
	}
	c := l.Cluster
	if c == nil {
		return errs
	}
	cp := p.Child("cluster")
	if c.Parallelism < 1 || c.Parallelism > MaxLoadParallelism {
		errs = append(errs, field.Invalid(cp.Child("parallelism"), c.Parallelism, fmt.Sprintf("1..%d pods", MaxLoadParallelism)))
	}
	if c.StartDelay.Duration < 0 {
		errs = append(errs, field.Invalid(cp.Child("startDelay"), c.StartDelay.String(), "must not be negative"))
	}
	if strings.ContainsAny(c.Image, " \t\n") {
		errs = append(errs, field.Invalid(cp.Child("image"), c.Image, "an image reference (no spaces)"))
	}
	if c.URL != "" {
		u, err := url.Parse(c.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, field.Invalid(cp.Child("url"), c.URL, "an http or https URL with a host"))
		}
	}
	if h := l.HTTP; h != nil && l.Type == LoadHTTP && c.Parallelism >= 1 {
		hp := p.Child("http")
		if h.Generator == GeneratorBombardier {
			errs = append(errs, field.Invalid(hp.Child("generator"), h.Generator, "placement cluster runs the builtin generator"))
		}
		if h.Mode != LoadOpenLoop {
			if len(h.Steps) == 0 && h.Connections < c.Parallelism {
				errs = append(errs, field.Invalid(hp.Child("connections"), h.Connections, fmt.Sprintf("at least load.cluster.parallelism (%d): each pod needs one", c.Parallelism)))
			}
			for i, st := range h.Steps {
				if st.Connections > 0 && st.Connections < c.Parallelism {
					errs = append(errs, field.Invalid(hp.Child("steps").Index(i).Child("connections"), st.Connections, fmt.Sprintf("at least load.cluster.parallelism (%d): each pod needs one", c.Parallelism)))
				}
			}
		}
		if h.MaxInFlight > 0 && h.MaxInFlight < c.Parallelism {
			errs = append(errs, field.Invalid(hp.Child("maxInFlight"), h.MaxInFlight, fmt.Sprintf("at least load.cluster.parallelism (%d): each pod needs one", c.Parallelism)))
		}
	}
	return errs
}
