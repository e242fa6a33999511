package halosim

import (
	"net/http"
	"slices"
)

// Stats counts what clients cost the instance. Reads are successful resource
// GETs (Users, Client; not /api/authinfo or the token endpoint), Writes are
// successful POST /api/Users requests (one per request, whatever the array
// length), Requests is every non-/_sim request, Throttled every 429 answer
// and Errors every other answer of 400 or more.
type Stats struct {
	Reads     int `json:"reads"`
	Writes    int `json:"writes"`
	Requests  int `json:"requests"`
	Throttled int `json:"throttled"`
	Errors    int `json:"errors"`
}

// Recorded is one request the sim answered, kept so contract tests can
// validate what a client sent and what it got back.
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

// Stats returns the counters since New or the last ResetStats.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// ResetStats zeroes the counters and forgets recorded requests; it keeps
// data, tokens, faults and the rate-limit window.
func (s *Sim) ResetStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats = Stats{}
	s.recorded = nil
}

// Requests returns a copy of the recorded requests, oldest first.
func (s *Sim) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.recorded)
}

func (s *Sim) countRead() {
	s.mu.Lock()
	s.stats.Reads++
	s.mu.Unlock()
}

func (s *Sim) countWrite() {
	s.mu.Lock()
	s.stats.Writes++
	s.mu.Unlock()
}
