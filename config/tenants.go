package config

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Tenant is one customer tenant with the workflow's organizational variables.
type Tenant struct {
	ID   string `yaml:"id"`
	Name string `yaml:"name"`
	// Graph overrides the app registration for this tenant.
	Graph                GraphApp          `yaml:"graph"`
	PSADefaultCompanyID  string            `yaml:"psa_default_company_id"`
	PSAContactType       string            `yaml:"psa_contact_type"`
	Office365SyncEnabled *bool             `yaml:"office365_sync_enabled"`
	Office365SyncFilter  string            `yaml:"office365_sync_filter"`
	DomainCompanies      map[string]string `yaml:"domain_companies"`
	VerifiedDomains      []string          `yaml:"verified_domains"`
	// Schedule overrides the default schedule for this tenant.
	Schedule *Schedule `yaml:"schedule"`
}

// EffectiveSchedule is the tenant's schedule with defaults filled in.
func (c *Config) EffectiveSchedule(t Tenant) Schedule {
	s := c.Schedule
	if t.Schedule != nil {
		o := *t.Schedule
		if o.IncrementalEvery != 0 {
			s.IncrementalEvery = o.IncrementalEvery
		}
		if o.ReconcileAt != "" {
			s.ReconcileAt = o.ReconcileAt
		}
		if o.TimeZone != "" {
			s.TimeZone = o.TimeZone
		}
		if o.ReconcileSpread != 0 {
			s.ReconcileSpread = o.ReconcileSpread
		}
	}
	if s.IncrementalEvery == 0 {
		s.IncrementalEvery = 15 * time.Minute
	}
	if s.ReconcileAt == "" {
		s.ReconcileAt = "02:00"
	}
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	if s.RenewEvery <= 0 {
		s.RenewEvery = time.Hour
	}
	return s
}

// SyncEnabled is office365_sync_enabled, true when unset.
func (t Tenant) SyncEnabled() bool { return t.Office365SyncEnabled == nil || *t.Office365SyncEnabled }

// GraphApp returns the tenant's app settings: its own, else the shared ones.
func (t Tenant) GraphApp(shared GraphApp) GraphApp {
	g := shared
	o := t.Graph
	if o.ClientID != "" {
		g.ClientID, g.ClientSecret, g.CertificatePath, g.CertificatePassword = o.ClientID, o.ClientSecret, o.CertificatePath, o.CertificatePassword
	} else if o.ClientSecret != "" {
		g.ClientSecret = o.ClientSecret
	}
	if o.AuthorityHost != "" {
		g.AuthorityHost = o.AuthorityHost
	}
	if o.BaseURL != "" {
		g.BaseURL = o.BaseURL
	}
	if o.CACertPath != "" {
		g.CACertPath = o.CACertPath
	}
	return g
}

// Tenant finds a tenant by id or name.
func (c *Config) Tenant(idOrName string) (Tenant, bool) {
	for _, t := range c.Tenants {
		if strings.EqualFold(t.ID, idOrName) || (t.Name != "" && strings.EqualFold(t.Name, idOrName)) {
			return t, true
		}
	}
	return Tenant{}, false
}

// ErrTenantRequired is returned by SelectTenant when no tenant is named
// and the config has several (or none).
var ErrTenantRequired = errors.New("a tenant is required")

// ErrUnknownTenant is returned by SelectTenant for a name or id the config
// does not have.
var ErrUnknownTenant = errors.New("not a tenant in the config")

// SelectTenant picks the tenant a command or API call is for: the one named
// by id or name, or, when idOrName is empty, the only configured tenant.
// Its errors wrap ErrTenantRequired or ErrUnknownTenant and list the
// configured tenants, so the caller can say what was wrong.
func (c *Config) SelectTenant(idOrName string) (Tenant, error) {
	if idOrName == "" {
		if len(c.Tenants) == 1 {
			return c.Tenants[0], nil
		}
		return Tenant{}, fmt.Errorf("%w: the config has %d tenants%s", ErrTenantRequired, len(c.Tenants), c.tenantList())
	}
	if t, ok := c.Tenant(idOrName); ok {
		return t, nil
	}
	return Tenant{}, fmt.Errorf("%q is %w%s", idOrName, ErrUnknownTenant, c.tenantList())
}

// tenantList names the configured tenants for an error message.
func (c *Config) tenantList() string {
	if len(c.Tenants) == 0 {
		return ""
	}
	names := make([]string, 0, len(c.Tenants))
	for _, t := range c.Tenants {
		n := t.ID
		if t.Name != "" {
			n = t.Name + " (" + t.ID + ")"
		}
		names = append(names, n)
	}
	return " (" + strings.Join(names, ", ") + ")"
}

// CompanyOwners maps each tenant id to the PSA companies it maps to: its
// psa_default_company_id and the values of its domain_companies.
func (c *Config) CompanyOwners() map[string][]string {
	out := make(map[string][]string, len(c.Tenants))
	for _, t := range c.Tenants {
		companies := []string{t.PSADefaultCompanyID}
		for _, co := range t.DomainCompanies {
			companies = append(companies, co)
		}
		out[t.ID] = companies
	}
	return out
}
