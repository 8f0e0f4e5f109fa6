package scenario

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Apps runs K independent copies of a scenario's app at once, in the
// scenario's namespace: each copy has its own workload, autoscaler (HPA,
// ScaledObject, InterceptorRoute or HTTPScaledObject), ingress host and SQS
// queue, its names suffixed with the app's number ("-01"…), and its own
// load. The report holds one timeline per app and the distribution of each
// reaction metric across the apps; the scenario passes only when every app
// passes.
type Apps struct {
	// Count is K, at least 1 (default 1).
	Count int `json:"count,omitempty"`
	// Load is how the scenario's load is shared: replicate (default: every
	// app gets the whole load, as Knative's scale-from-zero test loads each
	// service) or split (the load's connections, rates (of steps and of a
	// request-rate profile too), in-flight cap and messages are divided
	// between the apps, the remainder to the first
	// ones, so the apps together get the scenario's load). Cold-start
	// probes and a CPU profile are per app either way.
	Load string `json:"load,omitempty"`
}

// How the load is shared between apps.
const (
	AppsLoadReplicate = "replicate"
	AppsLoadSplit     = "split"
)

// AppsLoads are the allowed apps.load values, the default first.
var AppsLoads = []string{AppsLoadReplicate, AppsLoadSplit}

// MaxApps bounds apps.count: the app suffixes stay short, and the names
// they extend stay DNS labels.
const MaxApps = 1000

// AppCount is K: spec.apps.count, 1 when not set.
func (s *Scenario) AppCount() int {
	if s.Spec.Apps == nil || s.Spec.Apps.Count == 0 {
		return 1
	}
	return s.Spec.Apps.Count
}

// SetApps sets spec.apps.count (the CLI's --apps), keeping the load
// sharing the scenario says.
func (s *Scenario) SetApps(k int) {
	if s.Spec.Apps == nil {
		s.Spec.Apps = &Apps{}
	}
	s.Spec.Apps.Count = k
	defaultApps(s.Spec.Apps)
}

func defaultApps(a *Apps) {
	if a != nil && a.Load == "" {
		a.Load = AppsLoadReplicate
	}
}

// validateApps checks spec.apps against the rest of the spec.
func validateApps(p *field.Path, sp *Spec) field.ErrorList {
	a := sp.Apps
	if a == nil {
		return nil
	}
	var errs field.ErrorList
	if a.Count < 1 || a.Count > MaxApps {
		errs = append(errs, field.Invalid(p.Child("count"), a.Count, fmt.Sprintf("1..%d apps", MaxApps)))
	}
	if !slices.Contains(AppsLoads, a.Load) {
		errs = append(errs, field.NotSupported(p.Child("load"), a.Load, AppsLoads))
	}
	if a.Count <= 1 {
		return errs
	}
	if sp.Workload.Manifests != "" {
		errs = append(errs, field.Forbidden(p.Child("count"), "more than one app needs a rendered workload: the names in workload.manifests cannot be suffixed per app"))
	}
	if l := len(sp.Workload.Name) + len(appSuffix(1, a.Count)); l > 63-len("-interceptor") {
		errs = append(errs, field.Invalid(p.Child("count"), a.Count, fmt.Sprintf("workload.name %q with the app suffix is too long for the objects' names (at most %d characters with the suffix)", sp.Workload.Name, 63-len("-interceptor"))))
	}
	for i, h := range sp.Autoscaler.Hosts {
		if strings.HasPrefix(h, "*") {
			errs = append(errs, field.Invalid(field.NewPath("spec", "autoscaler", "hosts").Index(i), h, "with more than one app, hosts are prefixed per app: a wildcard host cannot be"))
		}
	}
	if a.Load != AppsLoadSplit {
		return errs
	}
	lp := field.NewPath("spec", "load")
	switch {
	case sp.Load.Type == LoadCPU:
		errs = append(errs, field.Invalid(p.Child("load"), a.Load, "a CPU profile is a per-pod level, nothing to split: use replicate"))
	case sp.Load.HTTP != nil && sp.Load.HTTP.Mode != LoadOpenLoop:
		h := sp.Load.HTTP
		if h.Connections > 0 && h.Connections < a.Count {
			errs = append(errs, field.Invalid(lp.Child("http", "connections"), h.Connections, fmt.Sprintf("split between %d apps needs at least one connection per app", a.Count)))
		}
		for i, st := range h.Steps {
			if st.Connections > 0 && st.Connections < a.Count {
				errs = append(errs, field.Invalid(lp.Child("http", "steps").Index(i).Child("connections"), st.Connections, fmt.Sprintf("split between %d apps needs at least one connection per app", a.Count)))
			}
		}
	case sp.Load.SQS != nil:
		if sp.Load.SQS.Messages < a.Count {
			errs = append(errs, field.Invalid(lp.Child("sqs", "messages"), sp.Load.SQS.Messages, fmt.Sprintf("split between %d apps needs at least one message per app", a.Count)))
		}
	}
	return errs
}

