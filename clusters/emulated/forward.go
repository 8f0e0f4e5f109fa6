package emulated

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"
)

// tcpForwarder accepts TCP connections on a loopback listener and pipes each
// to a connection from dial (the SQS emulator inside its network namespace).
type tcpForwarder struct {
	ln     net.Listener
	dial   func(ctx context.Context) (net.Conn, error)
	logger *slog.Logger

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// newTCPForwarder serves ln until Close.
func newTCPForwarder(ln net.Listener, dial func(ctx context.Context) (net.Conn, error), logger *slog.Logger) *tcpForwarder {
	f := &tcpForwarder{ln: ln, dial: dial, logger: logger, conns: map[net.Conn]struct{}{}}
	f.wg.Add(1)
	go f.serve()
	return f
}

// Addr is the listener's address.
func (f *tcpForwarder) Addr() string { return f.ln.Addr().String() }

func (f *tcpForwarder) serve() {
	defer f.wg.Done()
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.logger.Warn("forwarder stopped accepting", "addr", f.Addr(), "err", err)
			}
			return
		}
		if !f.track(c) {
			c.Close()
			return
		}
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			f.pipe(c)
		}()
	}
}

func (f *tcpForwarder) track(cs ...net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return false
	}
	for _, c := range cs {
		f.conns[c] = struct{}{}
	}
	return true
}

func (f *tcpForwarder) untrack(cs ...net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range cs {
		delete(f.conns, c)
	}
}

func (f *tcpForwarder) pipe(down net.Conn) {
	defer f.untrack(down)
	defer down.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	up, err := f.dial(ctx)
	cancel()
	if err != nil {
		f.logger.Warn("forwarder cannot reach its target", "addr", f.Addr(), "err", err)
		return
	}
	defer up.Close()
	if !f.track(up) {
		return
	}
	defer f.untrack(up)
	done := make(chan struct{}, 2)
	copyHalf := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Pass the end of one direction on; the other may still flow.
		if cw, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = cw.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go copyHalf(up, down)
	go copyHalf(down, up)
	<-done
	<-done
}

// Close stops accepting, cuts every open connection and waits for the pipes.
func (f *tcpForwarder) Close() error {
	f.mu.Lock()
	f.closed = true
	for c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	err := f.ln.Close()
	f.wg.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}
