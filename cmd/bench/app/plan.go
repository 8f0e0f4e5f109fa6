package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/clusters"
	"github.com/scalebench/scalebench/clusters/all"
	"github.com/scalebench/scalebench/clusters/sqsbackend"
	"github.com/scalebench/scalebench/loadjob"
	"github.com/scalebench/scalebench/platform"
	"github.com/scalebench/scalebench/runner"
	"github.com/scalebench/scalebench/scenario"
	"github.com/scalebench/scalebench/workloads"
)

// planFlags are bench plan's flags; bench run --dry-run fills them from its own.
type planFlags struct {
	cluster          string
	scenarios        stringList
	apps             string
	platformVersions stringList
	manifests        bool
	// settings are bench run's cluster flags (--dry-run); bench plan uses the kinds' defaults.
	settings clusters.Settings
}

func planCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f planFlags
	fs := newFlagSet("plan", stderr)
	fs.StringVar(&f.cluster, "cluster", "emulated", "cluster kind: "+strings.Join(all.Kinds, ", "))
	fs.Var(&f.scenarios, "scenario", "built-in scenario name or scenario file (repeatable; default: "+strings.Join(DefaultScenarios, ", ")+")")
	fs.StringVar(&f.apps, "apps", "", "K: plan K independent copies of each scenario's app, as bench run --apps K creates them (sets spec.apps.count; default: the scenario's, 1); a list K1,K2,... plans each scenario once per K")
	fs.Var(&f.platformVersions, "platform-version", "override a platform component's version, NAME=VERSION (repeatable; names: "+strings.Join(platform.Names, ", ")+")")
	fs.BoolVar(&f.manifests, "manifests", true, "print every manifest each scenario would apply (rendered YAML)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("plan: unexpected arguments %q", fs.Args())
	}
	return printPlan(ctx, "plan", f, stdout)
}

