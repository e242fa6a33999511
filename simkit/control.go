package simkit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Control answers the /_sim endpoints every simulator has, so that psasim
// users and tests drive any simulator the same way over HTTP:
//
//	GET    /_sim/stats    the simulator's counts as JSON
//	DELETE /_sim/stats    resets them
//	POST   /_sim/faults   a Fault as JSON, latency given as latency_ms
//	DELETE /_sim/faults   clears every fault
//
// Anything else under /_sim is 404, unless the simulator routes it first.
// Errors are JSON {"error": "..."}.
type Control struct {
	// Faults is where posted faults go.
	Faults *Faults
	// Stats returns what GET /_sim/stats shows.
	Stats func() any
	// ResetStats is what DELETE /_sim/stats does.
	ResetStats func()
	// SuccessFaults lets a fault answer a 2xx status, for vendors that
	// report failures inside a 200 (Autotask).
	SuccessFaults bool
}

// faultJSON is a Fault over HTTP.
type faultJSON struct {
	Fault
	LatencyMS int `json:"latency_ms"`
}

// ServeHTTP answers one /_sim request; paths are matched ignoring case.
func (c Control) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := strings.ToLower(r.URL.Path)
	switch {
	case path == "/_sim/stats" && r.Method == http.MethodGet:
		writeControl(w, http.StatusOK, c.Stats())
	case path == "/_sim/stats" && r.Method == http.MethodDelete:
		c.ResetStats()
		w.WriteHeader(http.StatusNoContent)
	case path == "/_sim/faults" && r.Method == http.MethodPost:
		f, err := c.decodeFault(r)
		if err != nil {
			writeControl(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		c.Faults.InjectFault(f)
		w.WriteHeader(http.StatusNoContent)
	case path == "/_sim/faults" && r.Method == http.MethodDelete:
		c.Faults.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	default:
		writeControl(w, http.StatusNotFound, map[string]string{"error": "unknown simulator endpoint " + r.Method + " " + r.URL.Path})
	}
}

// decodeFault reads and checks a posted fault.
func (c Control) decodeFault(r *http.Request) (Fault, error) {
	var fj faultJSON
	dec := json.NewDecoder(io.LimitReader(r.Body, MaxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fj); err != nil {
		return Fault{}, fmt.Errorf("fault JSON: %w", err)
	}
	f := fj.Fault
	low := 400
	if c.SuccessFaults {
		low = 200
	}
	switch {
	case f.Status != 0 && (f.Status < low || f.Status > 599):
		return Fault{}, fmt.Errorf("fault: status must be 0 or %d-599, got %d", low, f.Status)
	case f.Count < 0 || fj.LatencyMS < 0:
		return Fault{}, fmt.Errorf("fault: count and latency_ms must not be negative")
	case f.Status == 0 && fj.LatencyMS == 0:
		return Fault{}, fmt.Errorf("fault: a fault needs a status or a latency_ms")
	}
	f.Latency = time.Duration(fj.LatencyMS) * time.Millisecond
	return f, nil
}

func writeControl(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
