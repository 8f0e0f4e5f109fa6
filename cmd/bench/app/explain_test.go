package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestExplainManifests(t *testing.T) {
	var out, errOut bytes.Buffer
	err := explainCmd(context.Background(), []string{"../../../fixtures/manifests/hpa-behavior"}, nil, &out, &errOut)
	if err != nil {
		t.Fatalf("explain: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{
		"target: SpinApp/cpu-load-gen",
		"autoscaler: HorizontalPodAutoscaler/cpu-load-gen (hpa), replicas 1..8",
		"dominated by behavior.scaleUp.policies",
		"1 → 3  (limited by Max of [2 pods per 30s])",
		"derived: scaleUp: 8 replicas Ready within",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestExplainJSON(t *testing.T) {
	var out bytes.Buffer
	if err := explainCmd(context.Background(), []string{"--output", "json", "hpa-cpu"}, nil, &out, &bytes.Buffer{}); err != nil {
		t.Fatal(err)
	}
	var ex explanation
	if err := json.Unmarshal(out.Bytes(), &ex); err != nil {
		t.Fatal(err)
	}
	if ex.Scenario != "hpa-cpu" || ex.Budget.ReachMax == nil || ex.Budget.ReachMax.Replicas != 10 || len(ex.Derived) != 0 {
		t.Errorf("explanation %+v", ex)
	}
}

func TestExplainUnrunnable(t *testing.T) {
	doc := `apiVersion: core.spinkube.dev/v1alpha1
kind: SpinApp
metadata: {name: app}
spec: {image: x, enableAutoscaling: true, replicas: 2, resources: {limits: {cpu: 500m}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {kind: Deployment, name: app}
  maxReplicas: 3
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}}]
`
	err := explainCmd(context.Background(), []string{"-"}, strings.NewReader(doc), &bytes.Buffer{}, &bytes.Buffer{})
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), "SpinApp/app.spec.replicas: Forbidden") {
		t.Errorf("err %v, want exit 2 naming SpinApp/app.spec.replicas", err)
	}
	if err := explainCmd(context.Background(), []string{"--output", "yaml", "hpa-cpu"}, nil, &bytes.Buffer{}, &bytes.Buffer{}); !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Errorf("--output yaml: %v, want a usage error", err)
	}
}
