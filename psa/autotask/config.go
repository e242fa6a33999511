package autotask

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Defaults for Config fields left empty.
const (
	// DefaultZoneURL is where the zone of an API user is looked up.
	DefaultZoneURL = "https://webservices.autotask.net/atservicesrest"
	// DefaultExternalIDField keeps the Microsoft 365 object id in the
	// contact's native externalID field.
	DefaultExternalIDField = "externalID"
	// MaxPageSize is the most records one Autotask query returns.
	MaxPageSize = 500
)

// udfPrefix marks an ExternalIDField that names a contact UDF.
const udfPrefix = "udf:"

// Config is an Autotask connection and field mapping, as read from psasync's
// YAML config. Autotask contacts have no department, contact type or office
// location field: each is synced only into the contact UDF named here, and
// not at all when the name is empty.
type Config struct {
	// ZoneURL is where the API user's zone is looked up
	// (GET {ZoneURL}/v1.0/zoneInformation?user=...); default DefaultZoneURL.
	ZoneURL string `yaml:"zone_url" json:"zone_url"`
	// Username is the API-only user's user name (an email address).
	Username string `yaml:"username" json:"username"`
	// Secret is the API user's password; it never appears in errors or logs.
	Secret string `yaml:"secret" json:"secret"`
	// IntegrationCode is the API tracking identifier; Autotask's thread
	// limit is counted per tracking identifier and endpoint.
	IntegrationCode string `yaml:"integration_code" json:"integration_code"`
	// ImpersonationResourceID, when set, makes writes appear as made by
	// that resource (header ImpersonationResourceId).
	ImpersonationResourceID string `yaml:"impersonation_resource_id" json:"impersonation_resource_id"`
	// ExternalIDField is where the Microsoft 365 object id is kept:
	// "externalID" (default, the native field) or "udf:<name>" for a
	// contact user-defined field.
	ExternalIDField string `yaml:"external_id_field" json:"external_id_field"`
	// DepartmentUDF names the contact UDF that holds the department;
	// empty means the department is not synced.
	DepartmentUDF string `yaml:"department_udf" json:"department_udf"`
	// OfficeLocationUDF names the contact UDF that holds the office
	// location; empty means it is not synced.
	OfficeLocationUDF string `yaml:"office_location_udf" json:"office_location_udf"`
	// ContactTypeUDF names the contact UDF that holds the contact type;
	// empty means it is not synced.
	ContactTypeUDF string `yaml:"contact_type_udf" json:"contact_type_udf"`
	// TenantIDUDF names the company UDF that holds the customer's
	// Microsoft 365 tenant id, for onboarding to match tenants to companies
	// and to write a mapping back; empty means none.
	TenantIDUDF string `yaml:"tenant_id_udf" json:"tenant_id_udf"`
	// PageSize is the MaxRecords of each query page, 1 to 500; default 500
	// so that a company of N contacts costs ⌈N/500⌉ reads.
	PageSize int `yaml:"page_size" json:"page_size"`
}

// String prints the config with the secret hidden, so that %v and %+v are
// safe in logs (logrus's text formatter prints field values with fmt).
func (c Config) String() string {
	return fmt.Sprintf("{ZoneURL:%s Username:%s Secret:%s IntegrationCode:%s ImpersonationResourceID:%s ExternalIDField:%s DepartmentUDF:%q OfficeLocationUDF:%q ContactTypeUDF:%q TenantIDUDF:%q PageSize:%d}",
		c.ZoneURL, c.Username, c.shownSecret(), redactCode(c.IntegrationCode), c.ImpersonationResourceID,
		c.ExternalIDField, c.DepartmentUDF, c.OfficeLocationUDF, c.ContactTypeUDF, c.TenantIDUDF, c.PageSize)
}

// GoString keeps %#v as safe as %v.
func (c Config) GoString() string { return "autotask.Config" + c.String() }

// MarshalJSON renders the config under its YAML key names with the secret
// hidden and the integration code shortened as in String: logrus's JSON
// formatter (production logging) marshals field values, and any other JSON
// output of a Config must not leak them either.
func (c Config) MarshalJSON() ([]byte, error) {
	type plain Config // the fields and their tags, without this method
	p := plain(c)
	p.Secret, p.IntegrationCode = c.shownSecret(), redactCode(c.IntegrationCode)
	return json.Marshal(p)
}

// shownSecret is the secret as String and MarshalJSON show it: redacted when
// set, empty when not.
func (c Config) shownSecret() string {
	if c.Secret == "" {
		return ""
	}
	return "[redacted]"
}

func redactCode(code string) string {
	if len(code) <= 4 {
		return strings.Repeat("*", len(code))
	}
	return code[:4] + strings.Repeat("*", len(code)-4)
}

// WithDefaults returns c with every empty optional field set to its default.
func (c Config) WithDefaults() Config {
	if c.ZoneURL == "" {
		c.ZoneURL = DefaultZoneURL
	}
	if c.ExternalIDField == "" {
		c.ExternalIDField = DefaultExternalIDField
	}
	if c.PageSize == 0 {
		c.PageSize = MaxPageSize
	}
	return c
}

// Validate reports every bad setting, each error naming its YAML key; empty
// optional fields are valid (they take their defaults).
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("autotask config: %s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.ZoneURL != "" {
		u, err := url.Parse(c.ZoneURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("zone_url", "must be an absolute http(s) URL")
		}
	}
	if strings.TrimSpace(c.Username) == "" {
		bad("username", "is required")
	}
	if c.Secret == "" {
		bad("secret", "is required")
	}
	if strings.TrimSpace(c.IntegrationCode) == "" {
		bad("integration_code", "is required")
	}
	if c.ImpersonationResourceID != "" {
		if n, err := strconv.ParseInt(c.ImpersonationResourceID, 10, 64); err != nil || n <= 0 {
			bad("impersonation_resource_id", "must be a positive resource id")
		}
	}
	udfs := map[string]string{}
	claim := func(key, name string) {
		if name == "" {
			return
		}
		if strings.TrimSpace(name) != name {
			bad(key, "must not start or end with spaces")
			return
		}
		if other, ok := udfs[strings.ToLower(name)]; ok {
			bad(key, "names the same UDF %q as %s", name, other)
			return
		}
		udfs[strings.ToLower(name)] = key
	}
	switch {
	case c.ExternalIDField == "" || c.ExternalIDField == DefaultExternalIDField:
	case strings.HasPrefix(c.ExternalIDField, udfPrefix) && strings.TrimPrefix(c.ExternalIDField, udfPrefix) != "":
		claim("external_id_field", strings.TrimPrefix(c.ExternalIDField, udfPrefix))
	default:
		bad("external_id_field", `must be "externalID" or "udf:<name>"`)
	}
	claim("department_udf", c.DepartmentUDF)
	claim("office_location_udf", c.OfficeLocationUDF)
	claim("contact_type_udf", c.ContactTypeUDF)
	if c.TenantIDUDF != "" && strings.TrimSpace(c.TenantIDUDF) != c.TenantIDUDF {
		bad("tenant_id_udf", "must not start or end with spaces")
	}
	if c.PageSize < 0 || c.PageSize > MaxPageSize {
		bad("page_size", "must be between 1 and %d", MaxPageSize)
	}
	return errors.Join(errs...)
}

// externalIDUDF returns the UDF holding the object id, or "" for the native
// externalID field.
func (c Config) externalIDUDF() string {
	if name, ok := strings.CutPrefix(c.ExternalIDField, udfPrefix); ok {
		return name
	}
	return ""
}
