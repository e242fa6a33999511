package graphsim

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Fault makes matching requests fail or slow down. Zero fields match
// anything.
type Fault struct {
	// Method matches the HTTP method ("" = any).
	Method string `json:"method"`
	// PathContains matches a substring of the path ("" = any), e.g.
	// "/users/delta" or "/oauth2/".
	PathContains string `json:"path_contains"`
	// Tenant limits the fault to one tenant's calls ("" = any).
	Tenant string `json:"tenant"`
	// Status is the answer to give; 0 only adds Latency.
	Status int `json:"status"`
	// Code is the Graph error code in the default body (e.g.
	// "Authorization_RequestDenied"); empty picks the usual one for Status.
	Code string `json:"code"`
	// RetryAfter is sent as the Retry-After header, e.g. "2.128".
	RetryAfter string `json:"retry_after"`
	// Count is how many requests the fault hits; 0 = until ClearFaults.
	Count int `json:"count"`
	// Latency delays the answer.
	Latency time.Duration `json:"-"`
	// LatencyMS is Latency in milliseconds, for the HTTP API.
	LatencyMS int `json:"latency_ms"`
	// Body replaces the generated error JSON.
	Body string `json:"body"`
}

type faultState struct {
	f    Fault
	left int // remaining hits when f.Count > 0
}

// InjectFault adds a fault; faults are tried in the order they were added.
func (s *Sim) InjectFault(f Fault) {
	if f.Latency == 0 && f.LatencyMS > 0 {
		f.Latency = time.Duration(f.LatencyMS) * time.Millisecond
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultState{f: f, left: f.Count})
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// applyFault answers r from the first matching fault and reports whether it
// did; a latency-only fault delays and lets the request through.
func (s *Sim) applyFault(w http.ResponseWriter, r *http.Request) bool {
	tenantID := s.requestTenant(r)
	s.mu.Lock()
	var hit *Fault
	for i, fs := range s.faults {
		f := fs.f
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.PathContains != "" && !strings.Contains(r.URL.Path, f.PathContains) {
			continue
		}
		if f.Tenant != "" && f.Tenant != tenantID {
			continue
		}
		if f.Count > 0 {
			fs.left--
			if fs.left <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		hit = &f
		break
	}
	s.mu.Unlock()
	if hit == nil {
		return false
	}
	if hit.Latency > 0 {
		t := time.NewTimer(hit.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if hit.Status == 0 {
		return false
	}
	if hit.RetryAfter != "" {
		w.Header().Set("Retry-After", hit.RetryAfter)
	}
	if hit.Body != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(hit.Status)
		_, _ = w.Write([]byte(hit.Body))
		return true
	}
	if strings.Contains(r.URL.Path, "/oauth2/") {
		code := hit.Code
		if code == "" {
			code = "temporarily_unavailable"
		}
		writeAADError(w, hit.Status, code, 50196, "AADSTS50196: The server encountered an error (simulated fault).")
		return true
	}
	code, msg := defaultGraphError(hit.Status)
	if hit.Code != "" {
		code = hit.Code
	}
	writeGraphError(w, r, hit.Status, code, msg)
	return true
}

// requestTenant names the tenant a request is for: the path's tenant on the
// token endpoints, the bearer token's tenant on Graph calls.
func (s *Sim) requestTenant(r *http.Request) string {
	if !strings.HasPrefix(r.URL.Path, "/v1.0/") {
		if seg := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2); len(seg) > 0 {
			return seg[0]
		}
		return ""
	}
	tok, _ := s.tokenFor(r)
	return tok.tenant
}

// Stats counts the Graph and token requests the Sim answered (/_sim
// requests are not counted).
type Stats struct {
	// Reads are Graph GETs.
	Reads int `json:"reads"`
	// Writes are Graph POST, PATCH and DELETE calls (subscriptions).
	Writes int `json:"writes"`
	// Requests are all Graph and token requests.
	Requests int `json:"requests"`
	// Throttled are answers with status 429.
	Throttled int `json:"throttled"`
	// Errors are other answers with status 400 or above.
	Errors int `json:"errors"`
	// Tokens are token endpoint requests.
	Tokens int `json:"tokens"`
	// NotificationsDelivered are change and lifecycle notification posts
	// the receiver accepted.
	NotificationsDelivered int `json:"notifications_delivered"`
	// NotificationsFailed are posts the receiver refused or did not answer.
	NotificationsFailed int `json:"notifications_failed"`
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the counters and forgets recorded requests.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
	s.recorded = nil
}

// Recorded is one request the Sim answered, for contract tests.
type Recorded struct {
	Method         string
	Path           string
	RawQuery       string
	Header         http.Header
	Body           []byte
	Status         int
	ResponseBody   []byte
	ResponseHeader http.Header
	Time           time.Time
}

// Requests returns the recorded requests, oldest first (at most the
// record limit, newest kept).
func (s *Sim) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.recorded
	if over := len(rec) - s.cfg.recordLimit; over > 0 {
		rec = rec[over:]
	}
	return append([]Recorded(nil), rec...)
}

// account updates the counters and records the exchange.
func (s *Sim) account(r *http.Request, body []byte, rec *responseRecorder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	switch {
	case strings.Contains(r.URL.Path, "/oauth2/") || strings.Contains(r.URL.Path, "/.well-known/"):
		s.stats.Tokens++
	case r.Method == http.MethodGet:
		s.stats.Reads++
	default:
		s.stats.Writes++
	}
	switch {
	case rec.status == http.StatusTooManyRequests:
		s.stats.Throttled++
	case rec.status >= 400:
		s.stats.Errors++
	}
	if s.cfg.recordLimit <= 0 {
		return
	}
	if strings.Contains(r.URL.Path, "/oauth2/") {
		body = redactForm(body)
	}
	hdr := r.Header.Clone()
	if hdr.Get("Authorization") != "" {
		hdr.Set("Authorization", "Bearer [redacted]")
	}
	s.recorded = append(s.recorded, Recorded{
		Method:         r.Method,
		Path:           r.URL.Path,
		RawQuery:       r.URL.RawQuery,
		Header:         hdr,
		Body:           bytes.Clone(body),
		Status:         rec.status,
		ResponseBody:   bytes.Clone(rec.body.Bytes()),
		ResponseHeader: rec.Header().Clone(),
		Time:           time.Now(),
	})
	if len(s.recorded) >= 2*s.cfg.recordLimit {
		s.recorded = append([]Recorded(nil), s.recorded[len(s.recorded)-s.cfg.recordLimit:]...)
	}
}

// redactForm hides secrets in a recorded token request.
func redactForm(body []byte) []byte {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil
	}
	for _, k := range []string{"client_secret", "client_assertion"} {
		if form.Has(k) {
			form.Set(k, "[redacted]")
		}
	}
	return []byte(form.Encode())
}
