//go:build !unix

package proc

import (
	"context"
	"time"
)

// LockFile is a no-op where flock is unavailable: callers must not rely on
// it alone for correctness there.
func LockFile(context.Context, string, time.Duration, func()) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
