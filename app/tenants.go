package app

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/worker"
)

// tenantSet resolves tenants from config for the engine, building one
// Graph client per tenant on first use.
type tenantSet struct {
	cfg     *config.Config
	log     *logrus.Logger
	http    *http.Client
	metrics *worker.Metrics
	// accepted holds onboarding's accepted tenants, live beside the
	// config's (which win).
	accepted *onboarding.Store
	mu       sync.Mutex
	clients  map[string]*graph.Client
}

// Tenant is the engine's view of a configured or accepted tenant.
func (s *tenantSet) Tenant(ctx context.Context, id string) (worker.Tenant, error) {
	owners := s.cfg.CompanyOwners()
	t, ok := s.cfg.Tenant(id)
	if !ok && s.accepted != nil {
		p, found, err := s.accepted.Accepted(ctx, id)
		if err != nil {
			return worker.Tenant{}, fmt.Errorf("tenant %s: %w", id, err)
		}
		if found {
			t, ok = acceptedTenant(s.cfg, p), true
			owners[t.ID] = []string{t.PSADefaultCompanyID}
		}
	}
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
		VerifiedDomains:    t.VerifiedDomains,
		ExclusiveCompanies: worker.ExclusiveCompanies(owners, t.ID),
		Directory:          gc,
	}, nil
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
	}, graph.WithHTTPClient(instrumented(hc, s.metrics, "graph")), graph.WithLogger(s.log.WithField("tenant", t.ID)),
		graph.WithBatch(s.cfg.Worker.BatchLinger()))
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
