package halosim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests fail or slow down. A request matches when
// Method is empty or equal (ignoring case) and PathContains is empty or a
// substring of the path (ignoring case, as Halo routes do). Faults apply to
// API, authinfo and token requests, never to /_sim.
type Fault struct {
	Method       string
	PathContains string
	// Status is the answer; 0 only adds Latency and lets the request through.
	Status int
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
	// Count is how many requests the fault hits; 0 means until ClearFaults.
	Count int
	// Latency delays the answer (or the pass-through).
	Latency time.Duration
	// Body is the answer's body; empty means one Halo would send for Status.
	Body string
}

type activeFault struct {
	f         Fault
	remaining int // -1: until cleared
}

// faultJSON is Fault over HTTP (POST /_sim/faults).
type faultJSON struct {
	Method       string `json:"method"`
	PathContains string `json:"path_contains"`
	Status       int    `json:"status"`
	RetryAfter   string `json:"retry_after"`
	Count        int    `json:"count"`
	LatencyMS    int    `json:"latency_ms"`
	Body         string `json:"body"`
}

// InjectFault adds f; faults are tried in the order they were added.
func (s *Sim) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	remaining := f.Count
	if remaining <= 0 {
		remaining = -1
	}
	s.faults = append(s.faults, &activeFault{f: f, remaining: remaining})
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault finds the first fault matching the request and uses one of its hits.
func (s *Sim) takeFault(method, lowerPath string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, af := range s.faults {
		if af.f.Method != "" && !strings.EqualFold(af.f.Method, method) {
			continue
		}
		if af.f.PathContains != "" && !strings.Contains(lowerPath, strings.ToLower(af.f.PathContains)) {
			continue
		}
		if af.remaining > 0 {
			af.remaining--
			if af.remaining == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return af.f, true
	}
	return Fault{}, false
}

func writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	body := f.Body
	if body == "" {
		body = defaultFaultBody(f.Status)
	}
	if json.Valid([]byte(body)) && (strings.HasPrefix(body, "{") || strings.HasPrefix(body, "[")) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(f.Status)
		_, _ = io.WriteString(w, body)
		return
	}
	writeText(w, f.Status, body)
}

func defaultFaultBody(status int) string {
	switch {
	case status == http.StatusTooManyRequests:
		return rateLimitMessage(DefaultRateLimit, DefaultRateWindow)
	case status == http.StatusUnauthorized:
		return ""
	case status >= 500:
		return "An error has occurred."
	default:
		return http.StatusText(status)
	}
}

// serveControl answers the /_sim endpoints.
func (s *Sim) serveControl(w http.ResponseWriter, r *http.Request, lower string) {
	switch {
	case lower == "/_sim/stats" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, s.Stats())
	case lower == "/_sim/faults" && r.Method == http.MethodPost:
		var fj faultJSON
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&fj); err != nil {
			writeText(w, http.StatusBadRequest, "fault: "+err.Error())
			return
		}
		if fj.Status != 0 && (fj.Status < 100 || fj.Status > 599) {
			writeText(w, http.StatusBadRequest, "fault: status must be an HTTP status code")
			return
		}
		if fj.LatencyMS < 0 || fj.Count < 0 {
			writeText(w, http.StatusBadRequest, "fault: latency_ms and count must not be negative")
			return
		}
		s.InjectFault(Fault{
			Method:       fj.Method,
			PathContains: fj.PathContains,
			Status:       fj.Status,
			RetryAfter:   fj.RetryAfter,
			Count:        fj.Count,
			Latency:      time.Duration(fj.LatencyMS) * time.Millisecond,
			Body:         fj.Body,
		})
		w.WriteHeader(http.StatusNoContent)
	case lower == "/_sim/faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeText(w, http.StatusNotFound, "unknown sim endpoint")
	}
}
