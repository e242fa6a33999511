package atsim

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// Authentication failure texts. Autotask answers a wrong secret with 401 but
// an unknown user name or integration code with 500 (observed by community
// clients); the wording is the simulator's own.
const (
	authFailedSecret   = "Authentication failed: the UserName and Secret do not match an active API user."
	authFailedMissing  = "Authentication failed: the ApiIntegrationCode, UserName and Secret headers are required."
	authFailedUser     = "Authentication failed: the UserName is not a known API user."
	authFailedCode     = "Authentication failed: the ApiIntegrationCode is not a valid tracking identifier."
	authFailedImperson = "Authentication failed: ImpersonationResourceId must be a resource id."
)

// ServeHTTP answers the REST API, the zone lookup and the /_sim endpoints.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.control().ServeHTTP(w, r)
		return
	}
	rec := simkit.NewCapture(w)
	body, err := simkit.ReadBody(r)
	if err != nil {
		writeJSON(rec, simkit.BodyStatus(err), errorsBody("The request body could not be read: "+err.Error()))
	} else {
		s.serveAPI(rec, r, body)
	}
	s.meter.Answered(rec.Status(), rec.Status() < 300 && hasErrorsArray(rec.Body()))
	s.recorder.Add(rec.Recorded(r, body))
}

// hasErrorsArray reports whether an answer carries a non-empty errors array.
func hasErrorsArray(b []byte) bool {
	if !bytes.Contains(b, []byte(`"errors"`)) {
		return false
	}
	var env struct {
		Errors []json.RawMessage `json:"errors"`
	}
	return json.Unmarshal(b, &env) == nil && len(env.Errors) > 0
}

// serveAPI routes a request under /ATServicesRest/V1.0/ (any casing).
func (s *Sim) serveAPI(w *simkit.Capture, r *http.Request, body []byte) {
	rest, ok := cutPrefixFold(r.URL.Path, "/atservicesrest/")
	if !ok {
		writeJSON(w, http.StatusNotFound, errorsBody("No HTTP resource was found that matches the request URI."))
		return
	}
	rest, ok = cutPrefixFold(rest, "v1.0/")
	if !ok {
		writeJSON(w, http.StatusNotFound, errorsBody("No HTTP resource was found that matches the request URI."))
		return
	}
	segs := strings.Split(strings.Trim(rest, "/"), "/")

	if len(segs) == 1 && strings.EqualFold(segs[0], "zoneInformation") {
		if s.serveFault(w, r, true) {
			return
		}
		s.zoneInformation(w, r)
		return
	}

	code, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	write := r.Method == http.MethodPatch || r.Method == http.MethodPut || r.Method == http.MethodDelete ||
		(r.Method == http.MethodPost && !isQuery(segs))
	if write {
		s.meter.Write()
	} else {
		s.meter.Read()
	}

	used, admitted := s.quota.admit(s.cfg.now())
	if !admitted {
		writeJSON(w, http.StatusTooManyRequests, errorsBody(QuotaExceededError))
		return
	}
	release, ok := s.threads.acquire(strings.ToLower(code) + "|" + endpointOf(segs))
	if !ok {
		s.countLimit(func(c *limitCounts) { c.threadLimited++ })
		writeJSON(w, http.StatusTooManyRequests, errorsBody(ThreadLimitError))
		return
	}
	defer release()
	if d := usageLatency(used, s.cfg.hourlyLimit, s.cfg.latencyScale); d > 0 {
		s.countLimit(func(c *limitCounts) { c.delayed++ })
		if !simkit.Sleep(r.Context(), d) {
			w.Abandon()
			return
		}
	}
	if s.serveFault(w, r, false) {
		return
	}
	s.route(w, r, segs, body)
}

