package load

import (
	"bufio"
	"errors"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"
)

const recordHeader = "X-Keda-Http-Cold-Start"

// parseOurs reads responses from raw until EOF.
func parseOurs(raw string, bufSize int) ([]Result, []bool, error) {
	br := bufio.NewReaderSize(strings.NewReader(raw), bufSize)
	var out []Result
	var alive []bool
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return out, alive, nil
		}
		var r Result
		ka, err := readResponse(br, []string{recordHeader}, &r)
		if err != nil {
			return out, alive, err
		}
		out = append(out, r)
		alive = append(alive, ka)
		if !ka {
			return out, alive, nil
		}
	}
}

// parseStd reads the same with net/http, the reference.
func parseStd(raw string) ([]Result, []bool, error) {
	br := bufio.NewReader(strings.NewReader(raw))
	req, _ := http.NewRequest(http.MethodGet, "http://x/", nil)
	var out []Result
	var alive []bool
	for {
		if _, err := br.Peek(1); err == io.EOF {
			return out, alive, nil
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return out, alive, err
		}
		if resp.StatusCode < 200 && resp.StatusCode != 101 {
			continue
		}
		n, err := io.Copy(io.Discard, resp.Body)
		if err != nil {
			return out, alive, err
		}
		r := Result{Status: resp.StatusCode, Bytes: n}
		if v := resp.Header.Values(recordHeader); len(v) > 0 {
			r.Headers = map[string]string{recordHeader: v[0]}
		}
		out = append(out, r)
		alive = append(alive, !resp.Close)
		if resp.Close {
			return out, alive, nil
		}
	}
}

func TestReadResponseMatchesNetHTTP(t *testing.T) {
	long := strings.Repeat("v", 6000) // longer than the 4 KiB buffer
	for name, raw := range map[string]string{
		"content-length": "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-KEDA-HTTP-Cold-Start: true\r\n\r\nhello",
		"two pipelined": "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi" +
			"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 3\r\nx-keda-http-cold-start:  false \r\n\r\nbad",
		"chunked": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"4\r\nabcd\r\nA;ext=1\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n" +
			"HTTP/1.1 204 No Content\r\n\r\n",
		"chunked wins over length": "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"connection close":         "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
		"close in a list":          "HTTP/1.1 200 OK\r\nConnection: foo, Close\r\nContent-Length: 1\r\n\r\nx",
		"read to close":            "HTTP/1.1 200 OK\r\n\r\nall of this until EOF",
		"http/1.0":                 "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
		"http/1.0 keepalive": "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\nx" +
			"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n",
		"no body codes": "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n" +
			"HTTP/1.1 204 No Content\r\n\r\n" + "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
		"early hints skipped": "HTTP/1.1 103 Early Hints\r\nX-Keda-Http-Cold-Start: early\r\n\r\n" +
			"HTTP/1.1 200 OK\r\nX-Keda-Http-Cold-Start: late\r\nContent-Length: 2\r\n\r\nok",
		"bare LF":           "HTTP/1.1 200 OK\nContent-Length: 2\n\nok",
		"no reason phrase":  "HTTP/1.1 500\r\nContent-Length: 0\r\n\r\n",
		"long header":       "HTTP/1.1 200 OK\r\nX-Big: " + long + "\r\nX-Keda-Http-Cold-Start: " + long[:5000] + "\r\nContent-Length: 1\r\n\r\nx",
		"first of repeated": "HTTP/1.1 200 OK\r\nX-Keda-Http-Cold-Start: a\r\nX-Keda-Http-Cold-Start: b\r\nContent-Length: 0\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			want, wantAlive, werr := parseStd(raw)
			if werr != nil {
				t.Fatalf("net/http: %v", werr)
			}
			for _, size := range []int{16, 4096} { // bufio's minimum and ours
				got, gotAlive, err := parseOurs(raw, size)
				if err != nil {
					t.Fatalf("buffer %d: %v", size, err)
				}
				if len(got) != len(want) {
					t.Fatalf("buffer %d: %d responses, net/http %d", size, len(got), len(want))
				}
				for i := range got {
					if got[i].Status != want[i].Status || got[i].Bytes != want[i].Bytes ||
						!maps.Equal(got[i].Headers, want[i].Headers) || gotAlive[i] != wantAlive[i] {
						t.Errorf("buffer %d, response %d: status %d bytes %d headers %.40v alive %v; net/http %d %d %.40v %v",
							size, i, got[i].Status, got[i].Bytes, got[i].Headers, gotAlive[i],
							want[i].Status, want[i].Bytes, want[i].Headers, wantAlive[i])
					}
				}
			}
		})
	}
}

