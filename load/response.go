package load

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// errMalformed marks a response the parser cannot read.
var errMalformed = errors.New("malformed HTTP response")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errMalformed, fmt.Sprintf(format, args...))
}

// maxLine bounds a status, header or chunk-size line.
const maxLine = 64 << 10

// readResponse reads one HTTP/1.x response to a GET from br: the status
// line, the headers (keeping only framing headers and those named in record,
// which must be canonical) and the whole body, which it discards and counts.
// It allocates nothing unless a recorded header is present. keepAlive
// reports whether the connection can carry another request.
//
// Framing follows RFC 9112 section 6.3: 1xx responses are skipped; 204, 304
// have no body; chunked transfer coding wins over Content-Length; without
// either the body runs to the end of the connection.
func readResponse(br *bufio.Reader, record []string, res *Result) (keepAlive bool, err error) {
	for {
		keepAlive, informational, err := readHead(br, record, res)
		if err != nil {
			return false, err
		}
		if !informational {
			return keepAlive, nil
		}
	}
}

// readHead reads a status line and headers, then the body. informational
// reports a 1xx response, after which the real one follows.
func readHead(br *bufio.Reader, record []string, res *Result) (keepAlive, informational bool, err error) {
	line, err := readLine(br)
	if err != nil {
		return false, false, err
	}
	// "HTTP/1.1 200 OK"
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return false, false, malformed("status line %q", truncate(line, 64))
	}
	minor := line[7]
	code := 0
	for _, c := range line[9:12] {
		if c < '0' || c > '9' {
			return false, false, malformed("status line %q", truncate(line, 64))
		}
		code = code*10 + int(c-'0')
	}
	if len(line) > 12 && line[12] != ' ' {
		return false, false, malformed("status line %q", truncate(line, 64))
	}
	res.Status = code
	keepAlive = minor >= '1' && code != 101
	informational = code >= 100 && code < 200 && code != 101

	length := int64(-1)
	chunked := false
	for {
		line, err := readLine(br)
		if err != nil {
			return false, false, unexpected(err)
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return false, false, malformed("header line %q", truncate(line, 64))
		}
		name, value := line[:colon], bytes.TrimSpace(line[colon+1:])
		switch {
		case asciiEqualFold(name, "Content-Length"):
			n, ok := parseUint(value, 10)
			if !ok || (length >= 0 && n != length) {
				return false, false, malformed("Content-Length %q", truncate(value, 64))
			}
			length = n
		case asciiEqualFold(name, "Transfer-Encoding") && minor != '0':
			// HTTP/1.0 has no transfer codings; net/http ignores them too.
			// Only a final "chunked" frames the body; anything else means
			// read to close.
			chunked = hasSuffixFold(value, "chunked")
			if !chunked {
				keepAlive = false
			}
		case asciiEqualFold(name, "Connection"):
			if containsTokenFold(value, "close") {
				keepAlive = false
			} else if containsTokenFold(value, "keep-alive") {
				keepAlive = keepAlive || minor == '0'
			}
		}
		for _, want := range record {
			if !informational && asciiEqualFold(name, want) {
				if res.Headers == nil {
					res.Headers = make(map[string]string, len(record))
				}
				if _, dup := res.Headers[want]; !dup {
					res.Headers[want] = string(value)
				}
			}
		}
	}
	if informational {
		return false, true, nil
	}
	switch {
	case code == 204 || code == 304 || code == 101:
	case chunked:
		n, err := discardChunked(br)
		res.Bytes += n
		if err != nil {
			return false, false, unexpected(err)
		}
	case length >= 0:
		n, err := br.Discard(int(min(length, int64(^uint(0)>>1))))
		res.Bytes += int64(n)
		if err != nil {
			return false, false, unexpected(err)
		}
	default:
		n, err := io.Copy(io.Discard, br)
		res.Bytes += n
		return false, false, err
	}
	return keepAlive, false, nil
}

// readLine returns the next line without its CRLF (or LF). The slice is only
// valid until the next read; lines longer than the buffer are copied.
func readLine(br *bufio.Reader) ([]byte, error) {
	line, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		long := append([]byte(nil), line...)
		for errors.Is(err, bufio.ErrBufferFull) && len(long) <= maxLine {
			line, err = br.ReadSlice('\n')
			long = append(long, line...)
		}
		if len(long) > maxLine {
			return nil, malformed("line longer than %d bytes", maxLine)
		}
		line = long
	}
	if err != nil {
		if err == io.EOF && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, nil
}

// discardChunked reads a chunked body and its trailers.
func discardChunked(br *bufio.Reader) (int64, error) {
	var total int64
	for {
		line, err := readLine(br)
		if err != nil {
			return total, err
		}
		if i := bytes.IndexByte(line, ';'); i >= 0 {
			line = line[:i]
		}
		line = bytes.TrimSpace(line)
		size, ok := parseUint(line, 16)
		if !ok {
			return total, malformed("chunk size %q", truncate(line, 32))
		}
		if size == 0 {
			break
		}
		n, err := br.Discard(int(size))
		total += int64(n)
		if err != nil {
			return total, err
		}
		if crlf, err := readLine(br); err != nil || len(crlf) != 0 {
			if err == nil {
				err = malformed("no CRLF after a chunk")
			}
			return total, err
		}
	}
	for { // trailers up to an empty line
		line, err := readLine(br)
		if err != nil {
			return total, err
		}
		if len(line) == 0 {
			return total, nil
		}
	}
}

// unexpected turns a clean EOF in the middle of a response into
// io.ErrUnexpectedEOF, so only an EOF before the first byte reads as io.EOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// parseUint parses a non-empty unsigned number in base 10 or 16 up to 2^60.
func parseUint(b []byte, base int64) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d int64
		switch {
		case '0' <= c && c <= '9':
			d = int64(c - '0')
		case base == 16 && 'a' <= lower(c) && lower(c) <= 'f':
			d = int64(lower(c)-'a') + 10
		default:
			return 0, false
		}
		n = n*base + d
		if n > 1<<60 {
			return 0, false
		}
	}
	return n, true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		if lower(b[i]) != lower(s[i]) {
			return false
		}
	}
	return true
}

func hasSuffixFold(b []byte, s string) bool {
	return len(b) >= len(s) && asciiEqualFold(b[len(b)-len(s):], s)
}

// containsTokenFold reports whether the comma-separated list b holds token.
func containsTokenFold(b []byte, token string) bool {
	for len(b) > 0 {
		var t []byte
		if i := bytes.IndexByte(b, ','); i >= 0 {
			t, b = b[:i], b[i+1:]
		} else {
			t, b = b, nil
		}
		if asciiEqualFold(bytes.TrimSpace(t), token) {
			return true
		}
	}
	return false
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