// serveFault answers r from a matching fault; it reports whether it did
// (or the client left while the fault delayed it). zone marks the zone
// lookup, which only faults naming its path hit.
func (s *Sim) serveFault(w *simkit.Capture, r *http.Request, zone bool) bool {
	matches := simkit.Matching(r, "")
	f, ok := simkit.Strike(&s.Faults, w, r, func(f Fault) bool { return (!zone || f.PathContains != "") && matches(f) })
	if !ok {
		return w.Abandoned()
	}
	if !f.WriteRaw(w, "application/json; charset=utf-8") {
		writeJSON(w, f.Status, defaultFaultBody(f.Status))
	}
	return true
}

// authenticate checks the API user headers as Autotask does and returns the
// integration code the thread limit is counted for.
func (s *Sim) authenticate(w http.ResponseWriter, r *http.Request) (string, bool) {
	user, secret, code := r.Header.Get("UserName"), r.Header.Get("Secret"), r.Header.Get("ApiIntegrationCode")
	switch {
	case user == "" || secret == "" || code == "":
		writeJSON(w, http.StatusUnauthorized, errorsBody(authFailedMissing))
	case !strings.EqualFold(user, s.cfg.username):
		writeJSON(w, http.StatusInternalServerError, errorsBody(authFailedUser))
	case secret != s.cfg.secret:
		writeJSON(w, http.StatusUnauthorized, errorsBody(authFailedSecret))
	case code != s.cfg.integrationCode:
		writeJSON(w, http.StatusInternalServerError, errorsBody(authFailedCode))
	default:
		if imp := r.Header.Get("ImpersonationResourceId"); imp != "" {
			if n, err := strconv.ParseInt(imp, 10, 64); err != nil || n <= 0 {
				writeJSON(w, http.StatusInternalServerError, errorsBody(authFailedImperson))
				return "", false
			}
		}
		return code, true
	}
	return "", false
}

// isQuery reports whether segs name a query endpoint (reads even as POST).
func isQuery(segs []string) bool {
	for _, s := range segs[1:] {
		if strings.EqualFold(s, "query") {
			return true
		}
	}
	return false
}

// endpointOf names the object endpoint a request is thread-limited under:
// the entity, with Companies/{id}/Contacts counted as Contacts.
func endpointOf(segs []string) string {
	if len(segs) >= 3 && strings.EqualFold(segs[0], "companies") && isID(segs[1]) {
		return strings.ToLower(segs[2])
	}
	return strings.ToLower(segs[0])
}

func isID(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

func methodNotAllowed(w http.ResponseWriter, method string) {
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{
		"message": "The requested resource does not support http method '" + method + "'.",
	})
}

func notFoundRoute(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, errorsBody("No HTTP resource was found that matches the request URI."))
}

// route dispatches an admitted request to its handler.
func (s *Sim) route(w http.ResponseWriter, r *http.Request, segs []string, body []byte) {
	entity := strings.ToLower(segs[0])
	switch {
	case entity == "thresholdinformation" && len(segs) == 1:
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r.Method)
			return
		}
		s.thresholdInformation(w)
	case (entity == "contacts" || entity == "companies") && len(segs) >= 2 && strings.EqualFold(segs[1], "query"):
		s.serveQuery(w, r, entity, segs[2:], body)
	case entity == "contacts" && len(segs) == 2 && isID(segs[1]):
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r.Method)
			return
		}
		s.getContact(w, segs[1])
	case entity == "companies" && len(segs) == 1:
		if r.Method != http.MethodPatch {
			methodNotAllowed(w, r.Method)
			return
		}
		s.patchCompany(w, body)
	case entity == "companies" && len(segs) == 2 && isID(segs[1]):
		if r.Method != http.MethodGet {
			methodNotAllowed(w, r.Method)
			return
		}
		s.getCompany(w, segs[1])
	case entity == "companies" && len(segs) == 3 && isID(segs[1]) && strings.EqualFold(segs[2], "contacts"):
		parent, _ := strconv.ParseInt(segs[1], 10, 64)
		switch r.Method {
		case http.MethodPost:
			s.createContact(w, parent, body)
		case http.MethodPatch:
			s.patchContact(w, parent, body)
		default:
			methodNotAllowed(w, r.Method)
		}
	default:
		notFoundRoute(w)
	}
}
