package connectwise_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise"
)

const secretKey = "TopSecretPrivateKey42"

func validConfig() connectwise.Config {
	return connectwise.Config{
		SiteURL:    "https://na.myconnectwise.net",
		CompanyID:  "mymsp",
		PublicKey:  "pub123",
		PrivateKey: secretKey,
		ClientID:   "client-1",
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		edit     func(*connectwise.Config)
		wantKeys []string
	}{
		{name: "valid", edit: func(*connectwise.Config) {}},
		{name: "valid api base", edit: func(c *connectwise.Config) { c.SiteURL = "https://cw.example.com/v2025_1/apis/3.0/" }},
		{name: "everything missing", edit: func(c *connectwise.Config) { *c = connectwise.Config{} },
			wantKeys: []string{"site_url", "company_id", "public_key", "private_key", "client_id"}},
		{name: "relative site", edit: func(c *connectwise.Config) { c.SiteURL = "na.myconnectwise.net" }, wantKeys: []string{"site_url"}},
		{name: "ftp site", edit: func(c *connectwise.Config) { c.SiteURL = "ftp://na.myconnectwise.net" }, wantKeys: []string{"site_url"}},
		{name: "credentials in url", edit: func(c *connectwise.Config) { c.SiteURL = "https://u:p@na.myconnectwise.net" }, wantKeys: []string{"site_url"}},
		{name: "company with plus", edit: func(c *connectwise.Config) { c.CompanyID = "my+msp" }, wantKeys: []string{"company_id"}},
		{name: "whitespace in key", edit: func(c *connectwise.Config) { c.PrivateKey = "abc def" }, wantKeys: []string{"private_key"}},
		{name: "bad version", edit: func(c *connectwise.Config) { c.APIVersion = "v3" }, wantKeys: []string{"api_version"}},
		{name: "negative fields", edit: func(c *connectwise.Config) { c.ObjectIDFieldID, c.OfficeLocationFieldID = -1, -2 },
			wantKeys: []string{"object_id_field_id", "office_location_field_id"}},
		{name: "same custom field", edit: func(c *connectwise.Config) { c.ObjectIDFieldID, c.OfficeLocationFieldID = 5, 5 },
			wantKeys: []string{"office_location_field_id"}},
		{name: "negative tenant field", edit: func(c *connectwise.Config) { c.TenantIDFieldID = -3 }, wantKeys: []string{"tenant_id_field"}},
		{name: "page size too big", edit: func(c *connectwise.Config) { c.PageSize = 1001 }, wantKeys: []string{"page_size"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := validConfig()
			tc.edit(&cfg)
			err := cfg.Validate()
			if len(tc.wantKeys) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, k := range tc.wantKeys {
				require.Contains(t, err.Error(), k+":")
			}
			require.NotContains(t, err.Error(), secretKey)
			require.NotContains(t, err.Error(), "abc def")
			_, nerr := connectwise.New(cfg)
			require.EqualError(t, nerr, err.Error())
		})
	}
}

func TestConfigNeverShowsPrivateKey(t *testing.T) {
	t.Parallel()
	cfg := validConfig()
	logged := func(f logrus.Formatter) string {
		var buf bytes.Buffer
		l := logrus.New()
		l.Out, l.Level, l.Formatter = &buf, logrus.DebugLevel, f
		l.WithField("cw", cfg).WithField("cw_ptr", &cfg).Info("config")
		return buf.String()
	}
	asJSON, asText := logged(&logrus.JSONFormatter{}), logged(&logrus.TextFormatter{DisableColors: true})
	marshalled, err := json.Marshal(cfg)
	require.NoError(t, err)
	outputs := []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v", cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), fmt.Sprintf("%s", cfg),
		fmt.Sprintf("%v", &cfg), asJSON, asText, string(marshalled),
	}
	client, err := connectwise.New(cfg)
	require.NoError(t, err)
	outputs = append(outputs, fmt.Sprintf("%v", client), fmt.Sprintf("%+v", *client), fmt.Sprintf("%#v", client))
	encoded := base64.StdEncoding.EncodeToString([]byte(cfg.CompanyID + "+" + cfg.PublicKey + ":" + cfg.PrivateKey))
	for _, s := range outputs {
		require.NotContains(t, s, secretKey)
		require.NotContains(t, s, encoded)
	}
	require.Contains(t, fmt.Sprint(cfg), "pub123", "the rest of the config stays visible")
	require.Contains(t, asJSON, `"private_key":"[redacted]"`)
	require.Contains(t, asJSON, `"public_key":"pub123"`, "the JSON log keeps the rest of the config")
	require.Contains(t, asText, "pub123", "the text log keeps the rest of the config")

	var back map[string]any
	require.NoError(t, json.Unmarshal(marshalled, &back))
	require.Equal(t, "[redacted]", back["private_key"])
	cfg.PrivateKey = ""
	empty, err := json.Marshal(cfg)
	require.NoError(t, err)
	require.Contains(t, string(empty), `"private_key":""`, "an unset key shows as unset")
}
