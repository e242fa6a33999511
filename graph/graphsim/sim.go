// Package graphsim simulates the parts of Microsoft Graph and the Microsoft
// Entra ID token endpoint that psasync uses, so the real SDK (azidentity and
// msgraph-sdk-go) can be tested end to end without a tenant.
//
// It is written from Microsoft's documented wire format and imports nothing
// from package graph or the SDK: a mistake shared by client and simulator
// would otherwise pass every test.
//
// One Sim holds any number of tenants. Each tenant has its app registration
// (client id and secret, or a certificate), its users with change tracking
// for /users/delta, and its change-notification subscriptions. Tokens issued
// by the token endpoint are opaque and tied to one tenant: the bearer token
// of a Graph call decides which tenant it reads.
//
// Endpoints (Graph's wire format):
//
//	GET    /{tenant}/v2.0/.well-known/openid-configuration
//	POST   /{tenant}/oauth2/v2.0/token            client_credentials (secret or assertion)
//	GET    /v1.0/users                            $select, $top, @odata.nextLink
//	GET    /v1.0/users/{id-or-userPrincipalName}  $select
//	GET    /v1.0/users/delta                      also delta(), microsoft.graph.delta()
//	POST   /v1.0/$batch                           JSON batching, up to 20 requests
//	POST   /v1.0/subscriptions                    with the validation handshake
//	GET    /v1.0/subscriptions
//	GET    /v1.0/subscriptions/{id}               PATCH (renew), DELETE
//	POST   /v1.0/subscriptions/{id}/reauthorize
//	GET    /v1.0/tenantRelationships/delegatedAdminCustomers   $top (≤300), $select, paged
//	GET    /v1.0/contracts                        $top (≤999), $select, paged
//	GET    /v1.0/organization                     the token's tenant (see partner.go)
//
// Administration (not Graph; ?tenant= names the tenant when there are
// several):
//
//	POST   /_sim/users                 a Graph user JSON
//	GET    /_sim/users, /_sim/users/{id-or-upn}
//	PATCH  /_sim/users/{id-or-upn}     Graph user properties
//	DELETE /_sim/users/{id-or-upn}     soft delete (?permanent=true purges)
//	POST   /_sim/faults, DELETE /_sim/faults
//	GET    /_sim/stats, DELETE /_sim/stats
//	POST   /_sim/tenants/{tenant}/expire-delta | revoke-consent | grant-consent
//	POST   /_sim/tenants/{tenant}/revoke-permission?permission= | grant-permission?permission=
//	GET    /_sim/customers, POST /_sim/customers   a Customer JSON
//	GET    /_sim/subscriptions, DELETE /_sim/subscriptions/{id}
//	POST   /_sim/subscriptions/{id}/lifecycle  {"lifecycleEvent": "reauthorizationRequired"}
//
// A standalone runner calls Start (azidentity only talks to an https
// authority) and gives psasync CertificatePEM to trust, e.g. through
// graph.Config's ca_file.
package graphsim

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/psasync/psasync/simkit"
)

// Default credentials every tenant accepts unless its TenantSpec or
// WithCredentials says otherwise.
const (
	// DefaultClientID is the application (client) id of the simulated app.
	DefaultClientID = "11111111-2222-3333-4444-555555555555"
	// DefaultClientSecret is the client secret of the simulated app.
	DefaultClientSecret = "graphsim-secret"
	// DefaultPageSize is Graph's default page size for /users.
	DefaultPageSize = 100
	// MaxSubscriptionsPerAppAndTenant is Graph's cap on subscriptions.
	MaxSubscriptionsPerAppAndTenant = 100
	// MaxUserSubscriptionMinutes is the longest lifetime Graph grants a
	// subscription on users.
	MaxUserSubscriptionMinutes = 41760
	// DefaultDeltaTokenLifetime is how long a directory delta link stays
	// valid (Microsoft documents seven days).
	DefaultDeltaTokenLifetime = 7 * 24 * time.Hour
	// accessTokenLifetime is the lifetime of issued bearer tokens.
	accessTokenLifetime = time.Hour
)

// Errors returned by the Go API of the simulator.
var (
	// ErrUnknownTenant: no tenant with that id was added.
	ErrUnknownTenant = errors.New("graphsim: unknown tenant")
	// ErrAmbiguousTenant: a tenant was not named and the sim has several.
	ErrAmbiguousTenant = errors.New("graphsim: tenant not named and more than one exists")
	// ErrUserNotFound: no live user has that id or userPrincipalName.
	ErrUserNotFound = errors.New("graphsim: user not found")
	// ErrInvalid: the user or property values were refused, as Graph would.
	ErrInvalid = errors.New("graphsim: invalid request")
	// ErrSubscriptionNotFound: no subscription has that id.
	ErrSubscriptionNotFound = errors.New("graphsim: subscription not found")
)

