//go:build !linux

package emulated

import (
	"context"
	"errors"
	"net"
)

func netnsIsolation() (string, error) {
	return "", errors.New("network namespaces are Linux-only")
}

func waitOwnNetns(context.Context, int, string, func() bool) error {
	return errors.New("network namespaces are Linux-only")
}

type nsDialer struct{ pid int }

func newNSDialer(int) (*nsDialer, error) { return nil, errors.New("network namespaces are Linux-only") }

func (*nsDialer) Dial(context.Context, string) (net.Conn, error) {
	return nil, errors.New("network namespaces are Linux-only")
}

func (*nsDialer) Close() {}
