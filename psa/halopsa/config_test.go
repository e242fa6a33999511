package halopsa

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func validConfig() Config {
	return Config{InstanceURL: "https://mymsp.halopsa.com", ClientID: "id", ClientSecret: "secret"}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(*Config)
		badKeys []string
	}{
		{name: "minimal", change: func(*Config) {}},
		{name: "everything", change: func(c *Config) {
			c.AuthURL, c.Tenant, c.Scope, c.SiteID, c.PageSize = "https://auth.halopsa.com", "mymsp", "read:users edit:users", 4, 500
			c.OfficeLocationField, c.ContactTypeField = "CFOffice", "CFType"
		}},
		{name: "local http instance", change: func(c *Config) { c.InstanceURL = "http://127.0.0.1:8080" }},
		{name: "nothing", change: func(c *Config) { *c = Config{} }, badKeys: []string{"instance_url", "client_id", "client_secret"}},
		{name: "bad urls", change: func(c *Config) { c.InstanceURL, c.AuthURL = "mymsp.halopsa.com", "https://x/auth?tenant=a" }, badKeys: []string{"instance_url", "auth_url"}},
		{name: "ftp", change: func(c *Config) { c.InstanceURL = "ftp://mymsp" }, badKeys: []string{"instance_url"}},
		{name: "tenant with a query", change: func(c *Config) { c.Tenant = "a&b=c" }, badKeys: []string{"tenant"}},
		{name: "negative numbers", change: func(c *Config) { c.SiteID, c.PageSize = -1, -1 }, badKeys: []string{"site_id", "page_size"}},
		{name: "page too big", change: func(c *Config) { c.PageSize = MaxPageSize + 1 }, badKeys: []string{"page_size"}},
		{name: "custom fields", change: func(c *Config) { c.OfficeLocationField, c.ContactTypeField = " CF", "cf" }, badKeys: []string{"office_location_field"}},
		{name: "native tenant field", change: func(c *Config) { c.TenantIDField = DefaultTenantIDField }},
		{name: "tenant id in a custom field", change: func(c *Config) { c.TenantIDField = "CFTenantID" }, badKeys: []string{"tenant_id_field"}},
		{name: "same custom field twice", change: func(c *Config) { c.OfficeLocationField, c.ContactTypeField = "CFX", "cfx" }, badKeys: []string{"contact_type_field"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			if len(tt.badKeys) == 0 {
				require.NoError(t, err)
				_, err := New(c)
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tt.badKeys), err.Error())
			for i, key := range tt.badKeys {
				require.True(t, strings.HasPrefix(lines[i], "halopsa config: "+key+": "), lines[i])
			}
			_, err = New(c)
			require.Error(t, err)
		})
	}
}

func TestConfigDefaultsAndYAML(t *testing.T) {
	t.Parallel()
	var c Config
	require.NoError(t, yaml.Unmarshal([]byte(`
instance_url: https://mymsp.halopsa.com/
auth_url: https://mymsp.halopsa.com/auth/
tenant: mymsp
client_id: abc
client_secret: def
site_id: 3
office_location_field: CFOffice
contact_type_field: CFType
`), &c))
	require.NoError(t, c.Validate())
	d := c.withDefaults()
	require.Equal(t, "https://mymsp.halopsa.com", d.InstanceURL)
	require.Equal(t, "https://mymsp.halopsa.com/auth", d.AuthURL)
	require.Equal(t, DefaultScope, d.Scope)
	require.Equal(t, DefaultPageSize, d.PageSize)
	require.Equal(t, 3, d.SiteID)
	require.Equal(t, "CFType", d.ContactTypeField)
}

func TestConfigNeverShowsTheSecret(t *testing.T) {
	t.Parallel()
	c := validConfig()
	c.ClientSecret = "very-secret-value"
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%+v", c), c.String()} {
		require.NotContains(t, s, "very-secret-value")
		require.Contains(t, s, "[redacted]")
	}
	logged := func(f logrus.Formatter) string {
		var sb strings.Builder
		l := logrus.New()
		l.Out, l.Level, l.Formatter = &sb, logrus.DebugLevel, f
		l.WithField("cfg", c).WithField("cfg_ptr", &c).Info("config")
		return sb.String()
	}
	marshalled, err := json.Marshal(c)
	require.NoError(t, err)
	for _, s := range []string{logged(&logrus.JSONFormatter{}), logged(&logrus.TextFormatter{DisableColors: true}), string(marshalled)} {
		require.NotContains(t, s, "very-secret-value")
		require.Contains(t, s, "mymsp.halopsa.com")
		require.Contains(t, s, "[redacted]")
	}
	var back map[string]any
	require.NoError(t, json.Unmarshal(marshalled, &back))
	require.Equal(t, "[redacted]", back["client_secret"])
	require.Equal(t, "id", back["client_id"])
	c.ClientSecret = ""
	empty, err := json.Marshal(c)
	require.NoError(t, err)
	require.Contains(t, string(empty), `"client_secret":""`, "an unset secret shows as unset")
}
