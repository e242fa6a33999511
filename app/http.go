package app

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynqmon"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/webhook"
)

// httpServer builds the gin server with the webhook, the API, health,
// metrics and the asynq UI; NewNode builds it, so the webhook's collectors
// are registered before the node runs.
func (n *Node) httpServer() (*http.Server, error) {
	var mon http.Handler
	mc := n.cfg.Server.Monitoring
	if mc.Enabled == nil || *mc.Enabled {
		mon = asynqmon.New(asynqmon.Options{RootPath: "/monitoring", RedisConnOpt: n.asynq, ReadOnly: mc.ReadOnly,
			PayloadFormatter: asynqmon.PayloadFormatterFunc(func(_ string, p []byte) string { return string(p) })})
	}
	var basic *webhook.BasicAuth
	if mc.BasicAuthUser != "" {
		basic = &webhook.BasicAuth{User: mc.BasicAuthUser, Password: mc.BasicAuthPassword}
	}
	if n.token == "" {
		n.log.Warn("server.api_token is not set: /api/v1 is disabled and /monitoring needs basic auth")
	}
	cons, err := n.newConsole()
	if err != nil {
		return nil, err
	}
	wc := webhook.Config{
		Lookup:              lookupAdapter{subscription.NewCachedLookup(n.subs, 0)},
		Enqueuer:            newEnqueuer(n),
		Runs:                &runsAPI{n: n},
		Tenants:             tenantsAPI{tenantOps{a: n.app, queue: n.queue}},
		ChangeLog:           n.app.ledger,
		Decisions:           n.app.ledger,
		RunHistory:          n.app.ledger,
		Operator:            operator{e: n.app.engine},
		APIToken:            n.token,
		ReadToken:           n.cfg.Server.ReadToken,
		Monitoring:          mon,
		MonitoringBasicAuth: basic,
		Ready:               func(ctx context.Context) error { return n.app.rdb.Ping(ctx).Err() },
		Metrics:             n.reg,
		Registerer:          n.reg,
		MaxBodyBytes:        n.cfg.Server.MaxBodyBytes,
		TrustedProxies:      n.cfg.Server.TrustedProxies,
		Logger:              n.log,
	}
	if cons != nil {
		wc.UI, wc.Session = cons, cons.SessionOf
	}
	h, err := webhook.New(wc)
	if err != nil {
		return nil, badConfig(err)
	}
	return &http.Server{
		Handler: h.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 120 * time.Second,
		// net/http's own complaints (TLS handshakes, bad requests) go to
		// logrus too.
		ErrorLog: log.New(n.log.WithField("component", "http").WriterLevel(logrus.WarnLevel), "", 0),
	}, nil
}

// serveHTTP serves until ctx ends, then stops accepting and lets requests
// in flight finish.
func serveHTTP(ctx context.Context, srv *http.Server, ln net.Listener, log logrus.FieldLogger) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: no new requests")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// Announce prints where to look and how to authenticate (to stdout, so
// the log on stderr stays machine-readable).
func (n *Node) Announce(w io.Writer) {
	if n.opts.Roles&RoleWebhook == 0 {
		n.log.WithField("role", n.opts.Roles.String()).Info("psasync started")
		return
	}
	auth := "Authorization: Bearer <server.api_token>"
	if n.opts.World != nil {
		auth = "Authorization: Bearer " + n.token
	}
	b := n.baseURL
	fmt.Fprintf(w, "psasync %s listening on %s\n", n.opts.Roles, n.listen)
	fmt.Fprintf(w, "  health:      %s/healthz  %s/readyz\n", b, b)
	fmt.Fprintf(w, "  metrics:     %s/metrics\n", b)
	fmt.Fprintf(w, "  webhook:     %s/webhook/graph  (Graph posts to <server.public_url>/webhook/graph; public URL: %s)\n", b, firstNonEmpty(n.cfg.Server.PublicURL, "not set"))
	fmt.Fprintf(w, "  runs API:    %s/api/v1/runs  (header %s)\n", b, auth)
	fmt.Fprintf(w, "  start a run: curl -X POST -H '%s' -d '{\"sync_mode\":\"full\",\"dry_run\":true}' %s/api/v1/sync\n", auth, b)
	if n.cfg.Partner.Enabled() {
		fmt.Fprintf(w, "  onboarding:  curl -X POST -H '%s' %s/api/v1/tenants/discover  (or psasync tenants discover)\n", auth, b)
	}
	fmt.Fprintf(w, "  queues UI:   %s/monitoring/  (bearer token, or a browser login with any user name and the token as password%s)\n", b, basicHint(n.cfg))
	if n.token != "" {
		signin := "sign in with server.api_token (or server.read_token, read-only)"
		if n.opts.World != nil && n.cfg.Server.APIToken == "" {
			signin = "sign in with the token " + n.token
		}
		fmt.Fprintf(w, "  console:     %s/ui/  (%s)\n", b, signin)
	}
}

func basicHint(c *config.Config) string {
	if c.Server.Monitoring.BasicAuthUser != "" {
		return ", or basic auth " + c.Server.Monitoring.BasicAuthUser + " / <server.monitoring.basic_auth_password>"
	}
	return ""
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// loopbackURL is the http URL of a listener as seen from this host.
func loopbackURL(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}

// openStatusListener opens the status listener of a process without the
// webhook role, so probes and Prometheus reach workers and schedulers of a
// split deployment too; addr "" opens none. The webhook role serves these
// routes itself.
func (n *Node) openStatusListener(addr string) error {
	if addr == "" || n.opts.Roles&RoleWebhook != 0 {
		return nil
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return badConfig(fmt.Errorf("worker.metrics_listen %q: %w", addr, err))
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return unavailable(fmt.Errorf("listen on %s (worker.metrics_listen): %w", addr, err))
	}
	n.statusLn = ln
	n.closers = append(n.closers, func() { _ = ln.Close() })
	n.statusSrv = &http.Server{
		Handler: webhook.NewStatusHandler(webhook.StatusConfig{
			Ready:   func(ctx context.Context) error { return n.app.rdb.Ping(ctx).Err() },
			Metrics: n.reg,
			Logger:  n.log,
		}),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second,
		ErrorLog: log.New(n.log.WithField("component", "http").WriterLevel(logrus.WarnLevel), "", 0),
	}
	n.log.WithField("addr", ln.Addr().String()).Info("serving /metrics, /healthz and /readyz")
	return nil
}

// StatusURL is the status listener's http URL ("" when there is none).
func (n *Node) StatusURL() string {
	if n.statusLn == nil {
		return ""
	}
	return loopbackURL(n.statusLn)
}
