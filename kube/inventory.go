package kube

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
)

// Inventory is what a cluster holds, by identity: every object of every API
// resource that can be listed, cluster-scoped and namespaced, with its
// metadata.generation (which moves when its spec changes). It is how a run
// on a cluster it did not create shows that it left the cluster as it found
// it: an inventory before, one after, and their Diff.
//
// Resources that change by themselves while nothing touches the cluster
// are left out: events, leases (controllers' heartbeats), and the metrics
// APIs (a reading per pod and node, not objects).
type Inventory struct {
	// Objects maps "resource.group namespace/name" (no namespace for a
	// cluster-scoped object) to its generation.
	Objects map[string]int64
	// Labels are the objects' labels, by the same keys (Diff names what a
	// run labelled).
	Labels map[string]map[string]string
}

// inventorySkipped are the resources an Inventory leaves out, by
// "resource.group" (core resources without the group).
var inventorySkipped = map[string]bool{
	"events": true, "events.events.k8s.io": true, "leases.coordination.k8s.io": true,
}

// inventorySkippedGroups are API groups an Inventory leaves out whole.
var inventorySkippedGroups = map[string]bool{"metrics.k8s.io": true}

// TakeInventory lists every listable resource's objects (metadata only).
// A resource the API server lists as discoverable but refuses to list
// (an aggregated API that is down) is an error naming it.
func TakeInventory(ctx context.Context, cfg *rest.Config) (Inventory, error) {
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{} // listing deprecated resources (v1 Endpoints) is the point
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return Inventory{}, fmt.Errorf("inventory: %w", err)
	}
	mc, err := metadata.NewForConfig(cfg)
	if err != nil {
		return Inventory{}, fmt.Errorf("inventory: %w", err)
	}
	lists, err := dc.ServerPreferredResources()
	if err != nil && !discovery.IsGroupDiscoveryFailedError(err) {
		return Inventory{}, fmt.Errorf("inventory: discovery: %w", err)
	}
	var gdErr *discovery.ErrGroupDiscoveryFailed
	if errors.As(err, &gdErr) {
		for gv := range gdErr.Groups {
			if !inventorySkippedGroups[gv.Group] {
				return Inventory{}, fmt.Errorf("inventory: discovery of %s: %w", gv, err)
			}
		}
	}
	inv := Inventory{Objects: map[string]int64{}, Labels: map[string]map[string]string{}}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil || inventorySkippedGroups[gv.Group] {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !hasVerb(r.Verbs, "list") {
				continue // subresources; create-only reviews
			}
			res := r.Name
			if gv.Group != "" {
				res += "." + gv.Group
			}
			if inventorySkipped[res] {
				continue
			}
			objs, err := mc.Resource(gv.WithResource(r.Name)).List(ctx, metav1.ListOptions{})
			if apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
				continue // gone since discovery (a CRD deleted meanwhile)
			}
			if err != nil {
				return Inventory{}, fmt.Errorf("inventory: list %s: %w", res, err)
			}
			for _, o := range objs.Items {
				k := res + " " + o.Name
				if o.Namespace != "" {
					k = res + " " + o.Namespace + "/" + o.Name
				}
				inv.Objects[k] = o.Generation
				inv.Labels[k] = o.Labels
			}
		}
	}
	return inv, nil
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

// Diff lists how after differs from before, one line per object, sorted:
// "added …", "removed …" and "changed … (generation a → b)". Each object
// is named as in Objects; a Helm release's storage Secret also says which
// release it is; an added object carrying a run id label says which run.
// An empty list means the same objects with the same generations.
func (before Inventory) Diff(after Inventory) []string {
	var out []string
	for k, g := range after.Objects {
		bg, ok := before.Objects[k]
		switch {
		case !ok:
			line := "added " + describeKey(k)
			if id := after.Labels[k][LabelRunID]; id != "" {
				line += " (labelled run " + id + ")"
			}
			out = append(out, line)
		case bg != g:
			out = append(out, fmt.Sprintf("changed %s (generation %d → %d)", describeKey(k), bg, g))
		}
	}
	for k := range before.Objects {
		if _, ok := after.Objects[k]; !ok {
			out = append(out, "removed "+describeKey(k))
		}
	}
	sort.Strings(out)
	return out
}

// describeKey names an inventory key, saying which Helm release a release
// Secret (sh.helm.release.v1.<name>.v<revision>) stores.
func describeKey(k string) string {
	res, obj, _ := strings.Cut(k, " ")
	if res == "secrets" {
		ns, name, _ := strings.Cut(obj, "/")
		if rest, ok := strings.CutPrefix(name, "sh.helm.release.v1."); ok {
			if i := strings.LastIndex(rest, ".v"); i > 0 {
				return fmt.Sprintf("%s (Helm release %s/%s revision %s)", k, ns, rest[:i], rest[i+2:])
			}
		}
	}
	return k
}
