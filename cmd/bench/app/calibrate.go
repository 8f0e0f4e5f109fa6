package app

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/scalebench/scalebench/clusters/emulated/calibrate"
)

func calibrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("calibrate", stderr)
	again := fs.Bool("again", false, "measure even when this machine's result is cached, and replace it")
	n := fs.Int("n", calibrate.DefaultN, "fib argument timed (2…43); the figure is scaled to fib(43) by the call-count ratio")
	reps := fs.Int("reps", calibrate.DefaultReps, "timed calls per runtime (the median is taken)")
	skipGo := fs.Bool("skip-go-wasip1", false, "leave out the Go wasip1 guest (needs the go command)")
	asJSON := fs.Bool("json", false, "print the whole result as JSON")
	progress := fs.String("progress", "auto", "progress lines on stderr: auto (when a terminal), always, never")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageErr("calibrate: unexpected arguments %q", fs.Args())
	}
	if *n < 2 || *n > calibrate.RequestN {
		return usageErr("calibrate: --n %d: want 2…%d", *n, calibrate.RequestN)
	}
	if *reps < 1 {
		return usageErr("calibrate: --reps %d: want at least 1", *reps)
	}
	r, err := calibrate.Calibrate(ctx, calibrate.Options{
		N: *n, Reps: *reps, SkipGoWasip1: *skipGo, Force: *again,
		Progress: progressWriter(stderr, *progress), Logger: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return harnessErr(err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	src := "measured now"
	if r.FromCache {
		src = "cached (bench calibrate --again measures anew)"
	}
	fmt.Fprintf(stdout, "cpu-load-gen: %.3f CPU-seconds per request (%s)\n", r.CPUSecondsPerRequest, src)
	fmt.Fprintf(stdout, "  fib(%d): native %.4fs, wasm %.4fs, ratio %.2f\n", r.N, r.NativeSeconds, r.WasmSeconds, r.Ratio)
	for _, a := range r.Alternatives {
		if a.Absent != "" {
			fmt.Fprintf(stdout, "  not used, %s: %s\n", a.Name, a.Absent)
			continue
		}
		fmt.Fprintf(stdout, "  not used, %s: %.4fs, ratio %.2f, %.3f CPU-s per request\n", a.Name, a.Seconds, a.Ratio, a.SecondsPerRequest)
	}
	fmt.Fprintf(stdout, "  method: %s\n  runtime: %s %s\n  guest: %s\n  host: %s, %s, %s\n",
		r.Method, r.Runtime, r.RuntimeVersion, r.Guest, r.Host, r.CPUModel, r.MeasuredAt.Format("2006-01-02T15:04:05Z07:00"))
	return nil
}
