package load

import (
	"context"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// collect gathers streamed results; the generator calls it from one goroutine.
type collect struct {
	acc     Accumulator
	results []Result
}

func (c *collect) add(r Result) {
	c.acc.Add(r)
	c.results = append(c.results, r)
}

func checkSecondsSum(t *testing.T, secs []Second, s Summary) {
	t.Helper()
	var req, succ, errs int
	for _, sec := range secs {
		req += sec.Requests
		succ += sec.Successes
		errs += sec.Errors
	}
	if int64(req) != s.Requests || int64(succ) != s.Successes || int64(errs) != s.Errors {
		t.Errorf("seconds sum to %d requests, %d successes, %d errors; summary %d, %d, %d",
			req, succ, errs, s.Requests, s.Successes, s.Errors)
	}
}

func TestHTTPLoopback(t *testing.T) {
	var served, conns atomic.Int64
	var badHost atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		if r.Host != "cpu.example" {
			badHost.Store(r.Host)
		}
		w.Header().Set("X-KEDA-HTTP-Cold-Start", "false")
		io.WriteString(w, "hello")
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)

	var c collect
	opts := Options{URL: srv.URL + "/path?q=1", Host: "cpu.example", Connections: 4,
		Duration: 1200 * time.Millisecond, Timeout: 2 * time.Second,
		RecordHeaders: []string{"x-keda-http-cold-start"}}
	before := time.Now()
	s, err := NewHTTP(WithLogger(discard())).Run(context.Background(), opts, c.add)
	if err != nil {
		t.Fatal(err)
	}
	srv.Close() // let the handler counts settle
	t.Logf("summary %+v", s)
	if s.Requests == 0 || s.Requests != served.Load() || s.Requests != int64(len(c.results)) {
		t.Errorf("summary %d requests, server saw %d, callback got %d", s.Requests, served.Load(), len(c.results))
	}
	if h := badHost.Load(); h != nil {
		t.Errorf("server saw Host %q", h)
	}
	if s.Errors != 0 || s.Successes != s.Requests || s.Dropped != 0 || s.Missed != 0 {
		t.Errorf("errors %v successes %d dropped %d missed %d", s.ErrorsByKind, s.Successes, s.Dropped, s.Missed)
	}
	if s.Bytes != 5*s.Requests {
		t.Errorf("bytes %d for %d requests of 5 bytes", s.Bytes, s.Requests)
	}
	if n := conns.Load(); n > 4 {
		t.Errorf("%d connections for 4 workers: keep-alive not used", n)
	}
	// The run lasts its duration plus the requests in flight at its end,
	// each bounded by the timeout; the second beyond that is for a loaded
	// machine, whose worker may go out late (below) and whose timers fire
	// late.
	if s.Started.Before(before) || s.Duration < opts.Duration || s.Duration > opts.Duration+opts.Timeout+time.Second {
		t.Errorf("started %v (called at %v), duration %v", s.Started, before, s.Duration)
	}
	late := 0
	for _, r := range c.results {
		if r.Status != 200 || r.Err != KindNone || r.Headers["X-Keda-Http-Cold-Start"] != "false" ||
			r.Start < 0 || !r.Wall.Equal(s.Started.Add(r.Start)) || r.Latency <= 0 {
			t.Fatalf("result %+v", r)
		}
		if r.Start >= opts.Duration {
			late++
		}
	}
	// A worker reads the clock, finds the attack not over, and takes a
	// request's Start when it sends it: descheduled in between (a loaded
	// machine), its last request starts after the end. Only that one: it
	// reads the clock again before the next.
	if late > opts.Connections {
		t.Errorf("%d requests started after the %v attack, want at most one per worker (%d)", late, opts.Duration, opts.Connections)
	}
	secs := c.acc.Seconds()
	var last time.Duration
	for _, r := range c.results {
		last = max(last, r.Start)
	}
	if len(secs) != int(last/time.Second)+1 {
		t.Errorf("%d seconds, the last request started at %v", len(secs), last)
	}
	checkSecondsSum(t, secs, s)
	// The generator's own buckets are the callback's.
	if !reflect.DeepEqual(s.Seconds, secs) {
		t.Errorf("summary seconds\n%+v\ncallback seconds\n%+v", s.Seconds, secs)
	}
	// The callback saw everything, so its summary matches the generator's.
	cs := c.acc.Summary()
	if cs.Requests != s.Requests || cs.P50 != s.P50 || cs.P99 != s.P99 || cs.Max != s.Max || cs.Duration != s.Duration {
		t.Errorf("callback summary %+v differs from %+v", cs, s)
	}
}

func TestHTTPTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	var c collect
	s, err := NewHTTP().Run(context.Background(),
		Options{URL: srv.URL, Connections: 2, Duration: time.Second, Timeout: 150 * time.Millisecond}, c.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("summary %+v", s)
	if s.Requests < 4 || s.Errors != s.Requests || s.ErrorsByKind[KindTimeout] != s.Requests {
		t.Errorf("want only timeouts: %d requests, errors %v", s.Requests, s.ErrorsByKind)
	}
	for _, r := range c.results {
		// Allow for a loaded machine: timers can fire late, never early.
		if r.Err != KindTimeout || r.Status != 0 || r.Latency < 150*time.Millisecond || r.Latency > 1500*time.Millisecond {
			t.Errorf("result %+v", r)
		}
	}
	checkSecondsSum(t, c.acc.Seconds(), s)
	if s.Duration > 2500*time.Millisecond {
		t.Errorf("duration %v: requests in flight at the end ran past their timeout", s.Duration)
	}
}

func TestHTTPErrorKinds(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/500":
			w.WriteHeader(500)
		case "/404":
			http.NotFound(w, r)
		case "/reset":
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.(*net.TCPConn).SetLinger(0) // RST, not FIN
				conn.Close()
			}
		}
	}))
	t.Cleanup(srv.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String() + "/"
	l.Close()

	for url, want := range map[string]ErrorKind{
		srv.URL + "/500":   KindHTTP5xx,
		srv.URL + "/404":   KindHTTP4xx,
		srv.URL + "/reset": KindReset,
		refused:            KindRefused,
	} {
		t.Run(want.String(), func(t *testing.T) {
			t.Parallel()
			s, err := NewHTTP().Run(context.Background(),
				Options{URL: url, Connections: 2, Duration: 200 * time.Millisecond}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Requests == 0 || s.ErrorsByKind[want] != s.Requests {
				t.Errorf("%s: %d requests, errors %v; want all %s", url, s.Requests, s.ErrorsByKind, want)
			}
		})
	}
}

func TestHTTPRate(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			time.Sleep(50 * time.Millisecond)
		}
	}))
	t.Cleanup(srv.Close)
	t.Run("kept", func(t *testing.T) {
		t.Parallel()
		var c collect
		s, err := NewHTTP().Run(context.Background(),
			Options{URL: srv.URL, Connections: 4, Duration: time.Second, Rate: 40}, c.add)
		if err != nil {
			t.Fatal(err)
		}
		if s.Requests+s.Missed != 40 || s.Requests < 30 {
			t.Errorf("%d requests (%d missed) at 40/s for 1s", s.Requests, s.Missed)
		}
		checkSecondsSum(t, c.acc.Seconds(), s)
	})
	t.Run("too slow", func(t *testing.T) {
		t.Parallel()
		// One worker, 50ms a request: at most 20 of the 100 requests asked
		// for; the backlog is dropped, not replayed.
		s, err := NewHTTP().Run(context.Background(),
			Options{URL: srv.URL + "/slow", Connections: 1, Duration: time.Second, Rate: 100}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d requests, %d missed", s.Requests, s.Missed)
		if s.Requests > 21 || s.Missed < 50 || s.Requests+s.Missed > 100 {
			t.Errorf("%d requests, %d missed at 100/s with one 50ms worker", s.Requests, s.Missed)
		}
		var missed int
		for _, sec := range s.Seconds {
			missed += sec.Missed
		}
		if int64(missed) != s.Missed {
			t.Errorf("seconds count %d missed, summary %d", missed, s.Missed)
		}
		checkSecondsSum(t, s.Seconds, s)
	})
}

