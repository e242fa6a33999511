package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/worker"
)

// app is everything a command needs, built from one config.
type app struct {
	cfg     *config.Config
	log     *logrus.Logger
	rdb     redis.UniversalClient
	redisOp redis.UniversalOptions
	psa     psa.Client
	tenants *tenantSet
	engine  *worker.Engine
	metrics *worker.Metrics
	closers []func()
}

// instrumented returns hc with its requests counted under upstream.
func instrumented(hc *http.Client, m *worker.Metrics, upstream string) *http.Client {
	if m == nil {
		return hc
	}
	c := *hc
	c.Transport = m.Transport(upstream, hc.Transport)
	return &c
}

func (a *app) Close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func newLogger(c config.Log, out *os.File) *logrus.Logger {
	l := logrus.New()
	l.Out = out
	if c.Format == "text" {
		l.Formatter = &logrus.TextFormatter{FullTimestamp: true}
	} else {
		l.Formatter = &logrus.JSONFormatter{}
	}
	lvl, err := logrus.ParseLevel(c.Level)
	if err != nil || c.Level == "" {
		lvl = logrus.InfoLevel
	}
	l.Level = lvl
	return l
}

// build wires Redis, the PSA client, the tenants' Graph clients and the
// engine. httpClient, when set, is used for every outbound call (demo mode
// passes one that trusts the simulators).
func build(ctx context.Context, cfg *config.Config, log *logrus.Logger, httpClient *http.Client) (*app, error) {
	return buildWith(ctx, cfg, log, httpClient, nil)
}

// buildWith is build with metrics: every PSA and Graph request is counted.
func buildWith(ctx context.Context, cfg *config.Config, log *logrus.Logger, httpClient *http.Client, metrics *worker.Metrics) (*app, error) {
	a := &app{cfg: cfg, log: log, metrics: metrics}
	if err := a.openRedis(); err != nil {
		a.Close()
		return nil, err
	}
	var err error
	if httpClient == nil {
		httpClient = &http.Client{Timeout: 60 * time.Second}
	}
	a.psa, err = newPSAClient(cfg.PSA, instrumented(httpClient, metrics, "psa"), log)
	if err != nil {
		a.Close()
		return nil, err
	}
	if q := cfg.EffectiveQuota(); q.Limited() {
		// One budget for every replica: the quota lives in Redis.
		a.psa = quota.Wrap(a.psa, a.rdb, q, quota.WithName(cfg.PSA.Type), quota.WithPageSize(psaPageSize(cfg.PSA)), quota.WithLogger(log))
	}
	mapper, err := mapping.New(cfg.Mapping)
	if err != nil {
		a.Close()
		return nil, err
	}
	a.tenants = &tenantSet{cfg: cfg, log: log, http: httpClient, metrics: metrics, clients: map[string]*graph.Client{}}
	store := worker.NewStore(a.rdb, cfg.Redis.KeyPrefix)
	a.engine = worker.NewEngine(a.psa, mapper, store, a.tenants, worker.Config{
		Concurrency: cfg.Sync.Concurrency, DeactivationGuard: cfg.Sync.DeactivationGuard,
		DeactivationGuardMin: cfg.Sync.DeactivationGuardMin, MaxWait: cfg.Sync.MaxWait,
	}, log)
	return a, nil
}

// openRedis connects to the configured Redis, or starts an embedded one.
func (a *app) openRedis() error {
	rc := a.cfg.Redis
	if rc.Addr == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		stop := followRealTime(mr)
		a.closers = append(a.closers, func() { stop(); mr.Close() })
		a.log.WithField("addr", mr.Addr()).Warn("no redis.addr configured: using an EMBEDDED IN-MEMORY Redis; queues, links and run reports are lost when the process exits")
		rc.Addr = mr.Addr()
	}
	a.redisOp = redis.UniversalOptions{Addrs: []string{rc.Addr}, Username: rc.Username, Password: rc.Password, DB: rc.DB}
	a.rdb = redis.NewUniversalClient(&a.redisOp)
	a.closers = append(a.closers, func() { _ = a.rdb.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis %s: %w", rc.Addr, err)
	}
	return nil
}

// followRealTime moves miniredis's clock with the real one: miniredis only
// expires keys when told time passed, and psasync's locks and coalescing
// windows rely on expiry.
func followRealTime(mr *miniredis.Miniredis) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return func() { close(done); <-stopped }
}

