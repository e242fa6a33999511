package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/psasync/psasync/psa"
)

// Partner is the MSP's own (partner) tenant, from which onboarding
// discovers the customer tenants; unset (no tenant_id), psasync syncs the
// config file's tenants only.
type Partner struct {
	// TenantID is the partner tenant's id (a GUID).
	TenantID string `yaml:"tenant_id"`
	// ClientID and ClientSecret are the app registration that reads the
	// partner tenant's customers; empty takes graph's (the multi-tenant
	// app, which needs the partner permissions too then).
	ClientID     string `yaml:"client_id"`
	ClientSecret string `yaml:"client_secret"`
	// ClientSecretFile holds ClientSecret instead (see SecretKeys).
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURI is where a customer's administrator lands after
	// consenting; it must be registered on the multi-tenant app, and the
	// admin-consent URLs carry it.
	RedirectURI string `yaml:"redirect_uri"`
	// ConsentCheckInterval is how often the accepted tenants' consent is
	// checked again (default 1h; negative: never, only on demand).
	ConsentCheckInterval time.Duration `yaml:"consent_check_interval"`
	// AutoAcceptTenantID accepts, at each discovery, the tenants whose PSA
	// company already holds their tenant id (rule 1), so a psasync that
	// lost its Redis resumes without an operator.
	AutoAcceptTenantID bool `yaml:"auto_accept_tenant_id"`
	// PSAContactType is psa_contact_type for discovered tenants.
	PSAContactType string `yaml:"psa_contact_type"`
}

// DefaultConsentCheckInterval is partner.consent_check_interval's default.
const DefaultConsentCheckInterval = time.Hour

// Enabled reports whether a partner tenant is configured.
func (p Partner) Enabled() bool { return p.TenantID != "" }

// EffectiveConsentCheckInterval is the interval with its default; 0 means
// never.
func (p Partner) EffectiveConsentCheckInterval() time.Duration {
	return offOrDefault(p.ConsentCheckInterval, DefaultConsentCheckInterval)
}

// App is the app registration that reads the partner tenant: partner's
// client id and secret over graph's settings.
func (p Partner) App(shared GraphApp) GraphApp {
	g := shared
	if p.ClientID != "" {
		g.ClientID, g.ClientSecret, g.CertificatePath, g.CertificatePassword = p.ClientID, p.ClientSecret, "", ""
	} else if p.ClientSecret != "" {
		g.ClientSecret = p.ClientSecret
	}
	return g
}

// validatePartner reports the partner section's problems, each naming its
// key.
func (c *Config) validatePartner() []error {
	p := c.Partner
	var errs []error
	add := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("partner.%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if !p.Enabled() {
		if p.ClientID != "" || p.RedirectURI != "" {
			add("tenant_id", "required when other partner keys are set (the partner tenant's id)")
		}
		return errs
	}
	if !psa.ValidTenantID(p.TenantID) {
		add("tenant_id", "%q is not a tenant id (a GUID)", p.TenantID)
	}
	app := p.App(c.Graph)
	if app.ClientID == "" {
		add("client_id", "required here or in graph.client_id")
	}
	if app.ClientSecret == "" && app.CertificatePath == "" {
		add("client_secret", "required here or in graph (client_secret or certificate_path)")
	}
	if u, err := url.Parse(p.RedirectURI); p.RedirectURI == "" || err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		add("redirect_uri", "%q is not an absolute http(s) URL (the admin-consent redirect registered on the app)", p.RedirectURI)
	}
	if p.ConsentCheckInterval > 0 && p.ConsentCheckInterval < time.Minute {
		add("consent_check_interval", "%s is shorter than 1m", p.ConsentCheckInterval)
	}
	if strings.TrimSpace(p.PSAContactType) != p.PSAContactType {
		add("psa_contact_type", "has leading or trailing spaces")
	}
	return errs
}
