// Package webhook is psasync's HTTP front, one gin engine serving:
//
//	POST /webhook/graph            Graph handshake and change notifications
//	POST /webhook/graph/lifecycle  Graph handshake and lifecycle notifications
//	POST /api/v1/sync              start a run (bearer token)
//	GET  /api/v1/runs[/{id}]       read runs (bearer token); filtered from the run history when set
//	GET  /api/v1/changes           the change log, JSON or CSV (bearer token)
//	GET  /api/v1/conflicts, held, quarantine  what waits for an operator (bearer token)
//	POST /api/v1/conflicts/{tenant}/{user}/resolve|ignore, /held/{batch}/approve|reject,
//	     /quarantine/{tenant}[/users/{user}]/release, /tenants/{tenant}/users/{user}/sync
//	                               an operator's actions (bearer token)
//	GET  /api/v1/tenants/discovered, /api/v1/tenants/export;
//	POST /api/v1/tenants/discover, /api/v1/tenants/{tenant}/accept|reject
//	                               onboarding (bearer token)
//	GET  /healthz, /readyz         liveness, readiness (Redis)
//	GET  /metrics                  Prometheus
//	ANY  /monitoring/*any          the asynq UI (bearer token, Basic auth or a console session)
//	ANY  /ui/*any                  the web console (Config.UI, its own sign-in)
//
// The notification path never calls Graph or a PSA: it authenticates each
// item (known subscription, clientState compared in constant time, tenant),
// hands the accepted ones to the Enqueuer in one call per kind (user changes,
// lifecycle events) and answers 202 only once that returned nil. Rejected
// items are dropped, counted by reason and still answered 202 (so Graph does
// not redeliver forged or stale notifications); a failing store or queue is
// answered 503 so Graph does redeliver. The 202 body is empty, so a forger
// learns nothing about which check failed.
//
// Authentication: the webhook routes are open (Graph cannot send a token)
// and rely on clientState. /api requires Config.APIToken as a bearer token;
// /monitoring accepts that bearer token, Basic auth with the token as
// password (any user name, so a browser can open the UI), or the optional
// MonitoringBasicAuth pair. Without an APIToken the API answers 404, and
// without any credential the monitoring UI answers 404: these routes are
// never open. The optional ReadToken is accepted wherever APIToken is, for
// GET and HEAD only: it reads everything and changes nothing. A console
// session (Config.Session) opens /monitoring too, a read-only one for GET
// and HEAD only. /healthz, /readyz and /metrics are unauthenticated;
// restrict them at the network layer if needed.
package webhook

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

// Defaults applied by New to zero Config fields.
const (
	// DefaultMaxBodyBytes bounds a request body (1 MiB): Graph batches are
	// far smaller, and the bound keeps a hostile POST cheap.
	DefaultMaxBodyBytes int64 = 1 << 20
	// DefaultHandlerTimeout bounds subscription lookups plus the enqueue of
	// one POST; past it the answer is 503, well before Graph's 10 s drop.
	DefaultHandlerTimeout = 5 * time.Second
	// DefaultReadyTimeout bounds the readiness check.
	DefaultReadyTimeout = 2 * time.Second
	// MinAPITokenLength is the shortest APIToken New accepts.
	MinAPITokenLength = 16
)

// BasicAuth is a user name and password pair for the monitoring UI.
type BasicAuth struct {
	// User is the expected user name.
	User string
	// Password is the expected password.
	Password string
}

