package connectwise

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// Defaults New applies to a Config's zero fields.
const (
	// DefaultAPIVersion is the API version psasync is written against; it
	// is sent in the versioned Accept header.
	DefaultAPIVersion = "2025.1"
	// DefaultPageSize is Manage's largest page, so a company costs
	// ⌈contacts/1000⌉ reads.
	DefaultPageSize = 1000
	// MaxPageSize is the largest pageSize Manage honours.
	MaxPageSize = 1000
)

// apiPath is the REST API's path below a cloud site's root.
const apiPath = "/v4_6_release/apis/3.0"

// Config is one ConnectWise Manage site and the API member psasync uses.
type Config struct {
	// SiteURL is the site root, e.g. https://na.myconnectwise.net; the
	// client appends /v4_6_release/apis/3.0. A URL whose path already ends
	// in /apis/3.0 (an on-premises site or another codebase) is used as the
	// API base unchanged.
	SiteURL string `yaml:"site_url" json:"site_url"`
	// CompanyID is the company you log in to Manage with, e.g. "mymsp".
	CompanyID string `yaml:"company_id" json:"company_id"`
	// PublicKey and PrivateKey are the API member's key pair. The private
	// key never appears in errors, logs or String output.
	PublicKey  string `yaml:"public_key" json:"public_key"`
	PrivateKey string `yaml:"private_key" json:"private_key"`
	// ClientID is the integration's clientId from developer.connectwise.com,
	// sent in the clientId header.
	ClientID string `yaml:"client_id" json:"client_id"`
	// APIVersion pins the versioned Accept header; default DefaultAPIVersion.
	APIVersion string `yaml:"api_version" json:"api_version"`
	// ObjectIDFieldID is the contact custom field that stores the M365
	// object id (psa.Contact.ExternalID); 0 means it is not stored.
	ObjectIDFieldID int `yaml:"object_id_field_id" json:"object_id_field_id"`
	// OfficeLocationFieldID is the contact custom field that stores the
	// office location (psa.Contact.OfficeLocation); 0 means it is not
	// stored. Manage has no contact field of its own for it: a contact's
	// site belongs to its company's address book, not to the person.
	OfficeLocationFieldID int `yaml:"office_location_field_id" json:"office_location_field_id"`
	// TenantIDFieldID is the company custom field (a Text field) that holds
	// the customer's Microsoft 365 tenant id, for onboarding to match
	// tenants to companies and to write a mapping back; 0 means none.
	TenantIDFieldID int `yaml:"tenant_id_field" json:"tenant_id_field"`
	// PageSize is how many contacts one list read returns, at most
	// MaxPageSize; default DefaultPageSize.
	PageSize int `yaml:"page_size" json:"page_size"`
}

// apiVersionPattern is Manage's version format ("2025.1", "2019.5").
var apiVersionPattern = regexp.MustCompile(`^[0-9]{4}\.[0-9]{1,2}$`)

// Validate reports every problem with the config at once, each naming its
// YAML key. It never repeats a secret's value.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, msg string) { errs = append(errs, fmt.Errorf("connectwise: %s: %s", key, msg)) }
	if strings.TrimSpace(c.SiteURL) == "" {
		bad("site_url", "is required (e.g. https://na.myconnectwise.net)")
	} else if u, err := url.Parse(c.SiteURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("site_url", "must be an absolute http(s) URL such as https://na.myconnectwise.net")
	} else if u.User != nil {
		bad("site_url", "must not carry credentials; use company_id, public_key and private_key")
	} else if u.RawQuery != "" || u.Fragment != "" {
		bad("site_url", "must not have a query or fragment")
	}
	for _, f := range []struct{ key, value string }{
		{"company_id", c.CompanyID}, {"public_key", c.PublicKey}, {"private_key", c.PrivateKey}, {"client_id", c.ClientID},
	} {
		switch {
		case strings.TrimSpace(f.value) == "":
			bad(f.key, "is required")
		case strings.ContainsAny(f.value, " \t\r\n"):
			bad(f.key, "must not contain whitespace")
		}
	}
	if strings.ContainsAny(c.CompanyID, "+:") {
		bad("company_id", "must not contain '+' or ':' (they separate the Basic auth user name)")
	}
	if strings.Contains(c.PublicKey, ":") {
		bad("public_key", "must not contain ':'")
	}
	if c.APIVersion != "" && !apiVersionPattern.MatchString(c.APIVersion) {
		bad("api_version", fmt.Sprintf("must look like %s, got %q", DefaultAPIVersion, c.APIVersion))
	}
	if c.ObjectIDFieldID < 0 {
		bad("object_id_field_id", "must be a custom field id, or 0 to not store the M365 object id")
	}
	if c.OfficeLocationFieldID < 0 {
		bad("office_location_field_id", "must be a custom field id, or 0 to not store the office location")
	}
	if c.ObjectIDFieldID > 0 && c.ObjectIDFieldID == c.OfficeLocationFieldID {
		bad("office_location_field_id", "must differ from object_id_field_id")
	}
	if c.TenantIDFieldID < 0 {
		bad("tenant_id_field", "must be a company custom field id, or 0 to keep no tenant id on companies")
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		bad("page_size", fmt.Sprintf("must be between 1 and %d (0 means %d)", MaxPageSize, DefaultPageSize))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero optional fields.
func (c Config) withDefaults() Config {
	if c.APIVersion == "" {
		c.APIVersion = DefaultAPIVersion
	}
	if c.PageSize == 0 {
		c.PageSize = DefaultPageSize
	}
	return c
}

// apiBase is the REST API base URL for the site.
func (c Config) apiBase() (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(c.SiteURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("connectwise: site_url: %w", err)
	}
	if !strings.HasSuffix(u.Path, "/apis/3.0") {
		u.Path += apiPath
	}
	return u, nil
}

// redacted is what String, GoString and MarshalJSON show for a set private
// key.
const redacted = "[redacted]"

// shownKey is the private key as String and MarshalJSON show it: redacted
// when set, empty when not.
func (c Config) shownKey() string {
	if c.PrivateKey == "" {
		return ""
	}
	return redacted
}

// String shows the config with the private key redacted, so that printing
// or logging a Config cannot leak it (logrus's text formatter prints field
// values with fmt).
func (c Config) String() string {
	return fmt.Sprintf("connectwise.Config{SiteURL:%q CompanyID:%q PublicKey:%q PrivateKey:%q ClientID:%q APIVersion:%q ObjectIDFieldID:%d OfficeLocationFieldID:%d TenantIDFieldID:%d PageSize:%d}",
		c.SiteURL, c.CompanyID, c.PublicKey, c.shownKey(), c.ClientID, c.APIVersion, c.ObjectIDFieldID, c.OfficeLocationFieldID, c.TenantIDFieldID, c.PageSize)
}

// GoString is String, so %#v redacts too.
func (c Config) GoString() string { return c.String() }

// MarshalJSON renders the config under its YAML key names with the private
// key redacted: logrus's JSON formatter (production logging) marshals field
// values, and any other JSON output of a Config must not leak the key
// either.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // the fields and their tags, without this method
	p := plain(c)
	p.PrivateKey = c.shownKey()
	return json.Marshal(p)
}