// printPlan prints what a run would do — the cluster, the platform with chart versions and values, the
// scenarios and every manifest they apply — without creating or contacting anything. Invalid input is a
// usage error naming the flag.
func printPlan(_ context.Context, cmd string, f planFlags, w io.Writer) error {
	if !all.Valid(f.cluster) {
		return usageErr("%s: --cluster %q: unknown (allowed: %s)", cmd, f.cluster, strings.Join(all.Kinds, ", "))
	}
	var versions platform.Versions
	for _, o := range f.platformVersions {
		if err := versions.Set(o); err != nil {
			return usageErr("%s: --platform-version: %v", cmd, err)
		}
	}
	names := []string(f.scenarios)
	if len(names) == 0 {
		names = DefaultScenarios
	}
	resolved, err := resolveScenarios(names)
	if err != nil {
		return err
	}
	appCounts, err := parseApps(f.apps)
	if err != nil {
		return usageErr("%s: %v", cmd, err)
	}
	var scs []*scenario.Scenario
	var errs []error
	for _, s := range resolved {
		withK, err := withApps(s, appCounts)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		scs = append(scs, withK...)
	}
	if len(errs) > 0 {
		return &ExitError{Code: ExitUsage, Err: errors.Join(errs...)}
	}
	f.settings.NeedsSQS = needsSQS(scs)
	// Valkey and LocalStack join the platform only when a scenario needs them.
	pp, err := platform.NewPlan(platform.Options{Versions: versions, SQS: f.settings.NeedsSQS})
	if err != nil {
		return usageErr("%s: %v", cmd, err)
	}

	// The cluster.
	fmt.Fprintf(w, "# Cluster: %s\n", f.cluster)
	helm := f.cluster != "emulated" // refined by the provider's own plan below
	provider, perr := providerFor(f.cluster)
	switch {
	case errors.Is(perr, clusters.ErrNotImplemented):
		fmt.Fprintf(w, "provider not built yet: %v\n", perr)
	case perr != nil:
		return usageErr("%s: %v", cmd, perr)
	default:
		// The nodes the run would create for these scenarios' apps.
		if err := planNodes(cmd, provider, scs); err != nil {
			return err
		}
		if pl, ok := provider.(clusters.Planner); ok {
			cp, err := pl.PlanCluster(clusters.Options{Settings: f.settings, Autoscalers: runner.Plan{Scenarios: scs}.Autoscalers()})
			if err != nil {
				return usageErr("%s: cluster %s: %v", cmd, f.cluster, err)
			}
			for _, d := range cp.Details {
				fmt.Fprintf(w, "%s\n", d)
			}
			helm = cp.HelmPlatform
			if cp.PlatformNote != "" {
				fmt.Fprintf(w, "platform: %s\n", cp.PlatformNote)
			}
		}
	}

	// The platform.
	fmt.Fprintln(w)
	if helm {
		fmt.Fprintln(w, "# Platform (Helm, in this order; a component the cluster already has and scalebench did not install is left as it is)")
		if err := pp.Write(w); err != nil {
			return harnessErr(err)
		}
	} else {
		fmt.Fprintln(w, "# Platform: provided by the cluster itself, no Helm install")
	}

	// The scenarios.
	fmt.Fprintln(w)
	fmt.Fprintln(w, "# Scenarios")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tAPPS\tAUTOSCALER\tREPLICAS\tWORKLOAD\tIMAGE\tNAMESPACE")
	for _, s := range scs {
		a := s.Spec.Autoscaler
		apps := "1"
		if s.Spec.Apps != nil {
			apps = fmt.Sprintf("%d (load %s)", s.AppCount(), s.Spec.Apps.Load)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d..%d\t%s %s\t%s\t%s\n", s.Metadata.Name, apps, a.Type, *a.MinReplicas, a.MaxReplicas, s.Spec.Workload.Kind, s.Spec.Workload.Name, s.Spec.Workload.Image, s.Spec.Namespace)
	}
	if err := tw.Flush(); err != nil {
		return harnessErr(err)
	}
	if !f.manifests {
		return nil
	}
	for _, s := range scs {
		if err := printManifests(w, cmd, s, helm); err != nil {
			return err
		}
	}
	return nil
}

// printManifests prints every object a run of s applies: those of each of
// its apps (scenario.AppCopies, as the run takes them), an object the apps
// share (the executor) once, with the first app; then each app's load Job.
func printManifests(w io.Writer, cmd string, s *scenario.Scenario, helm bool) error {
	apps, err := scenario.AppCopies(s)
	if err != nil {
		return harnessErr(err)
	}
	printed := map[string]string{} // kind namespace/name → the app that printed it
	for i, app := range apps {
		wiring, err := planSQSWiring(app, helm)
		if err != nil {
			return harnessErr(fmt.Errorf("scenario %s: %w", app.Metadata.Name, err))
		}
		set, err := workloads.Render(app, workloads.Options{SQS: wiring})
		if err != nil {
			return usageErr("%s: scenario %s: %v", cmd, app.Metadata.Name, err)
		}
		if s.Spec.Apps == nil {
			fmt.Fprintf(w, "\n# Scenario %s: manifests, in apply order (workload, then the autoscaler once the workload is ready)\n", s.Metadata.Name)
		} else {
			fmt.Fprintf(w, "\n# Scenario %s, app %d of %d (%s): manifests, in apply order (workload, then the autoscaler once the workload is ready)\n", s.Metadata.Name, i+1, len(apps), app.Metadata.Name)
		}
		for _, o := range append(set.Workload, set.Autoscaler...) {
			key := o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
			if first, ok := printed[key]; ok {
				fmt.Fprintf(w, "# %s: shared with app %s, printed above\n", key, first)
				continue
			}
			printed[key] = app.Metadata.Name
			y, err := yaml.Marshal(o.Object)
			if err != nil {
				return harnessErr(fmt.Errorf("scenario %s: %w", app.Metadata.Name, err))
			}
			fmt.Fprintf(w, "---\n%s", y)
		}
		if err := printLoadJob(w, app, set.DeploymentName); err != nil {
			return err
		}
	}
	return nil
}

// printLoadJob prints the Job a scenario whose load is placed in the cluster applies when its load starts,
// rendered by the code the run applies it with; the start barrier is the run's own.
func printLoadJob(w io.Writer, s *scenario.Scenario, deployment string) error {
	c := s.Spec.Load.Cluster
	if s.Spec.Load.Placement != scenario.PlacementCluster || c == nil {
		return nil
	}
	target, note := c.URL, "load.cluster.url"
	if target == "" {
		target, note = runner.DefaultIngressURL, "the cluster's ingress URL, shown here as its default"
	}
	lo, err := runner.HTTPOptions(s, target)
	if err != nil {
		return usageErr("scenario %s: %v", s.Metadata.Name, err)
	}
	spec := runner.LoadJobSpec(s, deployment, "<run id>")
	spec.Options = lo
	now := time.Now()
	spec.StartAt = now.Add(c.StartDelay.Duration)
	job, err := loadjob.Render(spec, now)
	if err != nil {
		return usageErr("scenario %s: load.cluster: %v", s.Metadata.Name, err)
	}
	y, err := yaml.Marshal(job.Object)
	if err != nil {
		return harnessErr(fmt.Errorf("scenario %s: %w", s.Metadata.Name, err))
	}
	fmt.Fprintf(w, "\n# Scenario %s: load Job, applied when the load starts (placement: cluster, %d pods; target: %s;\n"+
		"# --start-at is set at run time to %s after the Job is applied; deleted with its pods when the load ends)\n---\n%s",
		s.Metadata.Name, spec.Parallelism, note, c.StartDelay.Duration, y)
	return nil
}

// planSQSWiring is the queue and store a keda-sqs run wires on the cluster: with the Helm platform
// (k3d, kind, existing), the platform's LocalStack and Valkey by their Services (a cluster that names its
// own SQS side in its ConfigMap, or SCALEBENCH_SQS_QUEUE_URL, changes them at run time); otherwise
// placeholders for what the cluster provides at run time. Credentials are never printed.
func planSQSWiring(s *scenario.Scenario, helm bool) (*workloads.SQSWiring, error) {
	if s.Spec.Autoscaler.Type != scenario.KEDASQS {
		return nil, nil
	}
	w := workloads.SQSWiring{
		QueueURL:  "<queue URL from the cluster's SQS backend>",
		Endpoint:  "<SQS endpoint from the cluster's SQS backend>",
		Region:    "<region>",
		RedisAddr: "<store host from the cluster>:<store port>",
	}
	if helm {
		var err error
		if w, err = sqsbackend.InCluster("", platform.LocalStackClusterEndpoint).Wiring(s.Spec.Load.SQS.Queue, platform.ValkeyClusterAddr); err != nil {
			return nil, err
		}
	}
	w.AccessKeyID, w.SecretAccessKey, w.SessionToken = "<access key id>", "<secret access key>", ""
	return &w, nil
}

// needsSQS reports whether a scenario needs an SQS queue and a store (keda-sqs).
func needsSQS(scs []*scenario.Scenario) bool {
	for _, s := range scs {
		if s.Spec.Autoscaler.Type == scenario.KEDASQS {
			return true
		}
	}
	return false
}
