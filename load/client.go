package load

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"sync"
	"syscall"
	"time"
)

// target is the request every worker sends, serialized once.
type target struct {
	addr    string      // host:port to dial
	tls     *tls.Config // nil for http
	wire    []byte      // the request as sent
	headers []string    // canonical names of headers to record
}

func newTarget(o Options) (*target, error) {
	req, err := http.NewRequest(http.MethodGet, o.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("load: request %q: %w", o.URL, err)
	}
	if o.Host != "" {
		req.Host = o.Host
	}
	req.Header.Set("User-Agent", "scalebench-load")
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		return nil, fmt.Errorf("load: request %q: %w", o.URL, err)
	}
	t := &target{addr: req.URL.Host, wire: wire.Bytes()}
	port := "80"
	if req.URL.Scheme == "https" {
		port = "443"
		t.tls = &tls.Config{ServerName: req.URL.Hostname(), NextProtos: []string{"http/1.1"}}
	}
	if req.URL.Port() == "" {
		t.addr = net.JoinHostPort(req.URL.Hostname(), port)
	}
	for _, h := range o.RecordHeaders {
		t.headers = append(t.headers, textproto.CanonicalMIMEHeaderKey(h))
	}
	return t, nil
}

// client is one worker's HTTP/1.1 keep-alive connection. Requests run
// synchronously on the worker's goroutine, fasthttp style: write the
// pre-serialized request (built once by net/http), read the response with
// readResponse, which allocates nothing, and reuse the connection.
//
// It does not use http.Transport: handing every request through the
// transport's per-connection reader and writer goroutines, plus
// http.ReadResponse's allocations, cost about three times bombardier's CPU
// per request on a 2-core machine (see BenchmarkGeneratorVsBombardier).
// What a tuned Transport would give is kept: one keep-alive connection per
// worker, no proxy (load goes straight to the target, whatever the
// environment says), no transparent compression, a retry on a fresh
// connection when a reused one was closed by the server while idle.
type client struct {
	t *target

	mu          sync.Mutex // guards conn changes against interrupt
	conn        net.Conn
	br          *bufio.Reader
	interrupted bool
}

var errInterrupted = errors.New("load: interrupted")

// interrupt makes a blocked or later request return at once; the run is over.
func (c *client) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.interrupted = true
	if c.conn != nil {
		c.conn.SetDeadline(time.Unix(1, 0))
	}
}

func (c *client) setConn(conn net.Conn) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if conn != nil && c.interrupted {
		conn.Close()
		return errInterrupted
	}
	if c.conn != nil {
		c.conn.Close()
	}
	c.conn = conn
	return nil
}

func (c *client) close() { c.setConn(nil) }

func (c *client) dial(ctx context.Context, deadline time.Time) error {
	d := net.Dialer{Deadline: deadline, KeepAlive: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.t.addr)
	if err != nil {
		return err
	}
	if c.t.tls != nil {
		tc := tls.Client(conn, c.t.tls)
		tc.SetDeadline(deadline)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return err
		}
		conn = tc
	}
	if err := c.setConn(conn); err != nil {
		return err
	}
	if c.br == nil {
		c.br = bufio.NewReaderSize(conn, 4<<10)
	} else {
		c.br.Reset(conn)
	}
	return nil
}

// do sends the request once, retrying once on a fresh connection when a
// reused one turns out to have been closed by the server before answering
// (as http.Transport does for idempotent requests).
func (c *client) do(ctx context.Context, deadline time.Time, res *Result) error {
	reused := c.conn != nil
	err := c.roundTrip(ctx, deadline, res)
	if err != nil && reused && staleConn(err) && ctx.Err() == nil && time.Now().Before(deadline) {
		*res = Result{}
		err = c.roundTrip(ctx, deadline, res)
	}
	return err
}

// staleConn reports an error that a keep-alive connection the server has
// already closed produces before any response byte arrives (io.EOF from the
// first read, not io.ErrUnexpectedEOF).
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func (c *client) roundTrip(ctx context.Context, deadline time.Time, res *Result) (err error) {
	if c.conn == nil {
		if err := c.dial(ctx, deadline); err != nil {
			return err
		}
	}
	defer func() {
		if err != nil {
			c.close()
		}
	}()
	if err := c.conn.SetDeadline(deadline); err != nil {
		return err
	}
	if ctx.Err() != nil { // an interrupt may have raced with SetDeadline
		return ctx.Err()
	}
	if _, err := c.conn.Write(c.t.wire); err != nil {
		return err
	}
	keepAlive, err := readResponse(c.br, c.t.headers, res)
	if err != nil {
		return err
	}
	if !keepAlive {
		c.close()
	}
	return nil
}
