package halosim

import "github.com/psasync/psasync/simkit"

// Stats counts what clients cost the instance. Reads are successful resource
// GETs (Users, Client; not /api/authinfo or the token endpoint), Writes are
// successful POST /api/Users requests (one per request, whatever the array
// length), Requests is every non-/_sim request, Throttled every 429 answer
// and Errors every other answer of 400 or more.
type Stats = simkit.Stats

// Recorded is one request the sim answered, kept so contract tests can
// validate what a client sent and what it got back.
type Recorded = simkit.Recorded

// Stats returns the counters since New or the last ResetStats.
func (s *Sim) Stats() Stats { return s.meter.Stats() }

// ResetStats zeroes the counters and forgets recorded requests; it keeps
// data, tokens, faults and the rate-limit window.
func (s *Sim) ResetStats() {
	s.meter.Reset()
	s.recorder.Reset()
}

// Requests returns a copy of the recorded requests, oldest first.
func (s *Sim) Requests() []Recorded { return s.recorder.Requests() }
