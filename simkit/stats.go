package simkit

import (
	"net/http"
	"sync"
)

// Stats are the request counts every simulator reports on /_sim/stats, so
// that tests and benchmarks can say what a run cost the vendor. Simulators
// with more to count embed it.
type Stats struct {
	// Reads are API reads (what a read is depends on the vendor: Autotask
	// queries are POSTs).
	Reads int `json:"reads"`
	// Writes are API creates and updates.
	Writes int `json:"writes"`
	// Requests are all answered API calls; /_sim calls are not counted.
	Requests int `json:"requests"`
	// Throttled are calls answered 429.
	Throttled int `json:"throttled"`
	// Errors are calls answered with another status of 400 or above (or a
	// failure inside a success, where the vendor does that).
	Errors int `json:"errors"`
}

// Meter keeps a simulator's Stats; the zero value is ready and it is safe
// for concurrent use.
type Meter struct {
	mu    sync.Mutex
	stats Stats
}

// Read counts one API read.
func (m *Meter) Read() { m.add(func(s *Stats) { s.Reads++ }) }

// Write counts one API write.
func (m *Meter) Write() { m.add(func(s *Stats) { s.Writes++ }) }

// ReadOrWrite counts a call by its method: GET and HEAD read, anything else
// writes.
func (m *Meter) ReadOrWrite(method string) {
	if method == http.MethodGet || method == http.MethodHead {
		m.Read()
		return
	}
	m.Write()
}

// Answered counts one answered call by its status; failed marks a failure
// the status does not show (Autotask's errors array inside a 200).
func (m *Meter) Answered(status int, failed bool) {
	m.add(func(s *Stats) {
		s.Requests++
		switch {
		case status == http.StatusTooManyRequests:
			s.Throttled++
		case status >= 400 || failed:
			s.Errors++
		}
	})
}

// Stats returns the counts since the start or the last Reset.
func (m *Meter) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// Reset sets every count back to zero.
func (m *Meter) Reset() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.stats = Stats{}
}

func (m *Meter) add(f func(*Stats)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(&m.stats)
}
