package kube

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPollReturnsWhenDone(t *testing.T) {
	calls := 0
	err := Poll(context.Background(), time.Millisecond, "three calls", func(context.Context) (bool, string, error) {
		calls++
		return calls == 3, fmt.Sprintf("call %d", calls), nil
	})
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if calls != 3 {
		t.Fatalf("calls = %d, want 3", calls)
	}
}

func TestPollTimeoutKeepsLastStateAndCause(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	calls := 0
	err := Poll(ctx, 5*time.Millisecond, "replicas 3", func(context.Context) (bool, string, error) {
		calls++
		if calls > 1 {
			return false, "", nil // an empty state keeps the previous one
		}
		return false, "replicas 1", nil
	})
	var we *WaitError
	if !errors.As(err, &we) {
		t.Fatalf("err = %v (%T), want *WaitError", err, err)
	}
	if we.What != "replicas 3" || we.Last != "replicas 1" {
		t.Fatalf("WaitError = %+v, want What %q, Last %q", we, "replicas 3", "replicas 1")
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want it to wrap context.DeadlineExceeded", err)
	}
	want := "wait for replicas 3: context deadline exceeded; last observed: replicas 1"
	if err.Error() != want {
		t.Fatalf("err = %q, want %q", err, want)
	}
}

func TestPollTimeoutWrapsCustomCause(t *testing.T) {
	cause := errors.New("suite budget spent")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(cause)
	err := Poll(ctx, time.Millisecond, "nodes Ready", func(context.Context) (bool, string, error) {
		return false, "", nil
	})
	if !errors.Is(err, cause) {
		t.Fatalf("err = %v, want it to wrap the context's cause", err)
	}
	if !strings.Contains(err.Error(), "last observed: "+NothingObserved) {
		t.Fatalf("err = %q, want the placeholder last state", err)
	}
}

func TestPollCheckError(t *testing.T) {
	boom := errors.New("boom")
	err := Poll(context.Background(), time.Millisecond, "CRDs established", func(context.Context) (bool, string, error) {
		return false, "2 of 3", boom
	})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "wait for CRDs established") {
		t.Fatalf("err = %v, want boom wrapped with what was awaited", err)
	}
	var we *WaitError
	if errors.As(err, &we) {
		t.Fatalf("a check error is not a timeout: %v", err)
	}
}

func TestPollCheckErrorAfterDeadlineIsTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	err := Poll(ctx, time.Millisecond, "API server ready", func(ctx context.Context) (bool, string, error) {
		<-ctx.Done()
		return false, "connection refused", fmt.Errorf("get /readyz: %w", ctx.Err())
	})
	var we *WaitError
	if !errors.As(err, &we) || we.Last != "connection refused" {
		t.Fatalf("err = %v, want a *WaitError with the last state", err)
	}
}

func TestPollRejectsZeroInterval(t *testing.T) {
	err := Poll(context.Background(), 0, "anything", func(context.Context) (bool, string, error) { return true, "", nil })
	if err == nil || !strings.Contains(err.Error(), "poll interval") {
		t.Fatalf("err = %v, want an interval error", err)
	}
}
