package graph

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"
)

// countingTransport counts the requests that reach the network.
type countingTransport struct {
	next  http.RoundTripper
	count *atomic.Int64
}

// RoundTrip counts and forwards one request.
func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.count.Add(1)
	return t.next.RoundTrip(req)
}

// throttleTransport waits out short throttles (429, 503, 504 with a
// Retry-After no longer than maxWait) a bounded number of times and hands
// anything longer to the caller as the response itself.
type throttleTransport struct {
	next    http.RoundTripper
	retries int
	maxWait time.Duration
	log     logrus.FieldLogger
}

// RoundTrip sends req, retrying short throttles.
func (t *throttleTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("graph: read request body: %w", err)
		}
	}
	for attempt := 0; ; attempt++ {
		try := req.Clone(req.Context())
		if body != nil {
			try.Body = io.NopCloser(bytes.NewReader(body))
			try.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		resp, err := t.next.RoundTrip(try)
		if err != nil {
			return nil, err
		}
		if !retryableStatus(resp.StatusCode) || attempt >= t.retries {
			return resp, nil
		}
		wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if !ok {
			wait = time.Duration(1<<attempt) * time.Second
		}
		if wait > t.maxWait {
			return resp, nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		_ = resp.Body.Close()
		t.log.WithFields(logrus.Fields{
			"status": resp.StatusCode, "retry_after": wait.String(), "attempt": attempt + 1,
			"path": req.URL.Path,
		}).Info("graph: throttled, waiting before retry")
		timer := time.NewTimer(wait)
		select {
		case <-timer.C:
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		}
	}
}

// retryableStatus is true for the answers Graph documents as transient
// throttling.
func retryableStatus(code int) bool {
	return code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable || code == http.StatusGatewayTimeout
}

// parseRetryAfter reads Retry-After as (possibly fractional) seconds or an
// HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		if secs < 0 || math.IsNaN(secs) || math.IsInf(secs, 0) {
			return 0, false
		}
		if secs > 24*3600 {
			secs = 24 * 3600
		}
		return time.Duration(secs * float64(time.Second)), true
	}
	if at, err := http.ParseTime(v); err == nil {
		d := at.Sub(now)
		if d < 0 {
			d = 0
		}
		return d, true
	}
	return 0, false
}
