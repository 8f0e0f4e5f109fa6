//go:build unix

package components

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

const lockPollInterval = 500 * time.Millisecond

// lockFile takes an exclusive flock on path, polling until ctx ends. waiting is called once if another
// process holds the lock. The lock dies with the process, so a crashed build never leaves it stuck.
func lockFile(ctx context.Context, path string, waiting func()) (unlock func() error, err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	notified := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !notified && waiting != nil {
			waiting()
			notified = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(lockPollInterval):
		}
	}
	return func() error {
		// Closing the descriptor releases the flock.
		return f.Close()
	}, nil
}