// appSuffix is app i's (from 1) name suffix among k: "-1".."-9" for up to
// 9 apps, "-01".."-25" for 25, so names sort in app order.
func appSuffix(i, k int) string {
	w := len(strconv.Itoa(k))
	return fmt.Sprintf("-%0*d", w, i)
}

// ForApp is app i's (from 1) copy of a multi-app scenario s: its name,
// workload, autoscaler, hosts and queue suffixed, its load replicated or
// its share of s's (spec.apps.load). The copy has no spec.apps: it is one
// app. s is not modified.
func ForApp(s *Scenario, i int) (*Scenario, error) {
	k := s.AppCount()
	if i < 1 || i > k {
		return nil, fmt.Errorf("app %d: the scenario has %d apps", i, k)
	}
	cp, err := Copy(s)
	if err != nil {
		return nil, err
	}
	split := cp.Spec.Apps != nil && cp.Spec.Apps.Load == AppsLoadSplit
	cp.Spec.Apps = nil
	suffix := appSuffix(i, k)
	cp.App = suffix
	cp.Metadata.Name = s.Metadata.Name + suffix
	w := &cp.Spec.Workload
	w.Name += suffix
	host := func(h string) string { return w.Name + "." + h }
	for j, h := range cp.Spec.Autoscaler.Hosts {
		cp.Spec.Autoscaler.Hosts[j] = host(h)
	}
	if h := cp.Spec.Load.HTTP; h != nil {
		// Every app has its own ingress rule, matched by the Host the
		// load sends.
		if h.Host == "" {
			h.Host = host(AppsHostDomain)
		} else {
			h.Host = host(h.Host)
		}
		if split {
			h.Connections = share(h.Connections, i, k)
			h.Rate = h.Rate / float64(k)
			h.MaxInFlight = share(h.MaxInFlight, i, k)
			for j := range h.Steps {
				h.Steps[j].Connections = share(h.Steps[j].Connections, i, k)
				h.Steps[j].Rate /= float64(k)
			}
			for _, st := range h.Profile {
				for _, r := range []*Rate{st.Rate, st.RampTo} {
					if r != nil {
						r.PerSecond /= float64(k)
					}
				}
			}
		}
	}
	if q := cp.Spec.Load.SQS; q != nil {
		if q.Queue != "" {
			q.Queue += suffix
		}
		if split {
			q.Messages = share(q.Messages, i, k)
			q.Rate /= float64(k)
		}
	}
	return cp, nil
}

// AppCopies are the apps a run of s creates: s itself when it asks for no
// apps, else its K copies (ForApp), even for K = 1 (the report then has the
// apps' shape). The run and bench plan both take their apps from here.
func AppCopies(s *Scenario) ([]*Scenario, error) {
	if s.Spec.Apps == nil {
		return []*Scenario{s}, nil
	}
	out := make([]*Scenario, s.AppCount())
	for i := range out {
		a, err := ForApp(s, i+1)
		if err != nil {
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// AppsHostDomain is the domain of the Host an app of a multi-app HPA or
// KEDA CPU scenario is loaded by ("<app>.apps.scalebench.test"), when its
// load names none.
const AppsHostDomain = "apps.scalebench.test"

// share is app i's (from 1) share of n among k: n/k, the remainder to the
// first apps; 0 stays 0 (not set).
func share(n, i, k int) int {
	if n <= 0 {
		return n
	}
	q := n / k
	if i <= n%k {
		q++
	}
	return q
}

// Copy is a deep copy of s (its spec through JSON, as a file would give
// it); the manifests it was read with are shared, not copied.
func Copy(s *Scenario) (*Scenario, error) {
	b, err := json.Marshal(s.Spec)
	if err != nil {
		return nil, fmt.Errorf("copy scenario %s: %w", s.Metadata.Name, err)
	}
	cp := *s
	cp.Spec = Spec{}
	if err := json.Unmarshal(b, &cp.Spec); err != nil {
		return nil, fmt.Errorf("copy scenario %s: %w", s.Metadata.Name, err)
	}
	cp.Derived = slices.Clone(s.Derived)
	cp.Metadata.Labels = maps.Clone(s.Metadata.Labels)
	return &cp, nil
}
