// Package console is psasync's web console at /ui/: one place where an MSP
// sees every tenant's health, reads runs and starts them. It is a view over
// psasync's stores and run API (Source, Runner, implemented in app) and
// holds no rule of its own: a button does what the API does.
//
// Pages are server-rendered html/template, embedded in the binary, and work
// without JavaScript (none is served); charts are SVG drawn on the server.
// Sign-in takes the API token (acts) or the read-only token (reads only);
// sessions are kept in Redis (session.go), every form carries a CSRF token,
// failed sign-ins are slowed down per client address (signin.go), and no
// page shows a secret.
package console

import (
	"crypto/sha256"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// DefaultSessionTTL is how long a console session lasts.
const DefaultSessionTTL = 12 * time.Hour

// Config is what the console needs; Source, Runner, Redis and AdminToken
// are required.
type Config struct {
	// Source is what the pages read; Runner starts runs.
	Source Source
	Runner Runner
	// Decisions is the change log and the operator decisions; nil leaves
	// their pages out.
	Decisions Decisions
	// Operator carries out conflict and held-batch decisions; nil renders
	// those pages read-only.
	Operator Operator
	// UserSyncer syncs one user on demand; nil leaves the page out.
	UserSyncer UserSyncer
	// Onboarder discovers and onboards tenants; nil leaves the page out.
	Onboarder Onboarder
	// AdminToken signs in with every right; ReadToken (optional) signs in
	// read-only.
	AdminToken, ReadToken string
	// Redis keeps sessions and sign-in failures, shared by every replica,
	// under keys starting with Prefix.
	Redis  redis.UniversalClient
	Prefix string
	// SessionTTL is how long a session lasts (default DefaultSessionTTL).
	SessionTTL time.Duration
	// ClientIP is the client's address (default: the peer address);
	// IsHTTPS says whether the request came over HTTPS, which makes the
	// cookies Secure (default: r.TLS != nil).
	ClientIP func(*http.Request) string
	IsHTTPS  func(*http.Request) bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Logger receives failures; nil discards.
	Logger logrus.FieldLogger
}

// Console serves the pages; build it with New.
type Console struct {
	cfg                 Config
	log                 logrus.FieldLogger
	tmpl                *template.Template
	mux                 *http.ServeMux
	adminHash, readHash []byte
	crossOrigin         *http.CrossOriginProtection
}

// New validates cfg and builds the console.
func New(cfg Config) (*Console, error) {
	var errs []error
	if cfg.Source == nil || cfg.Runner == nil {
		errs = append(errs, errors.New("Source and Runner are required"))
	}
	if cfg.Redis == nil {
		errs = append(errs, errors.New("Redis is required"))
	}
	if cfg.AdminToken == "" {
		errs = append(errs, errors.New("AdminToken is required (server.api_token)"))
	}
	if cfg.ReadToken != "" && cfg.ReadToken == cfg.AdminToken {
		errs = append(errs, errors.New("ReadToken must differ from AdminToken"))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("console: invalid config: %w", errors.Join(errs...))
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.ClientIP == nil {
		cfg.ClientIP = peerIP
	}
	if cfg.IsHTTPS == nil {
		cfg.IsHTTPS = func(r *http.Request) bool { return r.TLS != nil }
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		cfg.Logger = l
	}
	tmpl, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console: templates: %w", err)
	}
	c := &Console{cfg: cfg, log: cfg.Logger, tmpl: tmpl, crossOrigin: http.NewCrossOriginProtection()}
	h := sha256.Sum256([]byte(cfg.AdminToken))
	c.adminHash = h[:]
	if cfg.ReadToken != "" {
		h := sha256.Sum256([]byte(cfg.ReadToken))
		c.readHash = h[:]
	}
	c.routes()
	return c, nil
}

// routes registers every page. Reads need a session; actions need an
// admin session and the session's CSRF token.
func (c *Console) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	m.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /ui/signin", c.getSignin)
	m.HandleFunc("POST /ui/signin", c.postSignin)
	m.HandleFunc("POST /ui/signout", c.act(c.postSignout, false))
	m.HandleFunc("GET /ui/{$}", c.read(c.overview))
	m.HandleFunc("GET /ui/tenants/{tenant}", c.read(c.tenant))
	m.HandleFunc("POST /ui/tenants/{tenant}/sync", c.act(c.startRun, true))
	m.HandleFunc("GET /ui/runs/{id}", c.read(c.run))
	m.HandleFunc("GET /ui/runs/{id}/report.json", c.read(c.runJSON))
	m.HandleFunc("GET /ui/runs/{id}/report.csv", c.read(c.runCSV))
	m.HandleFunc("POST /ui/runs/{id}/apply", c.act(c.applyPlan, true))
	m.HandleFunc("GET /ui/jobs", c.read(c.jobs))
	if c.cfg.Decisions != nil {
		c.decisionRoutes(m)
	}
	if c.cfg.Onboarder != nil {
		c.onboardingRoutes(m)
	}
	if c.cfg.UserSyncer != nil {
		m.HandleFunc("GET /ui/sync-user", c.read(c.syncUserForm))
		m.HandleFunc("POST /ui/sync-user", c.act(c.syncUser, false))
	}
	m.HandleFunc("/ui", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/", http.StatusMovedPermanently) })
	m.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { c.notFound(w, r) })
	c.mux = m
}

