package emulated

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func metav1PatchOptions(force bool) metav1.PatchOptions {
	return metav1.PatchOptions{FieldManager: fieldManager, Force: &force}
}

// poll calls check every interval until it reports done, returns an error,
// or ctx ends. check returns a description of the state it observed; on
// timeout the error carries the last one, not just "deadline exceeded".
func poll(ctx context.Context, interval time.Duration, what string, check func(ctx context.Context) (done bool, state string, err error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	last := "nothing observed yet"
	for {
		done, state, err := check(ctx)
		if err != nil {
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if state != "" {
			last = state
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w; last observed: %s", what, ctx.Err(), last)
		case <-t.C:
		}
	}
}
