package psatest

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// Front is an HTTP middleware the suite puts in front of a vendor's
// simulator. It records every request that reaches the simulator and
// produces the failures that are the same for every vendor, over real HTTP:
// an unreachable PSA (connections closed without an answer) and an answer
// larger than the client's bound. Vendor-specific failures come from the
// simulator itself (Sim.Fail).
type Front struct {
	mu       sync.Mutex
	requests []Request
	broken   bool
	oversize *oversized
}

// oversized is one armed oversized answer: its size, and what the Front
// managed to write before the client hung up.
type oversized struct {
	size    int64
	written chan int64
}

// Request is one HTTP request as it reached the Front.
type Request struct {
	Method string
	Path   string
	Body   []byte
}

// Serve starts an httptest server that sends every request through the
// Front to sim, stops it when t ends, and returns its root URL. A vendor's
// Setup calls it instead of its simulator's own NewServer.
func (f *Front) Serve(t testing.TB, sim http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(f.wrap(sim))
	t.Cleanup(srv.Close)
	return srv.URL
}

// wrap is the middleware itself.
func (f *Front) wrap(sim http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		f.mu.Lock()
		f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.Path, Body: body})
		broken, oversize := f.broken, f.oversize
		f.oversize = nil
		f.mu.Unlock()
		switch {
		case broken:
			hangUp(w)
		case oversize != nil:
			oversize.written <- writeOversized(w, oversize.size)
		default:
			sim.ServeHTTP(w, r)
		}
	})
}

// hangUp closes the connection without an answer, as a PSA that went away
// mid-request does.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("psatest: the server cannot hijack connections")
	}
	conn, _, err := hj.Hijack()
	if err == nil {
		_ = conn.Close()
	}
}

// writeOversized answers 200 with a well-formed JSON document of n bytes
// (an array padded with spaces, no Content-Length), so that only the size
// is wrong with it: a client that truncates it gets malformed JSON, one
// that reads it all gets an empty list. It returns how many bytes it wrote
// before the client hung up.
func writeOversized(w http.ResponseWriter, n int64) int64 {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	written, err := io.WriteString(w, "[")
	if err != nil {
		return int64(written)
	}
	padded, err := io.CopyN(w, spaces{}, n-2)
	if err != nil {
		return int64(written) + padded
	}
	last, _ := io.WriteString(w, "]")
	return int64(written) + padded + int64(last)
}

// spaces is an endless reader of JSON whitespace.
type spaces struct{}

func (spaces) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

// Requests returns the requests that reached the Front so far, oldest first.
func (f *Front) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

// breakAll makes every later request end with a closed connection. It stays
// broken: net/http retries an idempotent request once on a reused
// connection, and that retry must fail too.
func (f *Front) breakAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.broken = true
}

// oversizeNext makes the next request get a 200 answer of n bytes. The
// channel it returns gets how many of them the Front could write before
// the client hung up.
func (f *Front) oversizeNext(n int64) <-chan int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oversize = &oversized{size: n, written: make(chan int64, 1)}
	return f.oversize.written
}
