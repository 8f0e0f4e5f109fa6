package app

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"

	"github.com/scalebench/scalebench/load"
	"github.com/scalebench/scalebench/loadjob"
)

// loadgenCmd is what an in-cluster load pod runs (load.placement: cluster):
// its share of the load from the start barrier, its per-second samples as
// JSON lines on stdout (package loadjob).
func loadgenCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	inv, err := loadjob.Parse(args, os.Getenv, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%s: %v", loadjob.CommandName, err)
	}
	if err := loadjob.Stream(ctx, load.NewHTTP(), inv, stdout); err != nil {
		return harnessErr(err)
	}
	return nil
}
