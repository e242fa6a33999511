package autotask_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/psa/autotask"
)

func validConfig() autotask.Config {
	return autotask.Config{Username: "api@msp.test", Secret: "s3cr3t-value", IntegrationCode: "ABCDEFGH"}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		mod  func(*autotask.Config)
		keys []string // the YAML keys the error must name; none = valid
	}{
		{"minimal", func(*autotask.Config) {}, nil},
		{"everything", func(c *autotask.Config) {
			c.ZoneURL = "https://webservices.autotask.net/atservicesrest"
			c.ImpersonationResourceID = "29682885"
			c.ExternalIDField = "udf:M365 Object ID"
			c.DepartmentUDF, c.OfficeLocationUDF, c.ContactTypeUDF = "Department", "Office", "Contact Type"
			c.PageSize = 200
		}, nil},
		{"missing credentials", func(c *autotask.Config) { *c = autotask.Config{} }, []string{"username", "secret", "integration_code"}},
		{"relative zone url", func(c *autotask.Config) { c.ZoneURL = "webservices.autotask.net" }, []string{"zone_url"}},
		{"ftp zone url", func(c *autotask.Config) { c.ZoneURL = "ftp://x/atservicesrest" }, []string{"zone_url"}},
		{"impersonation id not a number", func(c *autotask.Config) { c.ImpersonationResourceID = "bob" }, []string{"impersonation_resource_id"}},
		{"unknown external id field", func(c *autotask.Config) { c.ExternalIDField = "email" }, []string{"external_id_field"}},
		{"udf prefix without a name", func(c *autotask.Config) { c.ExternalIDField = "udf:" }, []string{"external_id_field"}},
		{"one UDF for two fields", func(c *autotask.Config) { c.DepartmentUDF, c.ContactTypeUDF = "Dept", "dept" }, []string{"contact_type_udf"}},
		{"external id UDF reused", func(c *autotask.Config) { c.ExternalIDField, c.OfficeLocationUDF = "udf:Office", "Office" }, []string{"office_location_udf"}},
		{"UDF name with spaces around", func(c *autotask.Config) { c.DepartmentUDF = " Department" }, []string{"department_udf"}},
		{"tenant UDF with spaces around", func(c *autotask.Config) { c.TenantIDUDF = "M365 Tenant ID " }, []string{"tenant_id_udf"}},
		{"page size too big", func(c *autotask.Config) { c.PageSize = 501 }, []string{"page_size"}},
		{"page size negative", func(c *autotask.Config) { c.PageSize = -1 }, []string{"page_size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tc.mod(&cfg)
			err := cfg.Validate()
			if len(tc.keys) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, k := range tc.keys {
				require.Contains(t, err.Error(), "autotask config: "+k+":")
			}
			require.Equal(t, len(tc.keys), strings.Count(err.Error(), "autotask config:"), err.Error())
			require.NotContains(t, err.Error(), "s3cr3t-value")
		})
	}
}

func TestConfigDefaultsAndYAML(t *testing.T) {
	t.Parallel()
	var cfg autotask.Config
	require.NoError(t, yaml.Unmarshal([]byte(`
username: api@msp.test
secret: s3cr3t-value
integration_code: ABCDEFGH
department_udf: Department
external_id_field: "udf:M365 Object ID"
`), &cfg))
	require.NoError(t, cfg.Validate())
	d := cfg.WithDefaults()
	require.Equal(t, autotask.DefaultZoneURL, d.ZoneURL)
	require.Equal(t, autotask.MaxPageSize, d.PageSize)
	require.Equal(t, "udf:M365 Object ID", d.ExternalIDField)
	require.Equal(t, "Department", d.DepartmentUDF)
	require.Equal(t, autotask.DefaultExternalIDField, validConfig().WithDefaults().ExternalIDField)
}

func TestConfigNeverPrintsTheSecret(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	logged := func(f logrus.Formatter) string {
		var out strings.Builder
		l := logrus.New()
		l.Out, l.Level, l.Formatter = &out, logrus.DebugLevel, f
		l.WithField("cfg", cfg).WithField("cfg_ptr", &cfg).Info("config")
		return out.String()
	}
	asJSON, asText := logged(&logrus.JSONFormatter{}), logged(&logrus.TextFormatter{DisableColors: true})
	marshalled, err := json.Marshal(cfg)
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), asJSON, asText, string(marshalled)} {
		require.NotContains(t, s, "s3cr3t-value")
		require.NotContains(t, s, "ABCDEFGH", "the integration code is shortened too")
		require.Contains(t, s, "api@msp.test")
	}
	var back map[string]any
	require.NoError(t, json.Unmarshal(marshalled, &back))
	require.Equal(t, "[redacted]", back["secret"])
	require.Equal(t, "ABCD****", back["integration_code"])
	require.Equal(t, "api@msp.test", back["username"])
}