// ServeHTTP serves the console with its security headers.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// pageFunc is a handler that runs with a live session.
type pageFunc func(w http.ResponseWriter, r *http.Request, s *session, id string)

// read guards a page: without a session it sends the browser to sign in.
func (c *Console) read(fn pageFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, id, err := c.session(r)
		if errors.Is(err, errNoSession) {
			http.Redirect(w, r, "/ui/signin?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		fn(w, r, s, id)
	}
}

// act guards a state-changing request: a session (an admin one when
// admin), the same origin, and the session's CSRF token; 403 otherwise.
func (c *Console) act(fn pageFunc, admin bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		s, id, err := c.session(r)
		if errors.Is(err, errNoSession) {
			c.render(w, r, http.StatusUnauthorized, "error", view{Title: "Signed out", Data: errorPage{Message: "Your session has ended. Sign in again.", SignIn: true}})
			return
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if err := c.crossOrigin.Check(r); err != nil {
			c.forbidden(w, r, "This request did not come from the console.")
			return
		}
		if !csrfOK(r, s) {
			c.forbidden(w, r, "The form's security token is missing or wrong. Reload the page and try again.")
			return
		}
		if admin && s.readOnly() {
			c.forbidden(w, r, "You signed in with the read-only token: it can look at everything and change nothing.")
			return
		}
		fn(w, r, s, id)
	}
}

// view is what every page template gets.
type view struct {
	Title string
	// Nav names the current section for the navigation.
	Nav string
	// CSRF is the token the page's forms send.
	CSRF     string
	ReadOnly bool
	SignedIn bool
	// Decisions is true when the change-log pages exist; SyncUser and
	// Onboarding when those pages do.
	Decisions, SyncUser, Onboarding bool
	// Refresh reloads the page every that many seconds (0: never).
	Refresh int
	Data    any
}

func (c *Console) page(s *session, title, nav string, data any) view {
	return view{Title: title, Nav: nav, CSRF: s.CSRF, ReadOnly: s.readOnly(), SignedIn: true,
		Decisions: c.cfg.Decisions != nil, SyncUser: c.cfg.UserSyncer != nil, Onboarding: c.cfg.Onboarder != nil, Data: data}
}

// render executes the named template; a failure is logged (the header is
// gone by then, so the page ends short).
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.tmpl.ExecuteTemplate(w, name, v); err != nil {
		c.log.WithError(err).WithField("page", name).Error("console: render")
	}
}

// showLoaded renders the page name (also its navigation section) once its
// data is loaded. When the store refused the visitor's filter (a ledger
// ParamError or a refusal), a page with room for it (problem non-nil) shows
// why with 400; any other error fails the request.
func (c *Console) showLoaded(w http.ResponseWriter, r *http.Request, s *session, name, title string, data any, err error, problem *string) {
	if msg, ok := filterRefusal(err); ok && problem != nil {
		*problem = msg
		c.render(w, r, http.StatusBadRequest, name, c.page(s, title, name, data))
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, name, c.page(s, title, name, data))
}

type errorPage struct {
	Message string
	SignIn  bool
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	c.render(w, r, http.StatusForbidden, "error", view{Title: "Not allowed", Data: errorPage{Message: msg}})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusNotFound, "error", view{Title: "Not found", Data: errorPage{Message: "There is no such page."}})
}

// fail logs err and shows a generic page: errors may name keys or
// addresses, never shown to the browser.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	c.log.WithError(err).WithField("path", r.URL.Path).Error("console: request failed")
	c.render(w, r, http.StatusInternalServerError, "error", view{Title: "Something went wrong", Data: errorPage{Message: "psasync could not answer this page; the log has the details."}})
}

func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
