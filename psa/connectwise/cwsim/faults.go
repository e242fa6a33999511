package cwsim

import (
	"bytes"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault makes matching API requests fail or slow down, to imitate quotas,
// outages and distant sites.
type Fault struct {
	// Method matches the HTTP method; empty matches any.
	Method string `json:"method"`
	// PathContains matches requests whose path contains it; empty matches
	// any.
	PathContains string `json:"path_contains"`
	// Status is the HTTP status to answer with; 0 only adds Latency.
	Status int `json:"status"`
	// RetryAfter is sent as the Retry-After header when set ("2", "2.128",
	// or an HTTP date).
	RetryAfter string `json:"retry_after"`
	// Count is how many requests the fault hits; 0 means until ClearFaults.
	Count int `json:"count"`
	// Latency delays the matching requests before they are answered.
	Latency time.Duration `json:"-"`
	// Body is the answer body; empty sends the vendor's error JSON for
	// Status. Anything else (HTML, garbage) is sent as is.
	Body string `json:"body"`
}

// faultState is an injected fault and how many hits it has left.
type faultState struct {
	Fault
	left int // -1: unlimited
}

// InjectFault adds a fault; faults are tried in the order they were added
// and the first match applies.
func (s *Sim) InjectFault(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := f.Count
	if left <= 0 {
		left = -1
	}
	s.fault = append(s.fault, &faultState{Fault: f, left: left})
}

// ClearFaults removes every injected fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = nil
}

// takeFault returns the first fault matching r and uses up one of its hits.
func (s *Sim) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.fault {
		if f.Method != "" && !strings.EqualFold(f.Method, r.Method) {
			continue
		}
		if f.PathContains != "" && !strings.Contains(r.URL.Path, f.PathContains) {
			continue
		}
		hit := f.Fault
		if f.left > 0 {
			f.left--
			if f.left == 0 {
				s.fault = append(s.fault[:i:i], s.fault[i+1:]...)
			}
		}
		return &hit
	}
	return nil
}

// writeFault answers with an injected fault's status, Retry-After and body.
func writeFault(w http.ResponseWriter, f *Fault, version string) {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body == "" {
		writeError(w, version, f.Status, defaultFaultBody(f.Status))
		return
	}
	ct := mediaType(version)
	if !json.Valid([]byte(f.Body)) {
		ct = "text/html; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, f.Body)
}

// Stats counts API calls since New or ResetStats.
type Stats struct {
	// Reads are API GETs (list and get calls), whatever their outcome.
	Reads int `json:"reads"`
	// Writes are creates and updates (POST, PUT, PATCH), whatever their
	// outcome.
	Writes int `json:"writes"`
	// Requests are all API calls; _sim endpoints are not counted.
	Requests int `json:"requests"`
	// Throttled are calls answered 429.
	Throttled int `json:"throttled"`
	// Errors are calls answered with another 4xx or 5xx status.
	Errors int `json:"errors"`
}

// Stats returns the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats sets every counter back to zero.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
}

func (s *Sim) countRequest(method string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.Requests++
	switch method {
	case http.MethodGet, http.MethodHead:
		s.stats.Reads++
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		s.stats.Writes++
	}
}

// Recorded is one API call as the simulator saw and answered it, for
// contract tests that validate both sides against the vendor's OpenAPI
// document.
type Recorded struct {
	Method         string
	Path           string
	RawQuery       string
	Header         http.Header
	Body           []byte
	Status         int
	ResponseHeader http.Header
	ResponseBody   []byte
	// Injected is true when the answer came from an injected Fault rather
	// than from the simulated API.
	Injected bool
	// At is when the call arrived.
	At time.Time
}

// Requests returns the recorded API calls, oldest first.
func (s *Sim) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Recorded, len(s.reqs))
	copy(out, s.reqs)
	return out
}

// ResetRequests forgets the recorded API calls.
func (s *Sim) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reqs = nil
}

// recorder buffers an answer so it can be both recorded and sent.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	wrote  bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.wrote = true
	return r.body.Write(b)
}

// finish sends the buffered answer, updates the outcome counters and
// records the call.
func (s *Sim) finish(w http.ResponseWriter, r *http.Request, rec *recorder, body []byte, injected bool) {
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())

	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case rec.status == http.StatusTooManyRequests:
		s.stats.Throttled++
	case rec.status >= 400:
		s.stats.Errors++
	}
	s.reqs = append(s.reqs, Recorded{
		Method:         r.Method,
		Path:           r.URL.Path,
		RawQuery:       r.URL.RawQuery,
		Header:         r.Header.Clone(),
		Body:           body,
		Status:         rec.status,
		ResponseHeader: rec.header.Clone(),
		ResponseBody:   bytes.Clone(rec.body.Bytes()),
		Injected:       injected,
		At:             nowUTC(),
	})
	if n := s.cfg.recordLimit; n > 0 && len(s.reqs) > n {
		s.reqs = append([]Recorded(nil), s.reqs[len(s.reqs)-n:]...)
	}
}

// authorized checks Basic "companyId+publicKey:privateKey" and the
// clientId header in constant time.
func (s *Sim) authorized(r *http.Request) bool {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.cfg.companyID+"+"+s.cfg.publicKey+":"+s.cfg.privateKey))
	okAuth := subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) == 1
	okClient := subtle.ConstantTimeCompare([]byte(r.Header.Get("clientId")), []byte(s.cfg.clientID)) == 1
	return okAuth && okClient
}

// maxBody bounds request bodies the simulator reads.
const maxBody = 4 << 20

func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	return io.ReadAll(io.LimitReader(r.Body, maxBody))
}

func nowUTC() time.Time { return time.Now().UTC() }

// faultJSON is the _sim/faults body: Fault with latency in milliseconds.
type faultJSON struct {
	Fault
	LatencyMS int `json:"latency_ms"`
}

// serveAdmin answers the _sim endpoints: GET /_sim/stats (DELETE resets
// them), POST /_sim/faults (a faultJSON), DELETE /_sim/faults.
func (s *Sim) serveAdmin(w http.ResponseWriter, r *http.Request) {
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	switch {
	case r.URL.Path == "/_sim/stats" && r.Method == http.MethodGet:
		answer(http.StatusOK, s.Stats())
	case r.URL.Path == "/_sim/stats" && r.Method == http.MethodDelete:
		s.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_sim/faults" && r.Method == http.MethodPost:
		var f faultJSON
		dec := json.NewDecoder(io.LimitReader(r.Body, maxBody))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			answer(http.StatusBadRequest, map[string]string{"error": "fault JSON: " + err.Error()})
			return
		}
		if f.Status != 0 && (f.Status < 400 || f.Status > 599) {
			answer(http.StatusBadRequest, map[string]string{"error": "status must be a 4xx or 5xx code, got " + strconv.Itoa(f.Status)})
			return
		}
		if f.Status == 0 && f.LatencyMS <= 0 {
			answer(http.StatusBadRequest, map[string]string{"error": "a fault needs a status or a latency_ms"})
			return
		}
		f.Latency = time.Duration(f.LatencyMS) * time.Millisecond
		s.InjectFault(f.Fault)
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/_sim/faults" && r.Method == http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		answer(http.StatusNotFound, map[string]string{"error": "unknown simulator endpoint " + r.Method + " " + r.URL.Path})
	}
}
