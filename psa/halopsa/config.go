package halopsa

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Defaults and bounds of Config.
const (
	// DefaultScope is the API scope requested with the token; "all" gives the
	// application whatever its agent and application permissions allow.
	DefaultScope = "all"
	// DefaultPageSize is how many users one list request reads.
	DefaultPageSize = 100
	// MaxPageSize bounds page_size; larger pages risk Halo timeouts and
	// cost as much of the rate limit as smaller ones.
	MaxPageSize = 1000
)

// Config says which Halo instance to talk to and how. Keys are the YAML
// names psasync's config files use.
type Config struct {
	// InstanceURL is the Halo web address, e.g. https://mymsp.halopsa.com;
	// the API is {InstanceURL}/api.
	InstanceURL string `yaml:"instance_url" json:"instance_url"`
	// AuthURL is the authorisation server, e.g. https://mymsp.halopsa.com/auth.
	// Empty means: ask {InstanceURL}/api/authinfo, else use {InstanceURL}/auth.
	AuthURL string `yaml:"auth_url" json:"auth_url"`
	// Tenant is the hosted tenant name sent as ?tenant= on token requests;
	// empty for self-hosted instances (or taken from /api/authinfo).
	Tenant string `yaml:"tenant" json:"tenant"`
	// ClientID and ClientSecret are the API application's client credentials.
	ClientID     string `yaml:"client_id" json:"client_id"`
	ClientSecret string `yaml:"client_secret" json:"client_secret"`
	// Scope is the OAuth scope requested; default DefaultScope.
	Scope string `yaml:"scope" json:"scope"`
	// SiteID, when set, is the site new users are created in (site_id);
	// otherwise Halo puts them in the client's default site.
	SiteID int `yaml:"site_id" json:"site_id"`
	// PageSize is how many users a list request reads; default DefaultPageSize.
	PageSize int `yaml:"page_size" json:"page_size"`
	// OfficeLocationField is the name of a user custom field (e.g.
	// "CFOfficeLocation") that holds the office location. Halo users have no
	// native field for it; empty means office location is not synced.
	OfficeLocationField string `yaml:"office_location_field" json:"office_location_field"`
	// ContactTypeField is the name of a user custom field that holds the
	// contact type; empty means contact type is not synced.
	ContactTypeField string `yaml:"contact_type_field" json:"contact_type_field"`
	// TenantIDField is where a client keeps the customer's Microsoft 365
	// tenant id, for onboarding: "azure_tenants" (the default,
	// DefaultTenantIDField), the Azure tenants Halo links to the client
	// (AreaAzureTenant.azure_tenant_id), the field CIPP and Halo's own
	// Microsoft integrations read. It is the only place supported.
	TenantIDField string `yaml:"tenant_id_field" json:"tenant_id_field"`
}

// DefaultTenantIDField is Halo's native list of a client's Azure tenants.
const DefaultTenantIDField = "azure_tenants"

// Validate reports every bad key at once, each error naming its YAML key.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("halopsa config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.InstanceURL) == "" {
		bad("instance_url", "required")
	} else if err := checkBaseURL(c.InstanceURL); err != nil {
		bad("instance_url", "%v", err)
	}
	if c.AuthURL != "" {
		if err := checkBaseURL(c.AuthURL); err != nil {
			bad("auth_url", "%v", err)
		}
	}
	if strings.ContainsAny(c.Tenant, " /?&#") {
		bad("tenant", "must be a bare tenant name")
	}
	if strings.TrimSpace(c.ClientID) == "" {
		bad("client_id", "required")
	}
	if c.ClientSecret == "" {
		bad("client_secret", "required")
	}
	if c.SiteID < 0 {
		bad("site_id", "must not be negative")
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		bad("page_size", "must be between 1 and %d (0 means %d)", MaxPageSize, DefaultPageSize)
	}
	if strings.TrimSpace(c.OfficeLocationField) != c.OfficeLocationField {
		bad("office_location_field", "must not have surrounding spaces")
	}
	if strings.TrimSpace(c.ContactTypeField) != c.ContactTypeField {
		bad("contact_type_field", "must not have surrounding spaces")
	}
	if c.TenantIDField != "" && c.TenantIDField != DefaultTenantIDField {
		bad("tenant_id_field", "must be %q (a client's Azure tenants), the only place Halo keeps a tenant id psasync supports; got %q", DefaultTenantIDField, c.TenantIDField)
	}
	if c.OfficeLocationField != "" && strings.EqualFold(c.OfficeLocationField, c.ContactTypeField) {
		bad("contact_type_field", "must differ from office_location_field")
	}
	return errors.Join(errs...)
}

// withDefaults fills in the optional keys.
func (c Config) withDefaults() Config {
	c.InstanceURL = strings.TrimRight(strings.TrimSpace(c.InstanceURL), "/")
	c.AuthURL = strings.TrimRight(strings.TrimSpace(c.AuthURL), "/")
	if c.Scope == "" {
		c.Scope = DefaultScope
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	if c.TenantIDField == "" {
		c.TenantIDField = DefaultTenantIDField
	}
	return c
}

// String hides the client secret, so a Config printed by mistake leaks nothing
// (logrus's text formatter prints field values with fmt).
func (c Config) String() string {
	return fmt.Sprintf("halopsa.Config{instance_url: %q, auth_url: %q, tenant: %q, client_id: %q, client_secret: %s, scope: %q, site_id: %d, page_size: %d, office_location_field: %q, contact_type_field: %q, tenant_id_field: %q}",
		c.InstanceURL, c.AuthURL, c.Tenant, c.ClientID, redacted(c.ClientSecret), c.Scope, c.SiteID, c.PageSize, c.OfficeLocationField, c.ContactTypeField, c.TenantIDField)
}

// MarshalJSON renders the config under its YAML key names with the client
// secret hidden: logrus's JSON formatter (production logging) marshals field
// values, and any other JSON output of a Config must not leak it either.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // the fields and their tags, without this method
	p := plain(c)
	if p.ClientSecret != "" {
		p.ClientSecret = "[redacted]"
	}
	return json.Marshal(p)
}

// redacted is the client secret as String shows it.
func redacted(secret string) string {
	if secret == "" {
		return `""`
	}
	return "[redacted]"
}

// checkBaseURL accepts an absolute http(s) URL without query or fragment.
func checkBaseURL(raw string) error {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return fmt.Errorf("not a URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return errors.New("must start with https:// (or http:// for a local instance)")
	}
	if u.Host == "" {
		return errors.New("has no host")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must not have a query or fragment")
	}
	return nil
}
