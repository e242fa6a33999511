package graphsim

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// Fault makes matching requests fail or slow down. PathContains matches
// e.g. "/users/delta" or "/oauth2/" (ignoring case); Tenant limits it to one
// tenant's calls; Code is the Graph error code in the generated body (e.g.
// "Authorization_RequestDenied"; empty picks the usual one for Status).
// Body replaces the generated error JSON.
type Fault = simkit.Fault

// applyFault answers r from the first matching fault and reports whether it
// did (or the client left while the fault delayed it); a latency-only fault
// delays and lets the request through.
func (s *Sim) applyFault(w *simkit.Capture, r *http.Request) bool {
	f, ok := simkit.Strike(&s.Faults, w, r, simkit.Matching(r, s.requestTenant(r)))
	if !ok {
		return w.Abandoned()
	}
	switch {
	case f.WriteRaw(w, "application/json"):
	case strings.Contains(r.URL.Path, "/oauth2/"):
		code := f.Code
		if code == "" {
			code = "temporarily_unavailable"
		}
		writeAADError(w, f.Status, code, 50196, "AADSTS50196: The server encountered an error (simulated fault).")
	default:
		code, msg := defaultGraphError(f.Status)
		if f.Code != "" {
			code = f.Code
		}
		writeGraphError(w, r, f.Status, code, msg)
	}
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
// requests are not counted): Reads are Graph GETs, Writes are Graph POST,
// PATCH and DELETE calls (subscriptions), Requests all Graph and token
// requests, Throttled answers with status 429 and Errors other answers with
// status 400 or above.
type Stats struct {
	simkit.Stats
	// Tokens are token endpoint requests.
	Tokens int `json:"tokens"`
	// NotificationsDelivered are change and lifecycle notification posts
	// the receiver accepted.
	NotificationsDelivered int `json:"notifications_delivered"`
	// NotificationsFailed are posts the receiver refused or did not answer.
	NotificationsFailed int `json:"notifications_failed"`
	// Batches are POST /$batch round trips (each also one of Requests; the
	// requests inside count as Reads or Writes, not as Requests).
	Batches int `json:"batches"`
	// BatchedRequests are the requests carried inside batches.
	BatchedRequests int `json:"batched_requests"`
	// BatchedThrottled are requests inside batches answered 429.
	BatchedThrottled int `json:"batched_throttled"`
}

// graphCounts are the counts only Graph has.
type graphCounts struct {
	tokens, delivered, failed        int
	batches, batched, batchThrottled int
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	c := s.counts
	s.mu.Unlock()
	return Stats{Stats: s.meter.Stats(), Tokens: c.tokens, NotificationsDelivered: c.delivered, NotificationsFailed: c.failed,
		Batches: c.batches, BatchedRequests: c.batched, BatchedThrottled: c.batchThrottled}
}

// ResetStats zeroes the counters and forgets recorded requests.
func (s *Sim) ResetStats() {
	s.meter.Reset()
	s.recorder.Reset()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = graphCounts{}
}

// Recorded is one request the Sim answered, for contract tests; secrets
// (bearer tokens, client secrets and assertions) are redacted.
type Recorded = simkit.Recorded

// Requests returns the recorded requests, oldest first (at most the
// record limit, newest kept).
func (s *Sim) Requests() []Recorded { return s.recorder.Requests() }

// account updates the counters and records the exchange.
func (s *Sim) account(r *http.Request, body []byte, rec *simkit.Capture) {
	switch {
	case strings.Contains(r.URL.Path, "/oauth2/") || strings.Contains(r.URL.Path, "/.well-known/"):
		s.mu.Lock()
		s.counts.tokens++
		s.mu.Unlock()
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/$batch"):
		// handleBatch counted the requests inside.
	case r.Method == http.MethodGet:
		s.meter.Read()
	default:
		s.meter.Write()
	}
	s.meter.Answered(rec.Status(), false)
	if strings.Contains(r.URL.Path, "/oauth2/") {
		body = redactForm(body)
	}
	exchange := rec.Recorded(r, body)
	if exchange.Header.Get("Authorization") != "" {
		exchange.Header.Set("Authorization", "Bearer [redacted]")
	}
	s.recorder.Add(exchange)
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
