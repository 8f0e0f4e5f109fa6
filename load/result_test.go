package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
)

func TestClassifyStatus(t *testing.T) {
	for code, want := range map[int]ErrorKind{
		200: KindNone, 204: KindNone, 301: KindNone, 101: KindNone,
		400: KindHTTP4xx, 404: KindHTTP4xx, 429: KindHTTP4xx,
		500: KindHTTP5xx, 502: KindHTTP5xx, 503: KindHTTP5xx,
		0: KindOther, 99: KindOther, 600: KindOther,
	} {
		if got := ClassifyStatus(code); got != want {
			t.Errorf("ClassifyStatus(%d) = %q, want %q", code, got, want)
		}
	}
}

func TestClassifyError(t *testing.T) {
	opErr := func(op string, err error) error {
		return &net.OpError{Op: op, Net: "tcp", Err: os.NewSyscallError(op, err)}
	}
	for _, tc := range []struct {
		err  error
		want ErrorKind
	}{
		{nil, KindNone},
		{context.DeadlineExceeded, KindTimeout},
		{fmt.Errorf("get: %w", context.DeadlineExceeded), KindTimeout},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, KindTimeout},
		{&net.DNSError{Err: "timeout", IsTimeout: true}, KindTimeout},
		{opErr("connect", syscall.ECONNREFUSED), KindRefused},
		{opErr("read", syscall.ECONNRESET), KindReset},
		{opErr("write", syscall.EPIPE), KindReset},
		{io.EOF, KindReset},
		{fmt.Errorf("malformed: %w", io.ErrUnexpectedEOF), KindReset},
		{&net.DNSError{Err: "no such host", IsNotFound: true}, KindOther},
		{errors.New("malformed HTTP response"), KindOther},
	} {
		if got := ClassifyError(tc.err); got != tc.want {
			t.Errorf("ClassifyError(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

func TestErrorKindIndex(t *testing.T) {
	seen := map[int]bool{}
	for i := range numKinds {
		k := kindAt(i)
		if k.index() != i || seen[i] {
			t.Errorf("kind %q: index %d, want %d", k, k.index(), i)
		}
		seen[i] = true
	}
	if len(ErrorKinds) != numKinds-1 {
		t.Errorf("%d kinds listed, numKinds %d", len(ErrorKinds), numKinds)
	}
	if ErrorKind("bogus").index() != KindOther.index() {
		t.Error("unknown kinds count as other")
	}
	if (Result{Err: KindNone}).Failed() || !(Result{Err: KindHTTP4xx}).Failed() {
		t.Error("Failed")
	}
}
