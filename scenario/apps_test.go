package scenario

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func builtinNamed(t *testing.T, name string) *Scenario {
	t.Helper()
	s, err := Resolve(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestForAppNamesEveryObjectPerApp(t *testing.T) {
	s := builtinNamed(t, "keda-http-fast")
	s.SetApps(25)
	if errs := Validate(s); len(errs) > 0 {
		t.Fatal(errs)
	}
	a, err := ForApp(s, 7)
	if err != nil {
		t.Fatal(err)
	}
	if a.Metadata.Name != "keda-http-fast-07" || a.Spec.Workload.Name != "hello-07" || a.App != "-07" || a.Spec.Apps != nil {
		t.Errorf("app 7: name %q, workload %q, suffix %q, apps %+v", a.Metadata.Name, a.Spec.Workload.Name, a.App, a.Spec.Apps)
	}
	if a.Spec.Autoscaler.Hosts[0] != "hello-07.hello.example" || a.Spec.Load.HTTP.Host != "hello-07.hello.example" {
		t.Errorf("hosts %v, load host %q", a.Spec.Autoscaler.Hosts, a.Spec.Load.HTTP.Host)
	}
	if a.ScaledObjectName() != "hello-07" || a.HPAName() != "keda-hpa-hello-07" {
		t.Errorf("ScaledObject %q, HPA %q", a.ScaledObjectName(), a.HPAName())
	}
	// Replicated: every app gets the whole load; s is not modified.
	if a.Spec.Load.HTTP.Connections != 40 || s.Spec.Workload.Name != "hello" || s.Spec.Autoscaler.Hosts[0] != "hello.example" {
		t.Errorf("app connections %d; scenario workload %q hosts %v", a.Spec.Load.HTTP.Connections, s.Spec.Workload.Name, s.Spec.Autoscaler.Hosts)
	}

	cpu := builtinNamed(t, "keda-cpu-fast")
	cpu.SetApps(3)
	c, err := ForApp(cpu, 2)
	if err != nil {
		t.Fatal(err)
	}
	// keda-cpu's ScaledObject has a fixed name: it is suffixed too, and
	// the app is reached by a Host of its own.
	if c.ScaledObjectName() != "cpu-scaling-2" || c.HPAName() != "keda-hpa-cpu-scaling-2" || c.Spec.Load.HTTP.Host != "cpu-load-gen-2."+AppsHostDomain {
		t.Errorf("ScaledObject %q, HPA %q, host %q", c.ScaledObjectName(), c.HPAName(), c.Spec.Load.HTTP.Host)
	}
}

func TestForAppSplitsTheLoad(t *testing.T) {
	s := builtinNamed(t, "keda-cpu-fast") // 10 connections
	s.Spec.Apps = &Apps{Count: 4, Load: AppsLoadSplit}
	if errs := Validate(s); len(errs) > 0 {
		t.Fatal(errs)
	}
	var total int
	var got []int
	for i := 1; i <= 4; i++ {
		a, err := ForApp(s, i)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, a.Spec.Load.HTTP.Connections)
		total += a.Spec.Load.HTTP.Connections
	}
	if total != 10 || got[0] != 3 || got[1] != 3 || got[2] != 2 || got[3] != 2 {
		t.Errorf("10 connections split over 4 apps: %v", got)
	}
	if _, err := ForApp(s, 5); err == nil {
		t.Error("app 5 of 4 made")
	}
	// A request-rate profile's rates are shared too; s keeps its own.
	s.Spec.Load.HTTP.Profile = []RateStep{{Rate: &Rate{PerSecond: 8}, For: D(time.Minute)}, {RampTo: &Rate{PerSecond: 40}, For: D(time.Minute)}}
	a, err := ForApp(s, 1)
	if err != nil {
		t.Fatal(err)
	}
	if p := a.Spec.Load.HTTP.Profile; p[0].Rate.PerSecond != 2 || p[1].RampTo.PerSecond != 10 || s.Spec.Load.HTTP.Profile[0].Rate.PerSecond != 8 {
		t.Errorf("profile of app 1 of 4: %v, %v (scenario's %v)", p[0].Rate, p[1].RampTo, s.Spec.Load.HTTP.Profile[0].Rate)
	}
}

func TestAppsValidation(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Scenario)
		want string
	}{
		{"zero", func(s *Scenario) { s.Spec.Apps = &Apps{Count: -1, Load: AppsLoadReplicate} }, "spec.apps.count: Invalid value: -1: 1..1000 apps"},
		{"load", func(s *Scenario) { s.Spec.Apps = &Apps{Count: 2, Load: "share"} }, `spec.apps.load: Unsupported value: "share": supported values: "replicate", "split"`},
		{"split too thin", func(s *Scenario) { s.Spec.Apps = &Apps{Count: 11, Load: AppsLoadSplit} }, "spec.load.http.connections: Invalid value: 10: split between 11 apps needs at least one connection per app"},
		{"wildcard host", func(s *Scenario) {
			s.Spec.Autoscaler.Type = KEDAHTTP
			s.Spec.Autoscaler.Hosts = []string{"*.example"}
			s.SetApps(2)
		}, "spec.autoscaler.hosts[0]: Invalid value: \"*.example\": with more than one app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := builtinNamed(t, "keda-cpu-fast")
			tc.edit(s)
			errs := Validate(s)
			err := (&ValidationError{Source: "t", Errs: errs}).Error()
			if len(errs) == 0 || !strings.Contains(err, tc.want) {
				t.Errorf("errors %v\nwant one containing %s", errs, tc.want)
			}
		})
	}
	// From a file: the field path and the exit-2 kind of error.
	_, err := Parse([]byte(strings.Replace(cpuScenario, "spec:\n", "spec:\n  apps: {count: 0}\n", 1)), "t")
	var ve *ValidationError
	if !errors.As(err, &ve) || !strings.Contains(err.Error(), "spec.apps.count: Invalid value: 0") {
		t.Errorf("apps.count 0 in a file: %v", err)
	}
}

// TestAppCopies: no spec.apps is the scenario itself; spec.apps (even one)
// is its apps' suffixed copies, in order.
func TestAppCopies(t *testing.T) {
	s := builtinNamed(t, "keda-http-fast")
	one, err := AppCopies(s)
	if err != nil || len(one) != 1 || one[0] != s {
		t.Fatalf("no spec.apps: %d copies (%v), want the scenario itself", len(one), err)
	}
	for _, k := range []int{1, 3} {
		s.SetApps(k)
		apps, err := AppCopies(s)
		if err != nil || len(apps) != k {
			t.Fatalf("%d apps: %d copies (%v)", k, len(apps), err)
		}
		for i, a := range apps {
			if want := "hello-" + string(rune('1'+i)); a.Spec.Workload.Name != want || a.Spec.Apps != nil {
				t.Errorf("%d apps: app %d workload %q (apps %+v), want %q", k, i+1, a.Spec.Workload.Name, a.Spec.Apps, want)
			}
		}
	}
}
