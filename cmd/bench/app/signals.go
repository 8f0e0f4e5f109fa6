package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// ExitInterrupted is the exit code of a run stopped by SIGINT or SIGTERM
// (128 + SIGINT, as shells report it).
const ExitInterrupted = 130

// InterruptGrace bounds what happens after the first signal: stopping the
// load, tearing down and writing the partial report. Past it the command
// exits anyway, naming `bench cleanup` for whatever is left.
const InterruptGrace = 28 * time.Second

// errInterrupted is the cause of the context a signal cancels.
var errInterrupted = fmt.Errorf("interrupted by a signal: %w", context.Canceled)

// WithSignals returns a context cancelled on the first SIGINT or SIGTERM.
// After it, a second signal, or InterruptGrace passing, calls exit(130) at
// once. stop releases the signals; call it when the command returned.
func WithSignals(parent context.Context, stderr io.Writer, exit func(int)) (ctx context.Context, stop func()) {
	return withSignals(parent, stderr, exit, InterruptGrace, syscall.SIGINT, syscall.SIGTERM)
}

func withSignals(parent context.Context, stderr io.Writer, exit func(int), grace time.Duration, sigs ...os.Signal) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, sigs...)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case s := <-ch:
			fmt.Fprintf(stderr, "bench: %v: stopping the load, tearing down and writing the partial report (again to exit at once)\n", s)
			cancel(errInterrupted)
		case <-done:
			return
		}
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case s := <-ch:
			fmt.Fprintf(stderr, "bench: %v again: exiting now; `bench cleanup` lists what the run left\n", s)
			exit(ExitInterrupted)
		case <-t.C:
			fmt.Fprintf(stderr, "bench: teardown did not end within %s: exiting; `bench cleanup` lists what the run left\n", grace)
			exit(ExitInterrupted)
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			wg.Wait()
			cancel(nil)
		})
	}
}