func newPSAClient(c config.PSA, hc *http.Client, log *logrus.Logger) (psa.Client, error) {
	switch c.Type {
	case config.PSAConnectWise:
		return connectwise.New(c.ConnectWise, connectwise.WithHTTPClient(hc), connectwise.WithLogger(log))
	case config.PSAAutotask:
		return autotask.New(c.Autotask, autotask.WithHTTPClient(hc), autotask.WithLogger(log))
	case config.PSAHaloPSA:
		return halopsa.New(c.HaloPSA, halopsa.WithHTTPClient(hc), halopsa.WithLogger(log))
	}
	return nil, fmt.Errorf("psa.type: %q is not connectwise, autotask or halopsa", c.Type)
}

// psaPageSize is the page size the PSA client reads with, so the quota
// charges one unit per page.
func psaPageSize(c config.PSA) int {
	switch c.Type {
	case config.PSAConnectWise:
		return firstPositive(c.ConnectWise.PageSize, connectwise.DefaultPageSize)
	case config.PSAAutotask:
		return firstPositive(c.Autotask.PageSize, autotask.MaxPageSize)
	case config.PSAHaloPSA:
		return firstPositive(c.HaloPSA.PageSize, halopsa.DefaultPageSize)
	}
	return 0
}

// tenantSet resolves tenants from config, building one Graph client per
// tenant on first use.
type tenantSet struct {
	cfg     *config.Config
	log     *logrus.Logger
	http    *http.Client
	metrics *worker.Metrics
	mu      sync.Mutex
	clients map[string]*graph.Client
}

func (s *tenantSet) Tenant(ctx context.Context, id string) (worker.Tenant, error) {
	t, ok := s.cfg.Tenant(id)
	if !ok {
		return worker.Tenant{}, fmt.Errorf("%q: %w", id, worker.ErrUnknownTenant)
	}
	gc, err := s.graphClient(ctx, t)
	if err != nil {
		return worker.Tenant{}, err
	}
	domains := map[string]string{}
	for d, c := range t.DomainCompanies {
		domains[strings.ToLower(d)] = c
	}
	return worker.Tenant{
		ID: t.ID, Name: t.Name, DefaultCompanyID: t.PSADefaultCompanyID, ContactType: t.PSAContactType,
		SyncEnabled: t.SyncEnabled(), SyncFilter: t.Office365SyncFilter, DomainCompanies: domains,
		VerifiedDomains: t.VerifiedDomains, ExclusiveCompanies: exclusiveCompanies(s.cfg, t), Directory: gc,
	}, nil
}

// exclusiveCompanies lists the companies that only tenant t maps to.
func exclusiveCompanies(cfg *config.Config, t config.Tenant) []string {
	owners := map[string]map[string]bool{}
	for _, x := range cfg.Tenants {
		add := func(c string) {
			if c == "" {
				return
			}
			if owners[c] == nil {
				owners[c] = map[string]bool{}
			}
			owners[c][x.ID] = true
		}
		add(x.PSADefaultCompanyID)
		for _, c := range x.DomainCompanies {
			add(c)
		}
	}
	var out []string
	for c, o := range owners {
		if len(o) == 1 && o[t.ID] {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}

func (s *tenantSet) graphClient(ctx context.Context, t config.Tenant) (*graph.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.clients[t.ID]; ok {
		return c, nil
	}
	app := t.GraphApp(s.cfg.Graph)
	hc := s.http
	if app.CACertPath != "" {
		var err error
		if hc, err = trustingClient(app.CACertPath); err != nil {
			return nil, fmt.Errorf("tenant %s: graph.ca_cert_path: %w", t.ID, err)
		}
	}
	c, err := graph.New(ctx, graph.Config{
		TenantID: t.ID, ClientID: app.ClientID, ClientSecret: app.ClientSecret,
		CertificatePath: app.CertificatePath, CertificatePassword: app.CertificatePassword,
		AuthorityHost: app.AuthorityHost, BaseURL: app.BaseURL,
	}, graph.WithHTTPClient(instrumented(hc, s.metrics, "graph")), graph.WithLogger(s.log.WithField("tenant", t.ID)))
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
	}
	s.clients[t.ID] = c
	return c, nil
}

// trustingClient returns an HTTP client that also trusts the PEM CA at path.
func trustingClient(path string) (*http.Client, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", path)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}, nil
}
