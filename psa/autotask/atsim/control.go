package atsim

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/psasync/psasync/simkit"
)

// Fault makes matching requests fail (or slow down) on purpose. Paths match
// ignoring case; the zone lookup (a different host in Autotask) is only hit
// by a fault whose PathContains names it, such as "zoneInformation". Status
// 200 answers {"errors":[...]} inside a 200, as Autotask sometimes does; a
// fault without a Body answers with Autotask's error shape for its Status
// (an ASP.NET {"message":...} body for 5xx, which carries no errors array).
// Latency is spent while the request holds its thread slot.
type Fault = simkit.Fault

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

// Stats are the simulator's request counters. Reads count authenticated
// GETs and query POSTs (zoneInformation is not counted: it is a different
// host and not metered); Writes count authenticated creates and updates;
// Requests count every API request, zoneInformation and refused ones
// included (never /_sim); Throttled count HTTP 429 answers (thread limit,
// hourly threshold and injected 429s); Errors count other failed answers:
// status 400 and above except 429, and errors arrays inside a 200.
type Stats struct {
	simkit.Stats
	// ThreadLimited counts requests refused by the concurrent thread limit.
	ThreadLimited int `json:"thread_limited"`
	// QuotaUsed is the number of requests in the current rolling hour, as
	// ThresholdInformation reports it.
	QuotaUsed int `json:"quota_used"`
	// Delayed counts requests slowed by the usage-based latency.
	Delayed int `json:"delayed"`
}

// limitCounts are the counters only Autotask's limits produce.
type limitCounts struct {
	threadLimited, delayed int
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	s.limitMu.Lock()
	c := s.limits
	s.limitMu.Unlock()
	return Stats{
		Stats: s.meter.Stats(), ThreadLimited: c.threadLimited,
		Delayed: c.delayed, QuotaUsed: s.quota.used(s.cfg.now()),
	}
}

// ResetStats zeroes the counters (not the rolling hour: see ResetQuota).
func (s *Sim) ResetStats() {
	s.meter.Reset()
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	s.limits = limitCounts{}
}

// ResetQuota empties the rolling hour, as if the database had been idle.
func (s *Sim) ResetQuota() { s.quota.reset() }

func (s *Sim) countLimit(f func(*limitCounts)) {
	s.limitMu.Lock()
	defer s.limitMu.Unlock()
	f(&s.limits)
}

// Recorded is one request the simulator answered, for contract tests.
type Recorded = simkit.Recorded

// Requests returns the recorded requests, oldest first: the most recent
// ones, at most the record limit and simkit.MaxRecordBytes of bodies.
func (s *Sim) Requests() []Recorded { return s.recorder.Requests() }

// ClearRequests forgets the recorded requests.
func (s *Sim) ClearRequests() { s.recorder.Reset() }

// control answers the /_sim endpoints: GET|DELETE /_sim/stats,
// POST|DELETE /_sim/faults.
func (s *Sim) control() simkit.Control {
	return simkit.Control{Faults: &s.Faults, Stats: func() any { return s.Stats() }, ResetStats: s.ResetStats, SuccessFaults: true}
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