// Sim is a simulated Microsoft Graph plus Entra ID token endpoint. It
// implements http.Handler; all methods are safe for concurrent use.
type Sim struct {
	// URL is the server root (scheme, host and port), set by NewServer or
	// Start, or by a standalone runner that serves the handler itself.
	URL string

	// Faults gives the Sim InjectFault and ClearFaults.
	simkit.Faults

	cfg    config
	mux    *http.ServeMux
	server *simkit.Server

	mu      sync.Mutex
	tenants map[string]*tenant
	order   []string // tenant ids in the order they were added
	tokens  map[string]accessToken
	counts  graphCounts
	nextSeq uint64 // id counter for generated ids

	meter    simkit.Meter
	recorder *simkit.Recorder

	delivery *deliverer
}

// config holds what the options set.
type config struct {
	clock              func() time.Time
	clientID           string
	clientSecret       string
	pageSize           int
	deltaTokenLifetime time.Duration
	recordLimit        int
	tenants            []TenantSpec
	notifyClient       *http.Client
	deliveryAttempts   int
	deliveryBackoff    time.Duration
	duplicateEvery     int
	outOfOrderWindow   time.Duration
	handshakeTimeout   time.Duration
	deliveryTimeout    time.Duration
}

// Option changes a Sim built by New or NewServer.
type Option func(*config)

// WithClock sets the clock used for subscription expiry, delta-token age and
// notification timestamps, so tests can simulate days without waiting.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithCredentials changes the client id and secret that tenants added
// without their own credentials accept.
func WithCredentials(clientID, clientSecret string) Option {
	return func(c *config) { c.clientID, c.clientSecret = clientID, clientSecret }
}

// WithPageSize sets the default page size of /users and /users/delta
// (Graph's default is 100; $top overrides it for /users).
func WithPageSize(n int) Option { return func(c *config) { c.pageSize = n } }

// WithDeltaTokenLifetime sets how long a delta link stays usable before it
// is answered with 400 syncStateNotFound.
func WithDeltaTokenLifetime(d time.Duration) Option {
	return func(c *config) { c.deltaTokenLifetime = d }
}

// WithRecordLimit bounds how many requests Requests() keeps (the newest
// win); 0 keeps none.
func WithRecordLimit(n int) Option { return func(c *config) { c.recordLimit = n } }

// WithTenant adds a tenant when the Sim is built.
func WithTenant(t TenantSpec) Option {
	return func(c *config) { c.tenants = append(c.tenants, t) }
}

// WithGeneratedTenant adds a tenant of n generated users (see Generate).
func WithGeneratedTenant(tenantID string, n int, seed int64) Option {
	return WithTenant(TenantSpec{ID: tenantID, Users: Generate(tenantID, n, seed)})
}

// WithNotificationClient sets the HTTP client used for validation
// handshakes and notification delivery (for receivers on TLS test servers).
func WithNotificationClient(c *http.Client) Option {
	return func(cfg *config) { cfg.notifyClient = c }
}

// WithDeliveryRetry bounds how often a change notification is posted when
// the receiver answers non-2xx (attempts in total, first backoff doubling
// each time). Graph itself retries for up to four hours.
func WithDeliveryRetry(attempts int, backoff time.Duration) Option {
	return func(c *config) { c.deliveryAttempts, c.deliveryBackoff = attempts, backoff }
}

// WithDuplicateDelivery posts every nth change notification twice, to test
// at-least-once handling; 0 turns it off.
func WithDuplicateDelivery(every int) Option { return func(c *config) { c.duplicateEvery = every } }

// WithOutOfOrderDelivery collects a subscription's notifications for the
// window and posts each collected batch in reverse order.
func WithOutOfOrderDelivery(window time.Duration) Option {
	return func(c *config) { c.outOfOrderWindow = window }
}

// WithHandshakeTimeout changes how long the validation handshake waits for
// the receiver (Graph: 10 seconds).
func WithHandshakeTimeout(d time.Duration) Option {
	return func(c *config) { c.handshakeTimeout = d }
}

