package runner

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/scalebench/scalebench/analysis"
	"github.com/scalebench/scalebench/results"
	"github.com/scalebench/scalebench/scenario"
)

// NewRunID makes a short, sortable run id: date, time and a random suffix.
func NewRunID() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return time.Now().UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b)
}

// Plan is a list of scenarios, each run Repeat times.
type Plan struct {
	Scenarios []*scenario.Scenario
	Repeat    int
}

// RunPlan runs every scenario of the plan on opts.Cluster, in order, and
// returns the report. It stops early only when ctx is done; the report then
// holds what ran.
func RunPlan(ctx context.Context, opts Options, plan Plan) results.Report {
	rep := results.Report{
		SchemaVersion: results.SchemaVersion,
		RunID:         opts.RunID,
		StartedAt:     time.Now().UTC(),
		Environment:   opts.Cluster.Environment(),
		Scenarios:     []results.Scenario{},
	}
	rep.Environment.Host = results.LocalHost()
	repeat := max(plan.Repeat, 1)
	for _, s := range plan.Scenarios {
		for trial := 1; trial <= repeat; trial++ {
			if ctx.Err() != nil {
				break
			}
			if opts.Progress != nil {
				fmt.Fprintf(opts.Progress, "scenario %s (trial %d/%d)\n", s.Metadata.Name, trial, repeat)
			}
			res := Run(ctx, opts, s)
			if repeat > 1 {
				res.Trial = trial
			}
			rep.Scenarios = append(rep.Scenarios, res)
			if opts.Progress != nil {
				verdict := "PASS"
				if !res.Passed {
					verdict = "FAIL"
				}
				fmt.Fprintf(opts.Progress, "scenario %s (trial %d/%d): %s\n", s.Metadata.Name, trial, repeat, verdict)
				if res.Error != "" {
					fmt.Fprintf(opts.Progress, "  error: %s\n", res.Error)
				}
				for _, c := range res.Checks {
					if !c.Passed {
						fmt.Fprintf(opts.Progress, "  failed check %q: %s\n", c.Name, c.Detail)
					}
				}
			}
		}
	}
	if repeat > 1 {
		for _, s := range plan.Scenarios {
			var trials []results.Scenario
			for _, r := range rep.Scenarios {
				if r.Name == s.Metadata.Name {
					trials = append(trials, r)
				}
			}
			if len(trials) > 1 {
				rep.Aggregates = append(rep.Aggregates, analysis.Aggregate(s.Metadata.Name, trials))
			}
		}
	}
	// Taken at the end: components a scenario starts on demand (the SQS
	// emulator and the store) are part of the fingerprint.
	host := rep.Environment.Host
	rep.Environment = opts.Cluster.Environment()
	rep.Environment.Host = host
	rep.FinishedAt = time.Now().UTC()
	return rep
}
