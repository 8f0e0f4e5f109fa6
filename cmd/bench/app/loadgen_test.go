package app

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/scalebench/scalebench/kube"
	"github.com/scalebench/scalebench/loadjob"
)

// clusterPlacedScenario is keda-http-fast with its load placed in the
// cluster, 3 pods sending to an in-cluster URL.
func clusterPlacedScenario(t *testing.T, cluster string) string {
	t.Helper()
	sc, err := os.ReadFile(filepath.Join("..", "..", "..", "fixtures", "scenarios", "keda-http-fast.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(sc), "  load:\n", "  load:\n    placement: cluster\n"+cluster, 1)
	if s == string(sc) {
		t.Fatal("keda-http-fast.yaml has no load: line for this test to edit")
	}
	path := filepath.Join(t.TempDir(), "incluster.yaml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestPlanRendersTheLoadJob: bench plan and bench run --dry-run print the
// load Job the run would apply, from the code that applies it.
func TestPlanRendersTheLoadJob(t *testing.T) {
	path := clusterPlacedScenario(t, "    cluster: {parallelism: 3, url: 'http://keda-add-ons-http-interceptor-proxy.keda:8080', image: example.test/bench:v9.9.9}\n")
	for _, args := range [][]string{{"plan", "--scenario", path}, {"run", "--dry-run", "--scenario", path}} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, &out, &errb); code != ExitOK {
			t.Fatalf("%v: exit %d, stderr %s", args, code, errb.String())
		}
		o := out.String()
		i := strings.Index(o, "load Job, applied when the load starts (placement: cluster, 3 pods")
		if i < 0 {
			t.Fatalf("%v: no load Job in:\n%s", args, o)
		}
		objs, err := kube.DecodeYAML([]byte(o[i+strings.Index(o[i:], "\n---\n"):]))
		if err != nil || len(objs) != 1 {
			t.Fatalf("%v: decode the Job: %v (%d objects)", args, err, len(objs))
		}
		job := objs[0]
		if job.GetKind() != "Job" || job.GetName() != "hello-loadgen" || job.GetNamespace() == "" {
			t.Errorf("%v: %s %s/%s", args, job.GetKind(), job.GetNamespace(), job.GetName())
		}
		y, _ := yaml.Marshal(job.Object)
		for _, want := range []string{"parallelism: 3", "completionMode: Indexed", "image: example.test/bench:v9.9.9", "- " + loadjob.CommandName,
			"- http://keda-add-ons-http-interceptor-proxy.keda:8080/", "- --pods", "- --start-at", "- hello.example"} {
			if !strings.Contains(string(y), want) {
				t.Errorf("%v: the Job lacks %q:\n%s", args, want, y)
			}
		}
	}
}

func TestPlanLoadJobDefaultImageAndBadParallelism(t *testing.T) {
	path := clusterPlacedScenario(t, "")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"plan", "--scenario", path}, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	if want := "image: " + loadjob.DefaultImage(); !strings.Contains(out.String(), want) {
		t.Errorf("plan lacks %q:\n%s", want, out.String())
	}
	bad := clusterPlacedScenario(t, "    cluster: {parallelism: 0.5}\n")
	out.Reset()
	errb.Reset()
	if code := Main(context.Background(), []string{"plan", "--scenario", bad}, &out, &errb); code != ExitUsage {
		t.Errorf("exit %d, want %d; stderr %s", code, ExitUsage, errb.String())
	}
	bad = clusterPlacedScenario(t, "    cluster: {parallelism: 200}\n")
	errb.Reset()
	if code := Main(context.Background(), []string{"plan", "--scenario", bad}, &out, &errb); code != ExitUsage || !strings.Contains(errb.String(), "spec.load.cluster.parallelism") || !strings.Contains(errb.String(), "1..100") {
		t.Errorf("exit %d, want %d naming spec.load.cluster.parallelism and 1..100; stderr %s", code, ExitUsage, errb.String())
	}
}

func TestLoadgenUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"loadgen", "--url", "http://x/", "--pods", "2", "--index", "5"},
		{"loadgen", "--url", "http://x/", "--start-at", "tomorrow"},
		{"loadgen", "--url", "http://x/", "--step", "10s"},
	} {
		var out, errb bytes.Buffer
		if code := Main(context.Background(), args, &out, &errb); code != ExitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %s)", args, code, ExitUsage, errb.String())
		}
		if out.Len() != 0 {
			t.Errorf("%v: wrote %q on stdout", args, out.String())
		}
	}
}

// TestPlanRendersEachAppsLoadJob: with --apps K, each app's load Job is
// printed, named after the app's workload and sending its Host.
func TestPlanRendersEachAppsLoadJob(t *testing.T) {
	path := clusterPlacedScenario(t, "    cluster: {parallelism: 2}\n")
	var out, errb bytes.Buffer
	if code := Main(context.Background(), []string{"plan", "--scenario", path, "--apps", "2"}, &out, &errb); code != ExitOK {
		t.Fatalf("exit %d, stderr %s", code, errb.String())
	}
	o := out.String()
	for n, app := range []string{"hello-1", "hello-2"} {
		i := strings.Index(o, fmt.Sprintf("# Scenario keda-http-fast-%d: load Job", n+1))
		if i < 0 {
			t.Fatalf("no load Job for app %s in:\n%s", app, o)
		}
		objs, err := kube.DecodeYAML([]byte(o[i+strings.Index(o[i:], "\n---\n"):]))
		if err != nil || len(objs) == 0 {
			t.Fatalf("app %s: decode the Job: %v (%d objects)", app, err, len(objs))
		}
		y, _ := yaml.Marshal(objs[0].Object)
		if objs[0].GetKind() != "Job" || objs[0].GetName() != app+"-loadgen" || !strings.Contains(string(y), "- "+app+".hello.example") {
			t.Errorf("app %s: %s %s:\n%s", app, objs[0].GetKind(), objs[0].GetName(), y)
		}
	}
}
