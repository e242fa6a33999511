// Package cwsim is an in-process ConnectWise Manage (ConnectWise PSA) REST
// API simulator, written from the vendor's documented wire format so that the
// connectwise client, the sync engine's end-to-end tests, benchmarks and
// `psasim` can run without a real ConnectWise site.
//
// It serves the API under APIPath (/v4_6_release/apis/3.0) and imitates the
// parts of Manage a contact sync touches:
//
//   - Basic authentication as "companyId+publicKey:privateKey" plus the
//     clientId header; anything else gets 401 with the vendor's error JSON.
//   - GET/POST /company/contacts, GET/PUT/PATCH /company/contacts/{id}
//     (JSON Patch: replace, add, remove), /company/contacts/types,
//     /company/contacts/departments, /company/communicationTypes,
//     /company/companies[/{id}] (GET, and PATCH of name, website and
//     customFields), and /system/info.
//   - The fields parameter on contact and company lists (fields=id,company/id),
//     which answers only the named properties.
//   - The conditions / childConditions forms a sync uses (company/id=N,
//     inactiveFlag=true|false, id=N, communicationItems/value="x" AND
//     communicationItems/communicationType="Email", joined with AND);
//     anything else is a 400 ApiFindCondition answer.
//   - Paging up to pageSize=1000, either navigable (page=N) or forward-only
//     (request header "pagination-type: forward-only", pageId=lastId), with
//     the next page announced in the Link header.
//   - A second contact with the same email address in the same company is
//     refused with a 400 whose errors[] carries the code "ObjectExists".
//   - Fault injection (status, Retry-After, latency), request statistics
//     and a full request/response recording for contract tests.
//
// The package deliberately does not import the connectwise client: its wire
// structs are its own, so a mistake in the client's structs cannot hide.
package cwsim

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/psasync/psasync/simkit"
)

// APIPath is where the simulator serves the REST API below its root, the
// same path a cloud-hosted Manage site uses.
const APIPath = "/v4_6_release/apis/3.0"

// Default credentials the simulator accepts unless WithCredentials changes
// them; psasim writes them into the configs it generates.
const (
	// DefaultCompanyID is the Manage login company.
	DefaultCompanyID = "psasim"
	// DefaultPublicKey is the API member's public key.
	DefaultPublicKey = "SimPublicKey0001"
	// DefaultPrivateKey is the API member's private key.
	DefaultPrivateKey = "SimPrivateKey0001"
	// DefaultClientID is the developer clientId sent in the clientId header.
	DefaultClientID = "5f0c3c2e-7b1d-4c52-9a3e-c1a5e0d5e001"
)

// DefaultAPIVersion is the version the simulator answers with when the
// request's Accept header names none.
const DefaultAPIVersion = "2025.1"

// Custom field ids the simulator defines for contacts by default.
const (
	// ExternalIDFieldID is the contact custom field ("M365 Object ID") that
	// SeedContact.ExternalID is stored in unless WithExternalIDField says
	// otherwise.
	ExternalIDFieldID = 1
	// OfficeLocationFieldID is the contact custom field ("Office Location")
	// that SeedContact.OfficeLocation is stored in unless
	// WithOfficeLocationField says otherwise.
	OfficeLocationFieldID = 2
	// TenantIDFieldID is the company custom field ("M365 Tenant ID") that
	// SeedCompany's TenantID is stored in unless WithTenantIDField says
	// otherwise.
	TenantIDFieldID = 3
)

// MaxPageSize is the largest pageSize Manage honours; larger values are
// clamped to it.
const MaxPageSize = 1000

// defaultPageSize is what Manage returns when pageSize is absent.
const defaultPageSize = 25

// Sim is a simulated ConnectWise Manage site. It is an http.Handler; all
// methods are safe for concurrent use.
type Sim struct {
	simkit.Endpoint // URL, SetURL, Root: where the simulator is served
	simkit.Faults   // InjectFault, ClearFaults

	cfg config

	mu       sync.Mutex
	data     *store
	meter    simkit.Meter
	recorder *simkit.Recorder
}

// New builds a simulator with the standard communication types, a few
// contact types and the two contact custom fields, and no companies.
func New(opts ...Option) *Sim {
	cfg := config{
		companyID:       DefaultCompanyID,
		publicKey:       DefaultPublicKey,
		privateKey:      DefaultPrivateKey,
		clientID:        DefaultClientID,
		apiVersion:      DefaultAPIVersion,
		externalIDField: ExternalIDFieldID,
		officeField:     OfficeLocationFieldID,
		tenantField:     TenantIDFieldID,
	}
	for _, o := range opts {
		o(&cfg)
	}
	limit := cfg.recordLimit
	if limit == 0 {
		limit = math.MaxInt // WithRecordLimit(0), the default, keeps all (up to simkit.MaxRecordBytes)
	}
	return &Sim{cfg: cfg, data: newStore(cfg), recorder: simkit.NewRecorder(limit)}
}

// NewServer starts a simulator on an httptest server, sets URL and stops
// the server when the test ends.
func NewServer(tb testing.TB, opts ...Option) *Sim {
	tb.Helper()
	return simkit.Serve(tb, New(opts...))
}

// BaseURL is what a client's site URL should be: the server root. The
// client appends APIPath itself, as it does for a real site.
func (s *Sim) BaseURL() string { return s.Root() }

// ServeHTTP routes _sim admin endpoints and API calls.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.control().ServeHTTP(w, r)
		return
	}
	s.serveAPI(simkit.NewCapture(w), r)
}

// serveAPI runs one API call: statistics, faults, authentication, routing
// and recording.
func (s *Sim) serveAPI(w *simkit.Capture, r *http.Request) {
	body, err := simkit.ReadBody(r)
	version := requestedVersion(r.Header.Get("Accept"), s.cfg.apiVersion)
	s.meter.ReadOrWrite(r.Method)
	var f Fault
	faulty := false
	if simkit.Sleep(r.Context(), s.cfg.latency) {
		f, faulty = simkit.Strike(&s.Faults, w, r, simkit.Matching(r, ""))
	} else {
		w.Abandon()
	}
	switch {
	case w.Abandoned(): // the caller went away while we were slow
	case faulty:
		writeFault(w, f, version)
	case err != nil:
		writeError(w, version, http.StatusBadRequest, vendorError{Code: "InvalidObject", Message: "request body could not be read: " + err.Error()})
	case !s.authorized(r):
		writeError(w, version, http.StatusUnauthorized, vendorError{Code: "Unauthorized", Message: "The request could not be authenticated: check the Authorization and clientId headers."})
	default:
		s.route(w, r, body, version)
	}
	s.meter.Answered(w.Status(), false)
	s.recorder.Add(w.Recorded(r, body))
}

// requestedVersion picks the version parameter out of a versioned Accept
// header ("application/vnd.connectwise.com+json; version=2025.1").
func requestedVersion(accept, def string) string {
	for _, part := range strings.Split(accept, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok && strings.EqualFold(strings.TrimSpace(k), "version") {
			if v = strings.Trim(strings.TrimSpace(v), `"`); v != "" {
				return v
			}
		}
	}
	return def
}

// mediaType is the Content-Type Manage answers with for a version.
func mediaType(version string) string {
	return "application/vnd.connectwise.com+json; version=" + version
}
