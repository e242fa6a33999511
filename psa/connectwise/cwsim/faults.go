package cwsim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/psasync/psasync/simkit"
)

// Fault makes matching API requests fail or slow down, to imitate quotas,
// outages and distant sites. A fault without a Body answers with Manage's
// error JSON for its Status (its Code, when set, replaces the usual code).
type Fault = simkit.Fault

// Stats counts API calls since New or ResetStats: reads are GETs, writes
// are POST, PUT, PATCH and DELETE calls.
type Stats = simkit.Stats

// Recorded is one API call as the simulator saw and answered it.
type Recorded = simkit.Recorded

// Stats returns the counters.
func (s *Sim) Stats() Stats { return s.meter.Stats() }

// ResetStats sets every counter back to zero.
func (s *Sim) ResetStats() { s.meter.Reset() }

// Requests returns the recorded API calls, oldest first.
func (s *Sim) Requests() []Recorded { return s.recorder.Requests() }

// ResetRequests forgets the recorded API calls.
func (s *Sim) ResetRequests() { s.recorder.Reset() }

// control answers the /_sim endpoints.
func (s *Sim) control() simkit.Control {
	return simkit.Control{Faults: &s.Faults, Stats: func() any { return s.Stats() }, ResetStats: s.ResetStats}
}

// writeFault answers with an injected fault's status, Retry-After and body.
func writeFault(w http.ResponseWriter, f Fault, version string) {
	ct := mediaType(version)
	if !json.Valid([]byte(f.Body)) {
		ct = "text/html; charset=utf-8"
	}
	if f.WriteRaw(w, ct) {
		return
	}
	body := defaultFaultBody(f.Status)
	if f.Code != "" {
		body.Code = f.Code
	}
	writeError(w, version, f.Status, body)
}

// authorized checks Basic "companyId+publicKey:privateKey" and the
// clientId header in constant time.
func (s *Sim) authorized(r *http.Request) bool {
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.cfg.companyID+"+"+s.cfg.publicKey+":"+s.cfg.privateKey))
	okAuth := subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) == 1
	okClient := subtle.ConstantTimeCompare([]byte(r.Header.Get("clientId")), []byte(s.cfg.clientID)) == 1
	return okAuth && okClient
}

func nowUTC() time.Time { return time.Now().UTC() }
