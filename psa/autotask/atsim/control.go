package atsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests fail (or slow down) on purpose.
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string
	// PathContains matches a substring of the URL path, case-insensitively;
	// empty matches any API path. The zone lookup (a different host in
	// Autotask) is only hit by a PathContains that names it, such as
	// "zoneInformation".
	PathContains string
	// Status is the answer's HTTP status; 0 only adds Latency and lets the
	// request through. Status 200 answers {"errors":[...]} inside a 200,
	// as Autotask sometimes does.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Count is how many requests the fault hits; 0 means until ClearFaults.
	Count int
	// Latency delays the request (while it holds its thread slot) before
	// the fault answers.
	Latency time.Duration
	// Body is the answer's body; empty generates Autotask's error shape for
	// Status (an ASP.NET {"message":...} body for 5xx, which carries no
	// errors array).
	Body string
}

type faultState struct {
	Fault
	left int // remaining hits when Count > 0
}

// InjectFault adds a fault; faults are tried in the order added.
func (s *Sim) InjectFault(f Fault) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = append(s.faults, &faultState{Fault: f, left: f.Count})
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	s.faults = nil
}

// takeFault returns the first fault matching r and uses up one of its hits.
func (s *Sim) takeFault(r *http.Request, zone bool) (Fault, bool) {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, f := range s.faults {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if zone && f.PathContains == "" {
			continue
		}
		if f.PathContains != "" && !strings.Contains(strings.ToLower(r.URL.Path), strings.ToLower(f.PathContains)) {
			continue
		}
		if f.Count > 0 {
			f.left--
			if f.left <= 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return f.Fault, true
	}
	return Fault{}, false
}

// defaultFaultBody is the body a fault answers with when none was given.
func defaultFaultBody(status int) any {
	switch {
	case status == http.StatusOK:
		return errorsBody("The request could not be completed (simulated fault).")
	case status == http.StatusUnauthorized:
		return errorsBody(authFailedSecret)
	case status == http.StatusForbidden:
		return errorsBody("The logged in user does not have permission to perform this action (simulated fault).")
	case status == http.StatusNotFound:
		return errorsBody("The requested entity was not found (simulated fault).")
	case status == http.StatusTooManyRequests:
		return errorsBody(ThreadLimitError)
	case status >= 500:
		return map[string]string{"message": "An error has occurred."}
	}
	return errorsBody("The request is not valid (simulated fault).")
}

// Stats are the simulator's request counters.
type Stats struct {
	// Reads counts authenticated GETs and query POSTs (zoneInformation is
	// not counted: it is a different host and not metered).
	Reads int `json:"reads"`
	// Writes counts authenticated creates and updates.
	Writes int `json:"writes"`
	// Requests counts every API request, zoneInformation and refused ones
	// included (never /_sim).
	Requests int `json:"requests"`
	// Throttled counts HTTP 429 answers (thread limit, hourly threshold and
	// injected 429s).
	Throttled int `json:"throttled"`
	// Errors counts other failed answers: status 400 and above except 429,
	// and errors arrays inside a 200.
	Errors int `json:"errors"`
	// ThreadLimited counts requests refused by the concurrent thread limit.
	ThreadLimited int `json:"thread_limited"`
	// QuotaUsed is the number of requests in the current rolling hour, as
	// ThresholdInformation reports it.
	QuotaUsed int `json:"quota_used"`
	// Delayed counts requests slowed by the usage-based latency.
	Delayed int `json:"delayed"`
}

type counters struct {
	reads, writes, requests, throttled, errors, threadLimited, delayed int
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	s.statsMu.Lock()
	c := s.stats
	s.statsMu.Unlock()
	return Stats{
		Reads: c.reads, Writes: c.writes, Requests: c.requests,
		Throttled: c.throttled, Errors: c.errors, ThreadLimited: c.threadLimited,
		Delayed: c.delayed, QuotaUsed: s.quota.used(s.cfg.now()),
	}
}

// ResetStats zeroes the counters (not the rolling hour: see ResetQuota).
func (s *Sim) ResetStats() {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	s.stats = counters{}
}

// ResetQuota empties the rolling hour, as if the database had been idle.
func (s *Sim) ResetQuota() { s.quota.reset() }

func (s *Sim) count(f func(*counters)) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	f(&s.stats)
}

// Recorded is one request the simulator answered, for contract tests.
type Recorded struct {
	Method         string
	Path           string
	RawQuery       string
	Header         http.Header
	Body           []byte
	Status         int
	ResponseBody   []byte
	ResponseHeader http.Header
}

// Requests returns the recorded requests, oldest first: the most recent
// ones, at most the record limit and 64 MiB of bodies.
func (s *Sim) Requests() []Recorded {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	return append([]Recorded(nil), s.recorded...)
}

// ClearRequests forgets the recorded requests.
func (s *Sim) ClearRequests() {
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.recorded, s.recBytes = nil, 0
}

// maxRecordBytes bounds the bodies Requests keeps, so that a long-running
// standalone simulator does not grow without end (query pages are large).
const maxRecordBytes = 64 << 20

func (s *Sim) record(rec Recorded) {
	if s.cfg.recordLimit == 0 {
		return
	}
	size := len(rec.Body) + len(rec.ResponseBody)
	s.recMu.Lock()
	defer s.recMu.Unlock()
	s.recorded = append(s.recorded, rec)
	s.recBytes += size
	drop, kept := 0, s.recBytes
	for drop < len(s.recorded)-1 && (len(s.recorded)-drop > s.cfg.recordLimit || kept > maxRecordBytes) {
		kept -= len(s.recorded[drop].Body) + len(s.recorded[drop].ResponseBody)
		drop++
	}
	if drop > 0 {
		s.recorded = append([]Recorded(nil), s.recorded[drop:]...)
		s.recBytes = kept
	}
}

// faultJSON is a Fault on the /_sim/faults endpoint.
type faultJSON struct {
	Method       string `json:"method"`
	PathContains string `json:"path_contains"`
	Status       int    `json:"status"`
	RetryAfter   string `json:"retry_after"`
	Count        int    `json:"count"`
	LatencyMS    int    `json:"latency_ms"`
	Body         string `json:"body"`
}

// serveControl answers the /_sim endpoints: GET|DELETE /_sim/stats,
// POST|DELETE /_sim/faults.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/_sim/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case r.URL.Path == "/_sim/stats" && r.Method == http.MethodDelete:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_sim/faults" && r.Method == http.MethodPost:
		var f faultJSON
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			writeJSON(w, http.StatusBadRequest, errorsBody("fault: "+err.Error()))
			return
		}
		if f.Status != 0 && (f.Status < 100 || f.Status > 599) || f.Count < 0 || f.LatencyMS < 0 {
			writeJSON(w, http.StatusBadRequest, errorsBody("fault: status must be 0 or 100-599; count and latency_ms must not be negative"))
			return
		}
		s.InjectFault(Fault{
			Method: f.Method, PathContains: f.PathContains, Status: f.Status,
			RetryAfter: f.RetryAfter, Count: f.Count, Body: f.Body,
			Latency: time.Duration(f.LatencyMS) * time.Millisecond,
		})
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_sim/faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusNotFound, errorsBody("unknown simulator endpoint"))
	}
}

func errorsBody(msgs ...string) map[string][]string {
	return map[string][]string{"errors": msgs}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}