// TestHTTPSuccessPercentiles: failures that are slow do not hide how fast
// the successful requests were, and vice versa.
func TestHTTPSuccessPercentiles(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1)%2 == 0 {
			time.Sleep(60 * time.Millisecond)
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	var c collect
	s, err := NewHTTP().Run(context.Background(), Options{URL: srv.URL, Connections: 1, Duration: 600 * time.Millisecond}, c.add)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d requests, %d successes, p50 %v p99 %v, success p50 %v p99 %v", s.Requests, s.Successes, s.P50, s.P99, s.SuccessP50, s.SuccessP99)
	if s.Successes == 0 || s.Errors == 0 || s.ErrorsByKind[KindHTTP5xx] != s.Errors {
		t.Fatalf("%d successes, errors %v; want both", s.Successes, s.ErrorsByKind)
	}
	// The success percentiles are those of the successes' own latencies,
	// compared exactly: a bound such as "under 30 ms" on an instant
	// handler's latency is the machine's (a loaded one delays a request by
	// tens of milliseconds), not the generator's. Timers never fire early,
	// so the failures' 60 ms bound the overall p99 from below.
	var ok []time.Duration
	okBySecond := map[int][]time.Duration{}
	for _, r := range c.results {
		if !r.Failed() {
			ok = append(ok, r.Latency)
			okBySecond[int(r.Start/time.Second)] = append(okBySecond[int(r.Start/time.Second)], r.Latency)
		}
	}
	slices.Sort(ok)
	if s.P99 < 60*time.Millisecond || s.SuccessP50 != percentile(ok, .5) || s.SuccessP99 != percentile(ok, .99) || s.SuccessP50 > s.SuccessP99 {
		t.Errorf("p99 %v (want >= 60ms, the failures'), success p50 %v p99 %v (want %v %v, the successes')",
			s.P99, s.SuccessP50, s.SuccessP99, percentile(ok, .5), percentile(ok, .99))
	}
	for _, sec := range s.Seconds {
		v := okBySecond[sec.Index]
		slices.Sort(v)
		if sec.SuccessP99 != percentile(v, .99) {
			t.Errorf("second %d: success p99 %v, want %v", sec.Index, sec.SuccessP99, percentile(v, .99))
		}
	}
}

func TestHTTPSteps(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)
	var c collect
	s, err := NewHTTP().Run(context.Background(), Options{URL: srv.URL, Connections: 3, Steps: []Step{
		{Duration: 400 * time.Millisecond, Connections: 1, Rate: 25}, // 10 requests
		{Duration: 400 * time.Millisecond},                           // idle
		{Duration: 400 * time.Millisecond, Connections: 2},           // closed loop
	}}, c.add)
	if err != nil {
		t.Fatal(err)
	}
	var n [3]int
	for _, r := range c.results {
		n[min(int(r.Start/(400*time.Millisecond)), 2)]++
	}
	t.Logf("per step %v, missed %d, %d requests", n, s.Missed, s.Requests)
	// A result's Start is taken when the request goes out, after the worker
	// claimed its hit: a worker descheduled in between (a loaded machine)
	// sends step 1's last hit after 400 ms, in the idle step. Step 1 has one
	// worker, which claims no hit after 400 ms, so at most one request
	// starts in the idle step, and step 1's 10 hits are the requests of the
	// first 800 ms plus the missed ones: an idle step that sent would add to
	// them. A worker stalled longer than 40 ms skips the hits it passed
	// over (missed): that is the machine's, so at least half, not 8 of 10,
	// must go out.
	if paced := n[0] + n[1]; paced+int(s.Missed) != 10 || paced < 5 || n[1] > 1 || n[2] < 20 {
		t.Errorf("requests per step %v (missed %d); want 10 in the first step, sent or missed (at most 1 of them late, in the idle step), then many", n, s.Missed)
	}
	checkSecondsSum(t, c.acc.Seconds(), s)
}

