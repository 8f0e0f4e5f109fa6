package emulated

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/scalebench/scalebench/clusters/emulated/calibrate"
)

// resolveCPUCost is the provider's CPUCost when set, else this machine's
// calibration of the cpu-load-gen cost (measured once, then cached: package
// calibrate), else — when calibration fails for another reason than ctx —
// AssumedCPUCost with the failure in its Source. how is a few words for the
// progress line.
func resolveCPUCost(ctx context.Context, fixed CPUCost, opts calibrate.Options, progress io.Writer, logger *slog.Logger) (cost CPUCost, how string, err error) {
	if fixed.PerRequest > 0 {
		if fixed.Source == "" {
			fixed.Source = "set by the provider (Provider.CPUCost), not calibrated"
		}
		return fixed, "set by the provider", nil
	}
	if opts.Progress == nil {
		opts.Progress = progress
	}
	if opts.Logger == nil {
		opts.Logger = logger
	}
	r, err := calibrate.Calibrate(ctx, opts)
	if err != nil {
		if ctx.Err() != nil {
			return CPUCost{}, "", fmt.Errorf("calibrate cpu-load-gen: %w", err)
		}
		logger.Warn("cpu-load-gen cost not calibrated; using the assumed figure", "err", err, "cpuPerRequest", AssumedCPUCost.PerRequest)
		cost = AssumedCPUCost
		cost.Source = "not calibrated (" + err.Error() + "); " + cost.Source
		return cost, "not calibrated, assumed", nil
	}
	how = "calibrated now"
	if r.FromCache {
		how = "calibrated on this machine earlier, cached"
	}
	return CPUCost{PerRequest: r.PerRequest(), Source: "calibrated: " + r.Summary()}, how, nil
}