// Config is everything the server needs; zero fields get the defaults
// above. Lookup and Enqueuer are required.
type Config struct {
	// Lookup finds the subscription a notification names.
	Lookup SubscriptionLookup
	// Enqueuer takes accepted notifications and lifecycle events.
	Enqueuer Enqueuer
	// Runs serves the sync and runs API; nil leaves /api unmounted (404)
	// unless a ledger dependency below is set.
	Runs Runs
	// RunHistory, when set, answers GET /api/v1/runs with its filters
	// (tenant, mode, state, since, until, cursor, limit) instead of
	// Runs.ListRuns.
	RunHistory RunHistory
	// Tenants serves the onboarding API under /api/v1/tenants; nil leaves
	// it unmounted.
	Tenants Tenants
	// ChangeLog serves GET /api/v1/changes; nil leaves it unmounted.
	ChangeLog ChangeLog
	// Decisions serves GET /api/v1/conflicts, /held and /quarantine; nil
	// leaves them unmounted.
	Decisions Decisions
	// Operator serves the operator's actions (resolve or ignore a conflict,
	// approve or reject held deactivations, release from quarantine, sync a
	// user on demand); nil leaves them unmounted.
	Operator Operator
	// APIToken is the bearer token for /api and /monitoring, at least
	// MinAPITokenLength characters; empty disables /api (404) and leaves
	// /monitoring reachable only through MonitoringBasicAuth.
	APIToken string
	// ReadToken is an optional read-only token (at least
	// MinAPITokenLength characters, not APIToken): it is accepted for GET
	// and HEAD on /api and /monitoring, and refused (403) for anything else.
	ReadToken string
	// UI is the web console, mounted at /ui/ with its own sign-in; nil
	// leaves it unmounted. It sees the client address and scheme through
	// ClientIP and RequestIsHTTPS.
	UI http.Handler
	// Session reports whether a request carries a console session, and
	// whether that session is read-only; it opens /monitoring to signed-in
	// console users. Nil: no session opens it.
	Session func(r *http.Request) (ok, readOnly bool)
	// Monitoring is the asynqmon handler, built by cmd with RootPath
	// "/monitoring" (and ReadOnly if wanted); nil leaves it unmounted.
	Monitoring http.Handler
	// MonitoringBasicAuth is an optional user and password for the UI, an
	// alternative to the bearer token that browsers can send.
	MonitoringBasicAuth *BasicAuth
	// Ready reports whether the server's dependencies (Redis) answer; nil
	// means /readyz always answers 200.
	Ready func(ctx context.Context) error
	// ReadyTimeout bounds one Ready call (default DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// Metrics is served at /metrics; nil leaves /metrics unmounted.
	Metrics prometheus.Gatherer
	// Registerer receives the webhook's own collectors; nil skips
	// registration. Use one Registerer per Server.
	Registerer prometheus.Registerer
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// HandlerTimeout bounds the lookups and enqueue of one notification
	// POST (default DefaultHandlerTimeout).
	HandlerTimeout time.Duration
	// TrustedProxies lists proxy addresses or CIDRs whose X-Forwarded-For is
	// believed for the logged client address; empty trusts none.
	TrustedProxies []string
	// Logger receives one line per request and every failure; nil discards.
	Logger logrus.FieldLogger
}

// withDefaults returns a copy of c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.HandlerTimeout == 0 {
		c.HandlerTimeout = DefaultHandlerTimeout
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = DefaultReadyTimeout
	}
	if c.Logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		c.Logger = l
	}
	return c
}

// validate refuses configurations that would run insecurely or not at all.
func (c Config) validate() error {
	var errs []error
	if c.Lookup == nil {
		errs = append(errs, errors.New("Lookup is required"))
	}
	if c.Enqueuer == nil {
		errs = append(errs, errors.New("Enqueuer is required"))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("MaxBodyBytes must be positive, got %d", c.MaxBodyBytes))
	}
	if c.HandlerTimeout < 0 {
		errs = append(errs, fmt.Errorf("HandlerTimeout must be positive, got %s", c.HandlerTimeout))
	}
	if c.ReadyTimeout < 0 {
		errs = append(errs, fmt.Errorf("ReadyTimeout must be positive, got %s", c.ReadyTimeout))
	}
	if c.APIToken != "" && len(c.APIToken) < MinAPITokenLength {
		errs = append(errs, fmt.Errorf("APIToken must be at least %d characters", MinAPITokenLength))
	}
	if c.ReadToken != "" && len(c.ReadToken) < MinAPITokenLength {
		errs = append(errs, fmt.Errorf("ReadToken must be at least %d characters", MinAPITokenLength))
	}
	if c.ReadToken != "" && c.ReadToken == c.APIToken {
		errs = append(errs, errors.New("ReadToken must differ from APIToken"))
	}
	if b := c.MonitoringBasicAuth; b != nil && (b.User == "" || b.Password == "") {
		errs = append(errs, errors.New("MonitoringBasicAuth needs both User and Password"))
	}
	if len(errs) > 0 {
		return fmt.Errorf("webhook: invalid config: %w", errors.Join(errs...))
	}
	return nil
}

