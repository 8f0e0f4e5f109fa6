package kube

import (
	"context"
	"fmt"
	"time"
)

// NothingObserved is the last state a wait reports when its check never
// described one.
const NothingObserved = "nothing observed yet"

// Check looks at the world once. It reports whether the awaited condition
// holds and describes the state it saw (kept for the timeout error); an error
// ends the wait.
type Check func(ctx context.Context) (done bool, state string, err error)

// WaitError is the error of a wait that ended before its condition held: it
// names what was awaited and the last state observed, and wraps the cause
// the context ended with (context.DeadlineExceeded, context.Canceled or the
// cause given to context.WithTimeoutCause / WithCancelCause).
type WaitError struct {
	What  string // what was awaited, e.g. "API server ready"
	Last  string // the last state the check described, or NothingObserved
	Cause error
}

func (e *WaitError) Error() string {
	return fmt.Sprintf("wait for %s: %v; last observed: %s", e.What, e.Cause, e.Last)
}

func (e *WaitError) Unwrap() error { return e.Cause }

// Poll calls check every interval, first at once, until it reports done,
// returns an error, or ctx ends. When ctx ends first, the error is a
// *WaitError carrying the last observed state, not just "deadline exceeded".
// An error from check is returned wrapped with what was awaited, unless ctx
// has ended meanwhile (a check cut short by the deadline): that is reported
// as the timeout it is.
func Poll(ctx context.Context, interval time.Duration, what string, check Check) error {
	if interval <= 0 {
		return fmt.Errorf("wait for %s: poll interval %v: want > 0", what, interval)
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	last := NothingObserved
	for {
		done, state, err := check(ctx)
		if state != "" {
			last = state
		}
		if err != nil {
			if ctx.Err() != nil {
				return &WaitError{What: what, Last: last, Cause: context.Cause(ctx)}
			}
			return fmt.Errorf("wait for %s: %w", what, err)
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return &WaitError{What: what, Last: last, Cause: context.Cause(ctx)}
		case <-t.C:
		}
	}
}
