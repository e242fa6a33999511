// Package halosim is an in-memory HaloPSA instance for tests, demos and
// benchmarks. It speaks Halo's documented wire format (OAuth2 client
// credentials on {instance}/auth/token, /api/authinfo discovery, bearer
// tokens on /api, Users and Client resources (Client with website and
// azure_tenants, written back by POST /api/Client) with pageinate/page_size/page_no
// paging and record_count envelopes, create and update through POST of a JSON
// array) and enforces hosted Halo's rolling request limit. It is written from
// Halo's API documentation and shares no code or types with package halopsa,
// so a mistake in the client's idea of the wire format fails its tests.
//
// Where Halo's documentation is silent the sim makes a choice and says so:
//   - Two users of one client with the same email address (ignoring case,
//     inactive users included) are refused with 400 and the message
//     DuplicateEmailMessage; WithDuplicateEmailsAllowed turns that off.
//   - Error bodies for 400/404/429 are plain text messages; the token
//     endpoint answers OAuth2 JSON errors ({"error":"invalid_client"}).
//   - Only accepted requests count toward the rolling window; every 429
//     carries Retry-After with the seconds until the oldest counted request
//     leaves the window.
//   - Paths are matched ignoring case, as Halo's ASP.NET routing does.
package halosim

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psasync/psasync/simkit"
)

// Sim is one simulated Halo instance. It implements http.Handler; all methods
// are safe for concurrent use.
type Sim struct {
	simkit.Endpoint // URL, SetURL, Root: where the simulator is served
	simkit.Faults   // InjectFault, ClearFaults

	cfg settings

	mu         sync.Mutex
	companies  map[int]*company
	sites      map[int]*site
	users      map[int]*user
	nextUserID int
	nextSiteID int
	// companyIDs numbers companies seeded without an id.
	companyIDs simkit.FreeIDs
	// nextTenantRow numbers azure_tenants entries.
	nextTenantRow int
	tokens        map[string]time.Time
	window        []time.Time

	meter    simkit.Meter
	recorder *simkit.Recorder
}

// New builds a simulator with no companies or users.
func New(opts ...Option) *Sim {
	cfg := defaultSettings()
	for _, o := range opts {
		o(&cfg)
	}
	return &Sim{
		cfg:        cfg,
		companies:  map[int]*company{},
		sites:      map[int]*site{},
		users:      map[int]*user{},
		nextUserID: 1,
		nextSiteID: 1,
		tokens:     map[string]time.Time{},
		recorder:   simkit.NewRecorder(cfg.recordLimit),
	}
}

// NewServer starts a simulator on an httptest server that tb closes at
// cleanup, and sets URL.
func NewServer(tb testing.TB, opts ...Option) *Sim {
	tb.Helper()
	return simkit.Serve(tb, New(opts...))
}

// BaseURL is what a client's config takes as the instance URL: the server
// root, under which /api and /auth live.
func (s *Sim) BaseURL() string { return s.Root() }

// ServeHTTP answers Halo API, auth and /_sim control requests.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	lower := strings.ToLower(r.URL.Path)
	if strings.HasPrefix(lower, "/_sim/") {
		s.control().ServeHTTP(w, r)
		return
	}
	rec := simkit.NewCapture(w)
	body, err := simkit.ReadBody(r)
	if err != nil {
		writeText(rec, simkit.BodyStatus(err), "Request body: "+err.Error())
	} else {
		s.serveVendor(rec, r, lower, body)
	}
	s.meter.Answered(rec.Status(), false)
	s.recorder.Add(rec.Recorded(r, body))
}

// serveVendor runs faults, the rate limit and routing for one request.
func (s *Sim) serveVendor(w *simkit.Capture, r *http.Request, lower string, body []byte) {
	if f, ok := simkit.Strike(&s.Faults, w, r, simkit.Matching(r, "")); ok {
		writeFault(w, f)
		return
	}
	if w.Abandoned() {
		return // nobody is listening any more
	}

	isAPI := lower == "/api" || strings.HasPrefix(lower, "/api/")
	if isAPI {
		if wait, limited := s.allow(); limited {
			w.Header().Set("Retry-After", retryAfterSeconds(wait))
			writeText(w, http.StatusTooManyRequests, rateLimitMessage(s.cfg.rateLimit, s.cfg.rateWindow))
			return
		}
	}

	authToken := strings.ToLower(s.cfg.authPath) + "/token"
	switch {
	case lower == authToken:
		s.handleToken(w, r, body)
	case lower == "/api/authinfo":
		s.handleAuthInfo(w, r)
	case isAPI:
		if !s.authorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		s.routeAPI(w, r, strings.TrimPrefix(lower, "/api"), body)
	default:
		writeText(w, http.StatusNotFound, "The resource you are looking for has been removed, had its name changed, or is temporarily unavailable.")
	}
}

// routeAPI dispatches an authenticated /api request; path is lower-case and
// without the /api prefix.
func (s *Sim) routeAPI(w http.ResponseWriter, r *http.Request, path string, body []byte) {
	segs := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case len(segs) == 1 && segs[0] == "users":
		switch r.Method {
		case http.MethodGet:
			s.listUsers(w, r)
		case http.MethodPost:
			s.postUsers(w, body)
		default:
			writeText(w, http.StatusMethodNotAllowed, "The requested resource does not support http method '"+r.Method+"'.")
		}
	case len(segs) == 2 && segs[0] == "users" && r.Method == http.MethodGet:
		s.getUser(w, segs[1])
	case len(segs) == 1 && segs[0] == "client" && r.Method == http.MethodGet:
		s.listCompanies(w, r)
	case len(segs) == 1 && segs[0] == "client" && r.Method == http.MethodPost:
		s.postCompanies(w, body)
	case len(segs) == 2 && segs[0] == "client" && r.Method == http.MethodGet:
		s.getCompany(w, r, segs[1])
	default:
		writeText(w, http.StatusNotFound, "No HTTP resource was found that matches the request URI.")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeText(w, http.StatusInternalServerError, "An error has occurred.")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeText(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, msg)
}
