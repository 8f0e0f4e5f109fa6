package load

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseBombardier(t *testing.T) {
	for _, tc := range []struct {
		file string
		want Summary
	}{
		{
			// fasthttp client against a server answering some 404, some 500.
			file: "bombardier-mixed.json",
			want: Summary{
				Requests: 7884 + 94 + 165, Successes: 7884, Errors: 94 + 165,
				ErrorsByKind: map[ErrorKind]int64{KindHTTP4xx: 94, KindHTTP5xx: 165},
				Bytes:        972810,
				Duration:     2157716889 * time.Nanosecond,
				Mean:         2018378 * time.Nanosecond, // 2018.3777 µs, rounded
				P50:          55 * time.Microsecond,
				P90:          180 * time.Microsecond,
				P99:          29022 * time.Microsecond,
				Max:          477141 * time.Microsecond,
			},
		},
		{
			// --http1 with a Host header: timeouts and resets show as errors.
			file: "bombardier-http1-host.json",
			want: Summary{
				Requests: 4843 + 58 + 101 + 67, Successes: 4843, Errors: 58 + 101 + 67,
				ErrorsByKind: map[ErrorKind]int64{KindHTTP4xx: 58, KindHTTP5xx: 101, KindTimeout: 40, KindReset: 27},
				Bytes:        597563,
				Duration:     1116019193 * time.Nanosecond,
				Mean:         1710519 * time.Nanosecond,
				P50:          68 * time.Microsecond,
				P90:          257 * time.Microsecond,
				P99:          3135 * time.Microsecond,
				Max:          203346 * time.Microsecond,
			},
		},
		{
			file: "bombardier-refused.json",
			want: Summary{
				Requests: 24249, Errors: 24249,
				ErrorsByKind: map[ErrorKind]int64{KindRefused: 24249},
				Duration:     1025019217 * time.Nanosecond,
				Mean:         1443973 * time.Nanosecond,
				P50:          183 * time.Microsecond,
				P90:          718 * time.Microsecond,
				P99:          32053 * time.Microsecond,
				Max:          269186 * time.Microsecond,
			},
		},
	} {
		t.Run(tc.file, func(t *testing.T) {
			out, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseBombardier(out)
			if err != nil {
				t.Fatal(err)
			}
			tc.want.RPS = float64(tc.want.Requests) / tc.want.Duration.Seconds()
			if d := got.RPS - tc.want.RPS; d > 1e-6 || d < -1e-6 {
				t.Errorf("RPS %v, want %v", got.RPS, tc.want.RPS)
			}
			got.RPS = tc.want.RPS
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ParseBombardier =\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
}

func TestParseBombardierBadOutput(t *testing.T) {
	for _, out := range []string{
		"",
		"unknown long flag '--nope'\n",
		`{"spec":{}}`,
		`{"spec":{},"result":{`,
	} {
		if _, err := ParseBombardier([]byte(out)); err == nil {
			t.Errorf("ParseBombardier(%q): no error", out)
		}
	}
	// A line before the JSON is skipped.
	s, err := ParseBombardier([]byte("warning: something\n" + `{"spec":{},"result":{"req2xx":3,"timeTakenSeconds":1}}`))
	if err != nil || s.Requests != 3 || s.RPS != 3 {
		t.Errorf("with a leading line: %+v, %v", s, err)
	}
}

func TestClassifyDescription(t *testing.T) {
	for d, want := range map[string]ErrorKind{
		"timeout": KindTimeout,
		"dialing to the given TCP address timed out":                                                  KindTimeout,
		`Get "http://x/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`: KindTimeout,
		"dial tcp 127.0.0.1:1: connect: connection refused":                                           KindRefused,
		"read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer":                           KindReset,
		"the server closed connection before returning the first response byte":                       KindReset,
		"write: broken pipe": KindReset,
		"EOF":                KindReset,
		"dial tcp: lookup cpu.example: no such host": KindOther,
	} {
		if got := classifyDescription(d); got != want {
			t.Errorf("classifyDescription(%q) = %q, want %q", d, got, want)
		}
	}
}

func TestBombardierArgs(t *testing.T) {
	args, err := BombardierArgs(Options{URL: "http://localhost:8081"})
	want := []string{"-c", "40", "-t", "5s", "-d", "3m0s", "-o", "j", "-p", "r", "-l", "http://localhost:8081"}
	if err != nil || !slices.Equal(args, want) {
		t.Errorf("defaults: %q, %v; want %q", args, err, want)
	}
	args, err = BombardierArgs(Options{URL: "http://127.0.0.1:8080/x", Host: "cpu.example", Connections: 5,
		Duration: 90 * time.Second, Timeout: 2 * time.Second, Rate: 100})
	want = []string{"-c", "5", "-t", "2s", "-d", "1m30s", "-r", "100", "--http1", "-H", "Host: cpu.example",
		"-o", "j", "-p", "r", "-l", "http://127.0.0.1:8080/x"}
	if err != nil || !slices.Equal(args, want) {
		t.Errorf("all options: %q, %v; want %q", args, err, want)
	}
	for _, o := range []Options{
		{URL: "http://x", Steps: []Step{{Duration: time.Second, Connections: 1}}},
		{URL: "http://x", Rate: 2.5},
		{URL: "http://x", Mode: OpenLoop, Rate: 100},
	} {
		if _, err := BombardierArgs(o); !errors.Is(err, ErrUnsupported) {
			t.Errorf("%+v: %v, want ErrUnsupported", o, err)
		}
	}
	if _, err := BombardierArgs(Options{}); err == nil {
		t.Error("no URL: no error")
	}
}

// TestBombardierLoopback runs the real bombardier (built from the go.mod tool
// directive on first use, which takes a while) against a loopback server.
func TestBombardierLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs bombardier")
	}
	var served atomic.Int64
	var badHost atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := served.Add(1) // one read: every tenth request, exactly, under concurrency
		if r.Host != "cpu.example" {
			badHost.Store(r.Host)
		}
		if n%10 == 0 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	ctx := context.Background()
	b := NewBombardier(WithLogger(discard()))
	bin, err := b.Binary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := b.Binary(ctx); err != nil || again != bin {
		t.Errorf("second Binary() = %q, %v; want the cached %q", again, err, bin)
	}
	called := false
	s, err := b.Run(ctx, Options{URL: srv.URL, Host: "cpu.example", Connections: 4, Duration: time.Second},
		func(Result) { called = true })
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	t.Logf("summary %+v", s)
	if called {
		t.Error("bombardier mode called the result callback")
	}
	if h := badHost.Load(); h != nil {
		t.Errorf("server saw Host %q", h)
	}
	if s.Requests == 0 || s.Requests != served.Load() || s.Started.IsZero() || s.P99 == 0 {
		t.Errorf("summary %+v; server saw %d requests", s, served.Load())
	}
	if want := s.Requests / 10; s.ErrorsByKind[KindHTTP5xx] != want {
		t.Errorf("5xx %d, want %d", s.ErrorsByKind[KindHTTP5xx], want)
	}

	// Cancellation interrupts bombardier, which still prints its results.
	// It needs a request done by then: 2 s, not 0.5 s, for a loaded machine
	// (make test runs this next to the cluster tests) to start the process
	// and its connections; the run asked for is a minute.
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	start := time.Now()
	s, err = b.Run(cctx, Options{URL: srv.URL, Connections: 2, Duration: time.Minute}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 10*time.Second || s.Requests == 0 {
		t.Errorf("cancelled run: %v after %v, summary %+v", err, time.Since(start), s)
	}
}
