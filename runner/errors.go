package runner

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/scalebench/scalebench/results"
)

// Error is a scenario failure of a known kind; code checks the kind with
// errors.As, never by matching the message.
type Error struct {
	Kind results.ErrorKind
	Err  error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

func errorf(kind results.ErrorKind, format string, args ...any) error {
	return &Error{Kind: kind, Err: fmt.Errorf(format, args...)}
}

// KindOf classifies err: the kind of the outermost *Error in its chain;
// otherwise an API rejection (invalid, forbidden, bad request: what an
// admission webhook denial comes back as) is ErrorRejected, a cancelled
// context ErrorInterrupted, an expired one ErrorTimeout, and anything else
// ErrorHarness. A nil err has no kind ("").
func KindOf(err error) results.ErrorKind {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Kind
	case apierrors.IsInvalid(err) || apierrors.IsForbidden(err) || apierrors.IsBadRequest(err):
		return results.ErrorRejected
	case errors.Is(err, context.Canceled):
		return results.ErrorInterrupted
	case errors.Is(err, context.DeadlineExceeded):
		return results.ErrorTimeout
	}
	return results.ErrorHarness
}
