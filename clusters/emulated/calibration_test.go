package emulated

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/scalebench/scalebench/clusters/emulated/calibrate"
)

func TestResolveCPUCost(t *testing.T) {
	ctx := t.Context()
	log := slog.New(slog.DiscardHandler)

	fixed, how, err := resolveCPUCost(ctx, CPUCost{PerRequest: 3 * time.Second}, calibrate.Options{}, nil, log)
	if err != nil || fixed.PerRequest != 3*time.Second || !strings.Contains(fixed.Source, "set by the provider") || how == "" {
		t.Errorf("fixed: %+v, %q, %v", fixed, how, err)
	}

	var progress strings.Builder
	opts := calibrate.Options{CacheDir: t.TempDir(), N: 22, Reps: 1, SkipGoWasip1: true}
	measured, how, err := resolveCPUCost(ctx, CPUCost{}, opts, &progress, log)
	if err != nil {
		t.Fatal(err)
	}
	if measured.PerRequest <= 0 || how != "calibrated now" {
		t.Errorf("calibrated cost: %+v, %q", measured, how)
	}
	for _, want := range []string{"calibrated: ", "LLVM -Oz", "wazero", "fib(22)", "native Go"} {
		if !strings.Contains(measured.Source, want) {
			t.Errorf("source %q lacks %q", measured.Source, want)
		}
	}
	if !strings.Contains(progress.String(), "calibrating cpu-load-gen cost") {
		t.Errorf("no progress line while measuring: %q", progress.String())
	}
	again, how, err := resolveCPUCost(ctx, CPUCost{}, opts, nil, log)
	if err != nil || again.PerRequest != measured.PerRequest || !strings.Contains(how, "cached") {
		t.Errorf("second resolve: %+v, %q, %v; want the cached %v", again, how, err, measured.PerRequest)
	}
	k := knobs(DefaultHPASettings, DefaultPodTiming, DefaultNodeShape, 3, "default", again, allParts)
	if k["dataplane.cpuLoadGen.cpuPerRequest"] != again.PerRequest.String() || k["dataplane.cpuLoadGen.cpuPerRequestSource"] != again.Source {
		t.Errorf("knobs do not carry the calibration: %q, %q", k["dataplane.cpuLoadGen.cpuPerRequest"], k["dataplane.cpuLoadGen.cpuPerRequestSource"])
	}

	// A calibration that fails falls back to the assumed figure and says why.
	failed, _, err := resolveCPUCost(ctx, CPUCost{}, calibrate.Options{CacheDir: t.TempDir(), N: 1}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if failed.PerRequest != AssumedCPUCost.PerRequest || !strings.Contains(failed.Source, "not calibrated (calibrate: options.n = 1") {
		t.Errorf("failed calibration: %+v", failed)
	}

	// A cancelled context fails Create instead.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, _, err := resolveCPUCost(cctx, CPUCost{}, calibrate.Options{CacheDir: t.TempDir(), N: 22, Reps: 1, SkipGoWasip1: true}, nil, log); err == nil {
		t.Error("cancelled context: no error")
	}
}
