//go:build !unix

package calibrate

import "context"

// lockFile is a no-op where flock is unavailable: concurrent calibrations
// are not serialised there.
func lockFile(context.Context, string) (func() error, error) { return func() error { return nil }, nil }
