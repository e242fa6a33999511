package halosim

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// Fault makes matching requests fail or slow down. Faults apply to API,
// authinfo and token requests, never to /_sim; paths match ignoring case,
// as Halo routes do. A fault without a Body answers with the text Halo
// would send for its Status.
type Fault = simkit.Fault

// control answers the /_sim endpoints.
func (s *Sim) control() simkit.Control {
	return simkit.Control{Faults: &s.Faults, Stats: func() any { return s.Stats() }, ResetStats: s.ResetStats}
}

// writeFault answers with an injected fault: its own body (JSON when it is
// an object or array, text otherwise) or Halo's text for the status.
func writeFault(w http.ResponseWriter, f Fault) {
	ct := "text/plain; charset=utf-8"
	if json.Valid([]byte(f.Body)) && (strings.HasPrefix(f.Body, "{") || strings.HasPrefix(f.Body, "[")) {
		ct = "application/json; charset=utf-8"
	}
	if !f.WriteRaw(w, ct) {
		writeText(w, f.Status, defaultFaultBody(f.Status))
	}
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