func TestHTTPCancel(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	s, err := NewHTTP().Run(ctx, Options{URL: srv.URL, Connections: 3, Duration: time.Minute, Timeout: 10 * time.Second}, nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v, want the context's", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run returned %v after cancellation", took)
	}
	if s.Requests != 0 {
		t.Errorf("%d requests reported; the interrupted ones must not be", s.Requests)
	}
}

// TestHTTPSlowConsumer: a callback that blocks must not slow the load; its
// missing results are counted as dropped, and the summary stays complete.
func TestHTTPSlowConsumer(t *testing.T) {
	old := resultBuffer
	resultBuffer = 2
	defer func() { resultBuffer = old }()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(srv.Close)

	release := make(chan struct{})
	var delivered atomic.Int64
	var once sync.Once
	out := func(Result) {
		once.Do(func() { <-release })
		delivered.Add(1)
	}
	ctx := context.Background()
	done := make(chan struct{})
	var s Summary
	var err error
	go func() {
		defer close(done)
		s, err = NewHTTP().Run(ctx, Options{URL: srv.URL, Connections: 2, Duration: 600 * time.Millisecond}, out)
	}()
	time.Sleep(700 * time.Millisecond) // the attack is over while the consumer is stuck
	close(release)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("requests %d delivered %d dropped %d", s.Requests, delivered.Load(), s.Dropped)
	if s.Dropped == 0 || delivered.Load()+s.Dropped != s.Requests || s.Requests < 100 {
		t.Errorf("requests %d, delivered %d, dropped %d", s.Requests, delivered.Load(), s.Dropped)
	}
}

func TestHTTPConnectionHandling(t *testing.T) {
	t.Parallel()
	// Connection: close on every response, and chunked bodies.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/close" {
			w.Header().Set("Connection", "close")
		}
		for range 3 {
			io.WriteString(w, "abcd")
			w.(http.Flusher).Flush()
		}
	}))
	t.Cleanup(srv.Close)
	// A server that closes idle keep-alive connections quickly: paced
	// requests find their connection closed and must retry, not fail.
	idle := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	idle.Config.IdleTimeout = 20 * time.Millisecond
	idle.Start()
	t.Cleanup(idle.Close)

	for name, opts := range map[string]Options{
		"close":   {URL: srv.URL + "/close", Connections: 2, Duration: 300 * time.Millisecond},
		"chunked": {URL: srv.URL + "/chunked", Connections: 2, Duration: 300 * time.Millisecond},
		"idle":    {URL: idle.URL, Connections: 1, Duration: time.Second, Rate: 8},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := NewHTTP().Run(context.Background(), opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Requests == 0 || s.Errors != 0 {
				t.Errorf("%d requests, errors %v", s.Requests, s.ErrorsByKind)
			}
			if name != "idle" && s.Bytes != 12*s.Requests {
				t.Errorf("%d bytes for %d requests of 12", s.Bytes, s.Requests)
			}
		})
	}
}

func TestHTTPBadOptions(t *testing.T) {
	if _, err := NewHTTP().Run(context.Background(), Options{URL: "nope"}, nil); err == nil {
		t.Error("no error for a bad URL")
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestClientTLS(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Host)
	}))
	t.Cleanup(srv.Close)
	tg, err := newTarget(Options{URL: srv.URL, Host: "cpu.example"})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	tg.tls.RootCAs = pool
	tg.tls.ServerName = "example.com" // httptest's certificate names example.com
	c := client{t: tg}
	defer c.close()
	for range 2 {
		var res Result
		if err := c.do(context.Background(), time.Now().Add(5*time.Second), &res); err != nil ||
			res.Status != 200 || res.Bytes != int64(len("cpu.example")) {
			t.Fatalf("result %+v, error %v", res, err)
		}
	}
}
