package load

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// ErrorKind says why a request failed. The zero value means it did not fail.
// The strings are stable: reports and timelines use them as keys.
type ErrorKind string

const (
	// KindNone: the request got a response with status below 400.
	KindNone ErrorKind = ""
	// KindTimeout: no complete response within Options.Timeout.
	KindTimeout ErrorKind = "timeout"
	// KindRefused: the connection was refused (nothing listening).
	KindRefused ErrorKind = "connection_refused"
	// KindReset: the peer reset or closed the connection mid-request.
	KindReset ErrorKind = "connection_reset"
	// KindHTTP5xx: a response with status 500-599.
	KindHTTP5xx ErrorKind = "http_5xx"
	// KindHTTP4xx: a response with status 400-499 (the KEDA HTTP add-on
	// answers 404 when no HTTPScaledObject matches the Host).
	KindHTTP4xx ErrorKind = "http_4xx"
	// KindOther: any other failure (DNS, TLS, malformed response, ...).
	KindOther ErrorKind = "other"
)

// ErrorKinds lists the failure kinds in a fixed order (KindNone excluded).
var ErrorKinds = []ErrorKind{KindTimeout, KindRefused, KindReset, KindHTTP5xx, KindHTTP4xx, KindOther}

// numKinds sizes the per-kind counter arrays; index 0 is KindNone.
const numKinds = 7

func (k ErrorKind) index() int {
	switch k {
	case KindNone:
		return 0
	case KindTimeout:
		return 1
	case KindRefused:
		return 2
	case KindReset:
		return 3
	case KindHTTP5xx:
		return 4
	case KindHTTP4xx:
		return 5
	default:
		return 6
	}
}

func kindAt(i int) ErrorKind {
	if i == 0 {
		return KindNone
	}
	return ErrorKinds[i-1]
}

// Result is the outcome of one request.
type Result struct {
	// Start is when the request was sent (in an open loop: when it was
	// scheduled to be sent), as a monotonic offset from the start of the
	// attack. Per-second buckets are keyed by it.
	Start time.Duration
	// Wall is the wall-clock time of Start: the attack's wall start plus
	// Start (so it never disagrees with Start).
	Wall time.Time
	// Latency is from Start to reading the last body byte: from the actual
	// send in a closed loop, from the scheduled send time in an open loop.
	Latency time.Duration
	// Status is the HTTP status code, 0 when no response arrived.
	Status int
	// Err classifies a failure; KindNone for a status below 400.
	Err ErrorKind
	// Bytes is the size of the response body read.
	Bytes int64
	// Headers holds the Options.RecordHeaders present in the response, keyed
	// by canonical header name (e.g. "X-Keda-Http-Cold-Start"). Nil when none.
	Headers map[string]string
}

// String is the kind's name, "none" for KindNone.
func (k ErrorKind) String() string {
	if k == KindNone {
		return "none"
	}
	return string(k)
}

// Failed reports whether the request counts as an error.
func (r Result) Failed() bool { return r.Err != KindNone }

// ClassifyStatus maps an HTTP status code to an ErrorKind.
func ClassifyStatus(code int) ErrorKind {
	switch {
	case code >= 500 && code <= 599:
		return KindHTTP5xx
	case code >= 400 && code <= 499:
		return KindHTTP4xx
	case code >= 100 && code <= 399:
		return KindNone
	default:
		return KindOther
	}
}

// ClassifyError maps a transport error to an ErrorKind. A nil error is
// KindNone. Callers that impose their own deadline should check it first: a
// deadline surfaces here as context.DeadlineExceeded or a net timeout, both
// KindTimeout.
func ClassifyError(err error) ErrorKind {
	if err == nil {
		return KindNone
	}
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return KindTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return KindRefused
	case errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNABORTED),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF):
		return KindReset
	default:
		return KindOther
	}
}