// New builds a Sim. It serves nothing until it is mounted on a server;
// NewServer and Start do that.
func New(opts ...Option) *Sim {
	cfg := config{
		clock:              time.Now,
		clientID:           DefaultClientID,
		clientSecret:       DefaultClientSecret,
		pageSize:           DefaultPageSize,
		deltaTokenLifetime: DefaultDeltaTokenLifetime,
		recordLimit:        10000,
		deliveryAttempts:   4,
		deliveryBackoff:    50 * time.Millisecond,
		handshakeTimeout:   10 * time.Second,
		deliveryTimeout:    10 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.pageSize <= 0 {
		cfg.pageSize = DefaultPageSize
	}
	if cfg.deliveryAttempts <= 0 {
		cfg.deliveryAttempts = 1
	}
	if cfg.notifyClient == nil {
		cfg.notifyClient = &http.Client{}
	}
	s := &Sim{
		cfg:      cfg,
		tenants:  make(map[string]*tenant),
		tokens:   make(map[string]accessToken),
		recorder: simkit.NewRecorder(cfg.recordLimit),
	}
	s.delivery = newDeliverer(s)
	s.routes()
	for _, t := range cfg.tenants {
		if err := s.AddTenant(t); err != nil {
			panic(fmt.Sprintf("graphsim: option WithTenant: %v", err))
		}
	}
	return s
}

// NewServer starts a Sim on a local TLS test server (azidentity insists on
// https for the authority), sets URL and closes everything at the end of
// the test.
func NewServer(tb testing.TB, opts ...Option) *Sim {
	tb.Helper()
	s := New(opts...)
	if err := s.Start("127.0.0.1:0"); err != nil {
		tb.Fatalf("graphsim: start: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Start serves the Sim over TLS on addr (host:port, port 0 picks one) with
// a self-signed certificate; CertificatePEM and HTTPClient give a client
// what it needs to trust it.
func (s *Sim) Start(addr string) error {
	srv, err := simkit.StartTLS(addr, s)
	if err != nil {
		return fmt.Errorf("graphsim: %w", err)
	}
	s.mu.Lock()
	s.server = srv
	s.URL = srv.URL
	s.mu.Unlock()
	return nil
}

// Close stops notification delivery (waiting for posts in flight) and the
// server started by NewServer or Start.
func (s *Sim) Close() {
	s.delivery.close()
	s.mu.Lock()
	srv := s.server
	s.server = nil
	s.mu.Unlock()
	if srv != nil {
		srv.Close()
	}
}

// BaseURL is the Graph base URL a client's config needs (<URL>/v1.0).
func (s *Sim) BaseURL() string { return s.rootURL() + "/v1.0" }

// AuthorityHost is the Entra ID authority host a client's config needs.
func (s *Sim) AuthorityHost() string { return s.rootURL() + "/" }

func (s *Sim) rootURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimRight(s.URL, "/")
}

// GraphConfig returns what a Graph client needs to reach tenantID through
// this Sim: authority host, base URL and the tenant's app credentials.
func (s *Sim) GraphConfig(tenantID string) (authorityHost, baseURL, clientID, clientSecret string) {
	s.mu.Lock()
	t := s.tenants[tenantID]
	s.mu.Unlock()
	clientID, clientSecret = s.cfg.clientID, s.cfg.clientSecret
	if t != nil {
		clientID, clientSecret = t.clientID, t.clientSecret
	}
	return s.AuthorityHost(), s.BaseURL(), clientID, clientSecret
}

// HTTPClient returns a client that trusts the Sim's TLS certificate (only
// after NewServer or Start).
func (s *Sim) HTTPClient() *http.Client {
	s.mu.Lock()
	srv := s.server
	s.mu.Unlock()
	if srv == nil {
		return &http.Client{}
	}
	return srv.Client()
}

// CertificatePEM returns the server certificate in PEM form, for processes
// that must trust a standalone Sim (nil before Start).
func (s *Sim) CertificatePEM() []byte {
	s.mu.Lock()
	srv := s.server
	s.mu.Unlock()
	if srv == nil {
		return nil
	}
	return srv.CertificatePEM()
}

// WaitDeliveries blocks until every queued change notification has been
// posted (or given up on), or ctx ends.
func (s *Sim) WaitDeliveries(ctx context.Context) error { return s.delivery.wait(ctx) }

func (s *Sim) now() time.Time { return s.cfg.clock().UTC() }

// ServeHTTP answers Graph, token and /_sim requests.
func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_sim/") {
		s.mux.ServeHTTP(w, r)
		return
	}
	body, err := readBody(r)
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec := simkit.NewCapture(w)
	if !s.applyFault(rec, r) {
		s.mux.ServeHTTP(rec, r)
	}
	s.account(r, body, rec)
}

// readBody reads a bounded request body, undoing the gzip content encoding
// the Graph SDK applies to request bodies (Graph accepts it).
func readBody(r *http.Request) ([]byte, error) {
	raw, err := simkit.ReadBody(r)
	if err != nil || len(raw) == 0 || !strings.EqualFold(r.Header.Get("Content-Encoding"), "gzip") {
		return raw, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	defer zr.Close()
	plain, err := io.ReadAll(io.LimitReader(zr, simkit.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("gzip body: %w", err)
	}
	if len(plain) > simkit.MaxBody {
		return nil, simkit.ErrBodyTooLarge
	}
	r.Header.Del("Content-Encoding")
	return plain, nil
}
