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
	req     *http.Request
	headers []string // canonical names of headers to record
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
	t := &target{addr: req.URL.Host, wire: wire.Bytes(), req: req}
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
// pre-serialized request, parse the response with net/http's own parser,
// drain the body. Unlike http.Transport there are no per-connection
// reader/writer goroutines to hand each request through, which costs about
// a third of the CPU per request on a small machine (see
// BenchmarkGeneratorVsBombardier). There is no proxy (load goes straight to
// the target, whatever the environment says) and no transparent compression.
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
	// Peek first, as http.Transport does: a connection the server closed
	// while idle reads io.EOF here, before any byte of a response.
	if _, err := c.br.Peek(1); err != nil {
		return err
	}
	var resp *http.Response
	for {
		resp, err = http.ReadResponse(c.br, c.t.req)
		if err != nil {
			return err
		}
		// Skip informational responses (103 Early Hints and the like).
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	res.Status = resp.StatusCode
	if len(c.t.headers) > 0 {
		res.Headers = pick(resp.Header, c.t.headers)
	}
	res.Bytes, err = io.Copy(io.Discard, resp.Body)
	if err != nil {
		return err
	}
	if resp.Close {
		c.close()
	}
	return nil
}

func pick(h http.Header, names []string) map[string]string {
	var m map[string]string
	for _, k := range names {
		if v := h[k]; len(v) > 0 {
			if m == nil {
				m = make(map[string]string, len(names))
			}
			m[k] = v[0]
		}
	}
	return m
}