func TestReadResponseErrors(t *testing.T) {
	for name, tc := range map[string]struct {
		raw  string
		want error
	}{
		"closed before a byte": {"", io.EOF},
		"cut in status line":   {"HTTP/1.1 20", io.ErrUnexpectedEOF},
		"cut in headers":       {"HTTP/1.1 200 OK\r\nContent-Le", io.ErrUnexpectedEOF},
		"cut in body":          {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", io.ErrUnexpectedEOF},
		"cut in chunks":        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", io.ErrUnexpectedEOF},
		"not http":             {"SSH-2.0-OpenSSH\r\n", errMalformed},
		"bad code":             {"HTTP/1.1 2x0 OK\r\n\r\n", errMalformed},
		"bad length":           {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", errMalformed},
		"conflicting lengths":  {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx", errMalformed},
		"bad header":           {"HTTP/1.1 200 OK\r\nno colon\r\n\r\n", errMalformed},
		"bad chunk size":       {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", errMalformed},
		"no chunk CRLF":        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n0\r\n\r\n", errMalformed},
		"endless line":         {"HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", maxLine+10), errMalformed},
	} {
		t.Run(name, func(t *testing.T) {
			var r Result
			_, err := readResponse(bufio.NewReaderSize(strings.NewReader(tc.raw), 4096), nil, &r)
			if !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if tc.want == io.EOF && !staleConn(err) || tc.want != io.EOF && errors.Is(err, io.EOF) {
				t.Errorf("staleConn(%v) wrong: only a clean EOF before any byte means an idle close", err)
			}
		})
	}
}

func TestReadResponseAllocs(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\nDate: Sun, 22 Nov 2026 13:00:00 GMT\r\n\r\nhello"
	sr := strings.NewReader(raw)
	br := bufio.NewReaderSize(sr, 4096)
	allocs := testing.AllocsPerRun(100, func() {
		sr.Reset(raw)
		br.Reset(sr)
		var r Result
		if _, err := readResponse(br, []string{recordHeader}, &r); err != nil || r.Bytes != 5 {
			t.Fatal(err, r)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per response, want 0", allocs)
	}
}

// FuzzReadResponse: any input is read without panicking, and a response
// net/http accepts is read the same way.
func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n")
	f.Add("HTTP/1.0 103 Early\r\n\r\nHTTP/1.0 404 x\r\nConnection: keep-alive\r\n\r\n")
	f.Fuzz(func(t *testing.T, raw string) {
		got, _, err := parseOurs(raw, 16)
		for _, r := range got {
			if r.Bytes < 0 || r.Bytes > int64(len(raw)) {
				t.Fatalf("bytes %d of %d", r.Bytes, len(raw))
			}
		}
		want, _, werr := parseStd(raw)
		if err == nil && werr == nil && len(got) == len(want) {
			for i := range got {
				if got[i].Status != want[i].Status || got[i].Bytes != want[i].Bytes {
					t.Fatalf("response %d: ours %d/%d bytes, net/http %d/%d", i,
						got[i].Status, got[i].Bytes, want[i].Status, want[i].Bytes)
				}
			}
		}
	})
}
