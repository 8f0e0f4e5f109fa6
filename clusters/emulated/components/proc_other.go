//go:build !unix

package components

import (
	"context"
)

// lockFile is a no-op outside unix: concurrent builds of the same version in two processes are then
// only protected by the atomic rename of the finished build.
func lockFile(ctx context.Context, path string, waiting func()) (unlock func() error, err error) {
	return func() error { return nil }, nil
}
