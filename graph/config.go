package graph

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/psasync/psasync/graph/directory"
)

// Public cloud defaults.
const (
	// DefaultAuthorityHost is the Microsoft Entra ID authority of the
	// public cloud.
	DefaultAuthorityHost = "https://login.microsoftonline.com/"
	// DefaultBaseURL is Microsoft Graph v1.0 in the public cloud.
	DefaultBaseURL = "https://graph.microsoft.com/v1.0"
)

// Config is one tenant's Graph access: the app registration that psasync
// uses in that tenant, and where Graph and the authority are.
type Config struct {
	// TenantID is the customer tenant's id (GUID) or verified domain.
	TenantID string `yaml:"tenant_id"`
	// ClientID is the application (client) id of the app registration.
	ClientID string `yaml:"client_id"`
	// ClientSecret authenticates the app; leave empty to use a certificate.
	ClientSecret string `yaml:"client_secret"`
	// CertificatePath is a PEM or PKCS#12 file with the app's certificate
	// and private key, the alternative to ClientSecret.
	CertificatePath string `yaml:"certificate_path"`
	// CertificatePassword decrypts CertificatePath, when it is encrypted.
	CertificatePassword string `yaml:"certificate_password"`
	// AuthorityHost defaults to DefaultAuthorityHost.
	AuthorityHost string `yaml:"authority_host"`
	// BaseURL defaults to DefaultBaseURL.
	BaseURL string `yaml:"base_url"`
	// CAFile is an extra PEM bundle of trusted CAs for both hosts (a TLS
	// inspecting proxy, or a standalone simulator); empty uses the system's.
	CAFile string `yaml:"ca_file"`
}

// WithDefaults fills AuthorityHost and BaseURL when they are empty.
func (c Config) WithDefaults() Config {
	if c.AuthorityHost == "" {
		c.AuthorityHost = DefaultAuthorityHost
	}
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	c.BaseURL = strings.TrimRight(c.BaseURL, "/")
	return c
}

// Validate reports every problem of the config at once, each naming its
// key. Empty hosts are fine (defaults apply).
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("graph config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if strings.TrimSpace(c.TenantID) == "" {
		bad("tenant_id", "is required")
	} else if strings.ContainsAny(c.TenantID, "/?# ") {
		bad("tenant_id", "%q is not a tenant id or domain", c.TenantID)
	}
	if strings.TrimSpace(c.ClientID) == "" {
		bad("client_id", "is required")
	}
	switch {
	case c.ClientSecret == "" && c.CertificatePath == "":
		bad("client_secret", "is required unless certificate_path is set")
	case c.ClientSecret != "" && c.CertificatePath != "":
		bad("certificate_path", "set either client_secret or certificate_path, not both")
	}
	if c.CertificatePassword != "" && c.CertificatePath == "" {
		bad("certificate_password", "is set but certificate_path is not")
	}
	if c.AuthorityHost != "" {
		if err := checkURL(c.AuthorityHost); err != nil {
			bad("authority_host", "%v", err)
		}
	}
	if c.BaseURL != "" {
		if err := checkURL(c.BaseURL); err != nil {
			bad("base_url", "%v", err)
		}
	}
	return errors.Join(errs...)
}

// checkURL requires an absolute https URL (http only on loopback).
func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if !directory.HTTPSOrLoopback(u) {
		return fmt.Errorf("%q must use https", raw)
	}
	return nil
}

// String prints the config with its secrets hidden, so it can be logged.
func (c Config) String() string {
	return fmt.Sprintf("graph.Config{TenantID:%q ClientID:%q ClientSecret:%s CertificatePath:%q CertificatePassword:%s AuthorityHost:%q BaseURL:%q CAFile:%q}",
		c.TenantID, c.ClientID, redacted(c.ClientSecret), c.CertificatePath, redacted(c.CertificatePassword), c.AuthorityHost, c.BaseURL, c.CAFile)
}

// GoString keeps %#v from printing secrets too.
func (c Config) GoString() string { return c.String() }

func redacted(s string) string {
	if s == "" {
		return `""`
	}
	return "[redacted]"
}
