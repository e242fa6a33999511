// Package atsim is an in-memory Autotask PSA REST API (v1.0) simulator for
// tests, demos and benchmarks. It is written from Autotask's documented wire
// format (and what community clients observed where the documentation is
// silent) and shares no code or types with the psa/autotask client, so a
// client mistake cannot hide behind a shared struct.
//
// What it serves, under /ATServicesRest/V1.0/ (matched case-insensitively, as
// IIS does):
//
//   - zoneInformation?user=... (also under the lower-case
//     /atservicesrest/v1.0/ that clients use for the zone host); it answers the
//     simulator's own URL as the zone URL.
//   - Contacts/{id}, Contacts/query, Contacts/query/next, Contacts/query/count
//   - Companies/{id}, Companies/query, Companies/query/next, PATCH Companies
//     (the company's id in the body; companyName, webAddress, isActive and
//     company UDFs),
//     POST and PATCH Companies/{companyID}/Contacts (the child URL writes go to)
//   - ThresholdInformation
//
// Vendor limits are on by default and enforced as Autotask documents them:
// 10,000 requests per rolling hour per database, with added latency past 50%
// (0.5 s) and 75% (1 s) of it and an HTTP 429 past 100%, and at most 3
// concurrent requests per API tracking identifier (integration code) and
// object endpoint, the 4th failing at once with HTTP 429 and the thread
// threshold text. WithClock and WithLatencyScale keep tests fast.
//
// Choices made where the vendor's text is not public (the run report and the
// client rely on them, so they are listed): the duplicate-email rejection
// (DuplicateEmailError), the hourly-threshold text (QuotaExceededError), the
// authentication failure texts, HTTP 404 for a write under a company that does
// not exist, and strict rejection of unknown fields in write bodies (Autotask
// itself may ignore them).
package atsim

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/psasync/psasync/simkit"
)

// Default credentials the simulator accepts unless WithCredentials changes them.
const (
	DefaultUsername        = "psasync-api@example.com"
	DefaultSecret          = "sim-secret"
	DefaultIntegrationCode = "PSASYNCSIMCODE"
)

// Vendor limits as Autotask documents them; options change them per simulator.
const (
	// DefaultHourlyLimit is Autotask's external request threshold per
	// database and rolling 60 minutes.
	DefaultHourlyLimit = 10000
	// DefaultThreadLimit is the concurrent request limit per integration
	// code and object endpoint for integrations created after 2023.1.
	DefaultThreadLimit = 3
	// MaxRecords is the largest page a query may ask for.
	MaxRecords = 500
	// ThresholdTimeframeMinutes is the rolling window ThresholdInformation
	// reports.
	ThresholdTimeframeMinutes = 60
)

// Names of the contact user-defined fields that SeedContact's Department,
// OfficeLocation and ContactType map to (Autotask contacts have no native
// field for them). WithUDFNames changes them.
const (
	DefaultDepartmentUDF     = "Department"
	DefaultOfficeLocationUDF = "Office Location"
	DefaultContactTypeUDF    = "Contact Type"
)

// DefaultTenantIDUDF is the company UDF SeedCompany's TenantID is stored in
// (WithTenantIDUDF changes it): the MSP defines it under Admin > Features &
// Settings > User-Defined Fields for companies.
const DefaultTenantIDUDF = "M365 Tenant ID"

// Error texts the simulator answers with. ThreadLimitError is the text
// Autotask returns (as quoted by several community clients); the others are
// the simulator's own wording, since Autotask does not publish them.
const (
	// ThreadLimitError answers the 4th concurrent request to one endpoint.
	ThreadLimitError = "API thread threshold of 3 threads has been exceeded"
	// QuotaExceededError answers requests past the hourly threshold.
	QuotaExceededError = "Request threshold exceeded: the database has used its external request threshold for the current 60 minute timeframe"
)

// Sim is a simulated Autotask database behind the REST API. It implements
// http.Handler; all methods are safe for concurrent use.
type Sim struct {
	// URL is empty until the simulator is served; answers then build URLs
	// from the request's Host.
	simkit.Endpoint // URL, SetURL, Root: where the simulator is served
	simkit.Faults   // InjectFault, ClearFaults

	cfg config

	mu        sync.Mutex
	companies map[int64]*company
	contacts  map[int64]*contact
	nextID    int64

	quota   *quotaWindow
	threads *threadLimiter

	meter    simkit.Meter
	recorder *simkit.Recorder
	limitMu  sync.Mutex
	limits   limitCounts
}

type config struct {
	username, secret, integrationCode string
	hourlyLimit                       int
	threadLimit                       int
	now                               func() time.Time
	latencyScale                      float64
	departmentUDF                     string
	officeLocationUDF                 string
	contactTypeUDF                    string
	extraUDFs                         []string
	// companyUDFs are the company UDFs defined in this database.
	companyUDFs          []string
	allowDuplicateEmails bool
	recordLimit          int
}

// New builds an empty simulator; add companies and contacts with AddCompany
// and SeedContact.
func New(opts ...Option) *Sim {
	cfg := config{
		username:          DefaultUsername,
		secret:            DefaultSecret,
		integrationCode:   DefaultIntegrationCode,
		hourlyLimit:       DefaultHourlyLimit,
		threadLimit:       DefaultThreadLimit,
		now:               time.Now,
		latencyScale:      1,
		departmentUDF:     DefaultDepartmentUDF,
		officeLocationUDF: DefaultOfficeLocationUDF,
		contactTypeUDF:    DefaultContactTypeUDF,
		companyUDFs:       []string{DefaultTenantIDUDF},
		recordLimit:       10000,
	}
	for _, o := range opts {
		o(&cfg)
	}
	return &Sim{
		cfg:       cfg,
		companies: make(map[int64]*company),
		contacts:  make(map[int64]*contact),
		nextID:    30000000,
		quota:     &quotaWindow{limit: cfg.hourlyLimit, window: time.Hour},
		threads:   &threadLimiter{limit: cfg.threadLimit, inFlight: make(map[string]int)},
		recorder:  simkit.NewRecorder(cfg.recordLimit),
	}
}

// NewServer starts a simulator on an httptest server (plain HTTP: the
// Autotask client does not insist on TLS), closes it when tb ends, and sets
// URL.
func NewServer(tb testing.TB, opts ...Option) *Sim {
	tb.Helper()
	return simkit.Serve(tb, New(opts...))
}

// BaseURL is what the client's ZoneURL setting needs: the zone-lookup root
// (like https://webservices.autotask.net/atservicesrest).
func (s *Sim) BaseURL() string {
	return s.Root() + "/atservicesrest"
}

// ZoneURL is the API root the simulator's zoneInformation answers with; API
// calls go to ZoneURL()+"V1.0/...".
func (s *Sim) ZoneURL() string {
	return s.Root() + "/ATServicesRest/"
}

// root returns the server root for URLs in answers.
func (s *Sim) root(r *http.Request) string {
	if s.URL != "" {
		return s.Root()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}