// Server is the configured gin engine and its state; it is safe for
// concurrent use and immutable after New.
type Server struct {
	cfg     Config
	log     logrus.FieldLogger
	metrics *metrics
	engine  *gin.Engine

	// tokenHash is sha256(APIToken), compared in constant time; nil when no
	// token is configured. readHash is sha256(ReadToken) likewise.
	tokenHash, readHash []byte
	// basicUserHash and basicPassHash hash MonitoringBasicAuth likewise.
	basicUserHash, basicPassHash []byte

	// crossOrigin refuses cross-site unsafe requests to the monitoring UI.
	crossOrigin *http.CrossOriginProtection
	// bodies recycles request body buffers.
	bodies sync.Pool
	// idPrefix and idSeq make request ids unique per process cheaply.
	idPrefix string
	idSeq    atomic.Uint64
}

// New validates cfg, applies defaults, registers metrics and builds the
// routes. It sets gin to release mode when gin is still in debug mode, so
// the engine prints nothing of its own; all output goes through Logger.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	var prefix [4]byte
	if _, err := rand.Read(prefix[:]); err != nil {
		return nil, fmt.Errorf("webhook: request id prefix: %w", err)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		metrics:  m,
		idPrefix: hex.EncodeToString(prefix[:]),

		crossOrigin: http.NewCrossOriginProtection(),
	}
	if cfg.APIToken != "" {
		s.tokenHash = hashSecret(cfg.APIToken)
	}
	if cfg.ReadToken != "" {
		s.readHash = hashSecret(cfg.ReadToken)
	}
	if b := cfg.MonitoringBasicAuth; b != nil {
		s.basicUserHash, s.basicPassHash = hashSecret(b.User), hashSecret(b.Password)
	}
	if err := s.buildEngine(); err != nil {
		return nil, err
	}
	return s, nil
}

// Handler returns the gin engine serving every route, for an http.Server.
func (s *Server) Handler() http.Handler { return s.engine }

// buildEngine creates the gin engine and its routes.
func (s *Server) buildEngine() error {
	if gin.IsDebugging() {
		gin.SetMode(gin.ReleaseMode)
	}
	e := gin.New()
	e.HandleMethodNotAllowed = true
	if err := e.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		return fmt.Errorf("webhook: trusted proxies: %w", err)
	}
	e.Use(s.observe, s.recoverPanic)
	e.NoRoute(func(c *gin.Context) { s.writeError(c, errNotFound) })
	e.NoMethod(func(c *gin.Context) { s.writeError(c, errMethodNotAllowed) })

	e.POST("/webhook/graph", s.handleNotifications)
	e.POST("/webhook/graph/lifecycle", s.handleLifecycle)

	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	if s.cfg.Metrics != nil {
		e.GET("/metrics", s.metricsHandler())
	}

	switch {
	case s.cfg.Runs == nil && !s.cfg.hasLedgerAPI() && s.cfg.Tenants == nil:
	case s.tokenHash == nil:
		s.log.Warn("webhook: APIToken is empty, so /api/v1 is disabled (404)")
	default:
		api := e.Group("/api/v1", s.requireBearer)
		if s.cfg.Runs != nil {
			api.POST("/sync", s.handleStartSync)
			api.GET("/runs", s.handleListRuns)
			api.GET("/runs/:id", s.handleGetRun)
		}
		s.mountLedgerAPI(api)
		s.mountOperatorAPI(api)
		s.mountTenants(api)
	}

	switch {
	case s.cfg.Monitoring == nil:
	case s.tokenHash == nil && s.basicUserHash == nil && s.cfg.Session == nil:
		s.log.Warn("webhook: neither APIToken nor MonitoringBasicAuth is set, so /monitoring is disabled (404)")
	default:
		mon := e.Group("/monitoring", s.requireMonitoringAuth)
		mon.Any("/*any", gin.WrapH(s.cfg.Monitoring))
	}

	if s.cfg.UI != nil {
		ui := gin.WrapH(s.cfg.UI)
		e.Any("/ui", s.withClient, ui)
		e.Any("/ui/*any", s.withClient, ui)
	}

	s.engine = e
	return nil
}

// hashSecret returns sha256(secret), so secrets of any length compare in
// constant time without leaking their length.
func hashSecret(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
