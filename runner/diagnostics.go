package runner

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/timeline"
)

// Files each scenario gets in the diagnostics folder (scenarios/<n>-<name>/),
// beside what the cluster collects (its components' logs, its state): the
// objects are deleted by then, so their history comes from the timeline.
const (
	// DiagnosticsAutoscalerHistory: every HPA status and HPA, ScaledObject
	// and HTTPScaledObject condition the run saw, one JSON event a line.
	DiagnosticsAutoscalerHistory = "autoscaler-history.jsonl"
	// DiagnosticsEvents: the Kubernetes Events and the harness markers
	// (load start/stop, faults, API warnings), one JSON event a line.
	DiagnosticsEvents = "events.jsonl"
	// DiagnosticsManifests: the objects the run applied, multi-document
	// YAML, with every Secret's values redacted.
	DiagnosticsManifests = "manifests.yaml"
)

// redacted replaces a Secret's values in the diagnostics.
const redacted = "<redacted>"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// writeScenarioDiagnostics writes each scenario's autoscaler history,
// events and applied manifests under dir/scenarios. manifests[i] belongs
// to scs[i] (nil when it applied nothing).
func writeScenarioDiagnostics(dir string, scs []results.Scenario, manifests [][]*unstructured.Unstructured) error {
	var errs []error
	for i, sc := range scs {
		name := fmt.Sprintf("%02d-%s", i+1, unsafeName.ReplaceAllString(sc.Name, "_"))
		if sc.Trial > 0 {
			name += fmt.Sprintf("-trial-%d", sc.Trial)
		}
		sdir := filepath.Join(dir, "scenarios", name)
		if err := os.MkdirAll(sdir, 0o755); err != nil {
			return err
		}
		var history, events bytes.Buffer
		for _, e := range sc.Timeline {
			var w *bytes.Buffer
			switch e.Kind {
			case timeline.KindAutoscaler, timeline.KindCondition:
				w = &history
			case timeline.KindKubeEvent, timeline.KindMarker:
				w = &events
			default:
				continue
			}
			line, err := json.Marshal(e)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			w.Write(append(line, '\n'))
		}
		errs = append(errs,
			os.WriteFile(filepath.Join(sdir, DiagnosticsAutoscalerHistory), history.Bytes(), 0o644),
			os.WriteFile(filepath.Join(sdir, DiagnosticsEvents), events.Bytes(), 0o644))
		var objs []*unstructured.Unstructured
		if i < len(manifests) {
			objs = manifests[i]
		}
		data, err := manifestsYAML(objs)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		errs = append(errs, os.WriteFile(filepath.Join(sdir, DiagnosticsManifests), data, 0o644))
	}
	return errors.Join(errs...)
}

// manifestsYAML is objs as multi-document YAML, Secrets' values redacted.
func manifestsYAML(objs []*unstructured.Unstructured) ([]byte, error) {
	var b bytes.Buffer
	for _, o := range objs {
		o = o.DeepCopy()
		if o.GetKind() == "Secret" {
			for _, field := range []string{"data", "stringData"} {
				m, ok, _ := unstructured.NestedMap(o.Object, field)
				if !ok {
					continue
				}
				for k := range m {
					m[k] = redacted
				}
				_ = unstructured.SetNestedMap(o.Object, m, field)
			}
		}
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, fmt.Errorf("manifest %s %s: %w", o.GetKind(), o.GetName(), err)
		}
		b.WriteString("---\n")
		b.Write(data)
	}
	return b.Bytes(), nil
}
