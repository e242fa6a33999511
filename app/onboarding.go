package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/worker"
)

// This file wires onboarding: the partner directory over the Graph
// clients, the service over the PSA's company directory, accepted tenants
// as live tenants (beside the config file's, which win), and what
// accepting starts (a subscription check and a first dry run).

// partnerDirectory is onboarding's view of Graph: the partner tenant's
// client lists the customers; each customer's client (the multi-tenant
// app the engine syncs with, from tenantSet) checks consent and reads the
// organization.
type partnerDirectory struct {
	tenants  *tenantSet
	partner  config.Tenant
	redirect string
}

// Customers lists the partner tenant's customers (GDAP and contracts).
func (p partnerDirectory) Customers(ctx context.Context) ([]directory.Customer, error) {
	c, err := p.tenants.graphClient(ctx, p.partner)
	if err != nil {
		return nil, fmt.Errorf("partner tenant: %w", err)
	}
	return c.DiscoverCustomers(ctx)
}

// CheckConsent asks whether the app may read users in the tenant.
func (p partnerDirectory) CheckConsent(ctx context.Context, tenantID string) (directory.Consent, error) {
	c, err := p.customer(ctx, tenantID)
	if err != nil {
		return directory.Consent{}, err
	}
	return c.CheckConsent(ctx, p.redirect)
}

// Organization reads the tenant's name and verified domains.
func (p partnerDirectory) Organization(ctx context.Context, tenantID string) (directory.Organization, error) {
	c, err := p.customer(ctx, tenantID)
	if err != nil {
		return directory.Organization{}, err
	}
	return c.Organization(ctx)
}

func (p partnerDirectory) customer(ctx context.Context, tenantID string) (*graph.Client, error) {
	return p.tenants.graphClient(ctx, config.Tenant{ID: strings.ToLower(tenantID)})
}

// newOnboarding builds the App's onboarding service: its store always,
// the partner directory when partner.tenant_id is set, the PSA's company
// directory when the PSA client has one.
func (a *App) newOnboarding() {
	store := onboarding.NewStore(a.rdb, a.cfg.Redis.Prefix())
	a.tenants.accepted = store
	var dir onboarding.PartnerDirectory
	if p := a.cfg.Partner; p.Enabled() {
		dir = partnerDirectory{tenants: a.tenants, redirect: p.RedirectURI,
			partner: config.Tenant{ID: strings.ToLower(p.TenantID), Graph: p.App(a.cfg.Graph)}}
	}
	// Every vendor client has a company directory, and the quota wrapper
	// forwards it under the shared budget.
	companies := a.psa.(psa.CompanyDirectory)
	configured := map[string]string{}
	for _, t := range a.cfg.Tenants {
		configured[strings.ToLower(t.ID)] = t.PSADefaultCompanyID
	}
	a.onboard = onboarding.New(dir, companies, store, onboarding.Config{
		Configured: configured, AutoAcceptTenantID: a.cfg.Partner.AutoAcceptTenantID, Logger: a.log,
		ChangeLog: a.ledger,
	})
}

// Onboarding is the App's onboarding service (tests drive it directly).
func (a *App) Onboarding() *onboarding.Service { return a.onboard }

// acceptedTenant is an accepted mapping as a config tenant: the shared
// multi-tenant app, the accepted company, partner.psa_contact_type, the
// verified domains; syncing is enabled while the app has consent.
func acceptedTenant(cfg *config.Config, p onboarding.Proposal) config.Tenant {
	enabled := p.Consent
	t := config.Tenant{ID: p.TenantID, Name: p.Name, PSAContactType: cfg.Partner.PSAContactType, Office365SyncEnabled: &enabled}
	if p.Company != nil {
		t.PSADefaultCompanyID = p.Company.CompanyID
	}
	for _, d := range p.Domains {
		if d, ok := onboarding.MatchableDomain(d); ok {
			t.VerifiedDomains = append(t.VerifiedDomains, d)
		}
	}
	return t
}

// selectTenant is config.SelectTenant over every live tenant: the config
// file's by id or name, else an accepted (onboarded) tenant by id. An
// unknown one wraps config.ErrUnknownTenant and says both places were
// looked in; any other error is the store's.
func (a *App) selectTenant(ctx context.Context, idOrName string) (config.Tenant, error) {
	t, err := a.cfg.SelectTenant(idOrName)
	if !errors.Is(err, config.ErrUnknownTenant) {
		return t, err
	}
	p, ok, aerr := a.onboard.Store().Accepted(ctx, idOrName)
	if aerr != nil {
		return config.Tenant{}, aerr
	}
	if !ok {
		return config.Tenant{}, fmt.Errorf("%w, nor an accepted tenant (psasync tenants list)", err)
	}
	return acceptedTenant(a.cfg, p), nil
}

// liveTenants are the tenants psasync syncs: the config file's, then the
// accepted ones the config does not have (the config wins on a conflict).
func (a *App) liveTenants(ctx context.Context) ([]config.Tenant, error) {
	out := append([]config.Tenant(nil), a.cfg.Tenants...)
	accepted, err := a.onboard.Store().AcceptedAll(ctx)
	if err != nil {
		return out, err
	}
	for _, p := range accepted {
		if _, ok := a.cfg.Tenant(p.TenantID); ok {
			continue
		}
		out = append(out, acceptedTenant(a.cfg, p))
	}
	return out, nil
}

// goLive starts a newly live tenant's first full run, dry when dry is
// true (a first look for the operator: what would be created, updated,
// deactivated), and returns its id (read it at /api/v1/runs/{id}). Its
// subscription and incremental syncs come from the scheduler, which reads
// the live tenants on every tick: no restart, and no write to the PSA
// before the schedule's first run.
func goLive(ctx context.Context, q *worker.Queue, tenantID string, dry bool) (string, error) {
	in := worker.DefaultRunInputs(tenantID)
	in.SyncMode, in.DryRun = worker.ModeFull, dry
	id, err := q.EnqueueRun(ctx, "", in)
	if err != nil {
		return "", fmt.Errorf("tenant %s: enqueue its first run: %w", tenantID, err)
	}
	return id, nil
}

// consentCheckEvery is NodeOptions.ConsentCheckEvery, else
// partner.consent_check_interval (0: never).
func (n *Node) consentCheckEvery() time.Duration {
	return cmp.Or(n.opts.ConsentCheckEvery, n.cfg.Partner.EffectiveConsentCheckInterval())
}

// runConsentChecks re-checks the accepted tenants' consent every period,
// and starts the tenants that gained it (a full run), until ctx ends.
func (n *Node) runConsentChecks(ctx context.Context, every time.Duration) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		n.RecheckConsent(ctx)
	}
}

// RecheckConsent checks the accepted tenants' consent once and starts
// those that gained it; the schedule and POST /api/v1/tenants/discover
// call it, tests too.
func (n *Node) RecheckConsent(ctx context.Context) []string {
	gained, err := n.app.onboard.RecheckConsent(ctx)
	if err != nil {
		n.log.WithError(err).Warn("onboarding: consent re-check incomplete")
	}
	n.startGained(ctx, gained)
	return gained
}

// startGained starts syncing tenants whose consent arrived.
func (n *Node) startGained(ctx context.Context, gained []string) {
	for _, tid := range gained {
		id, err := goLive(ctx, n.queue, tid, false)
		if err != nil {
			n.log.WithError(err).WithField("tenant", tid).Warn("onboarding: could not start a tenant that gained consent")
			continue
		}
		n.log.WithFields(map[string]any{"tenant": tid, "run": id}).Info("onboarding: consent granted; first full sync started")
	}
}
