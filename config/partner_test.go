package config

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// partnerOnly is a config without tenants: onboarding brings them.
var partnerOnly = good[:strings.Index(good, "tenants:")] + `
partner:
  tenant_id: 9a7e0000-0000-4000-8000-00000000aa01
  redirect_uri: https://psasync.example.com/consented
`

func TestPartnerWithoutTenants(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(partnerOnly), env(map[string]string{"GRAPH_SECRET": "s", "CW_PRIVATE": "p"}))
	require.NoError(t, err)
	require.True(t, c.Partner.Enabled())
	require.Empty(t, c.Tenants)
	require.Equal(t, DefaultConsentCheckInterval, c.Partner.EffectiveConsentCheckInterval())
	app := c.Partner.App(c.Graph)
	require.Equal(t, c.Graph.ClientID, app.ClientID, "the shared app reads the partner tenant unless partner.client_id is set")
	require.Equal(t, "s", app.ClientSecret)

	c.Partner.ClientID, c.Partner.ClientSecret = "other", "other-secret"
	require.Equal(t, "other-secret", c.Partner.App(c.Graph).ClientSecret)
	c.Partner.ConsentCheckInterval = -time.Second
	require.Zero(t, c.Partner.EffectiveConsentCheckInterval(), "negative: never")
}

func TestPartnerErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	bad := good[:strings.Index(good, "tenants:")] + `
partner:
  tenant_id: not-a-guid
  redirect_uri: /relative
  consent_check_interval: 10s
`
	_, err := Parse([]byte(bad), env(map[string]string{"GRAPH_SECRET": "s", "CW_PRIVATE": "p"}))
	require.Error(t, err)
	for _, want := range []string{
		`partner.tenant_id: "not-a-guid" is not a tenant id (a GUID)`,
		`partner.redirect_uri: "/relative" is not an absolute http(s) URL`,
		"partner.consent_check_interval: 10s is shorter than 1m",
	} {
		require.Contains(t, err.Error(), want)
	}
	noTenants := good[:strings.Index(good, "tenants:")]
	_, err = Parse([]byte(noTenants), env(map[string]string{"GRAPH_SECRET": "s", "CW_PRIVATE": "p"}))
	require.ErrorContains(t, err, "tenants: at least one tenant is required (or partner.tenant_id")
}
