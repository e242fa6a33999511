package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTenantIDFieldKeys: each PSA's tenant-id key reaches its client's
// config, and a bad value is an error naming the key.
func TestTenantIDFieldKeys(t *testing.T) {
	t.Parallel()
	secrets := env(map[string]string{"GRAPH_SECRET": "s", "CW_PRIVATE": "p"})
	withCW := strings.Replace(good, "    client_id: 00000000-0000-0000-0000-000000000001\n",
		"    client_id: 00000000-0000-0000-0000-000000000001\n    tenant_id_field: 21\n", 1)
	c, err := Parse([]byte(withCW), secrets)
	require.NoError(t, err)
	require.Equal(t, 21, c.PSA.ConnectWise.TenantIDFieldID)

	_, err = Parse([]byte(strings.Replace(withCW, "tenant_id_field: 21", "tenant_id_field: -1", 1)), secrets)
	require.ErrorContains(t, err, "tenant_id_field")

	at := strings.Replace(good, `  type: connectwise
  connectwise:
    site_url: https://na.myconnectwise.net
    company_id: mymsp
    public_key: pub
    private_key: ${CW_PRIVATE}
    client_id: 00000000-0000-0000-0000-000000000001
`, `  type: autotask
  autotask:
    username: api@mymsp.example
    secret: ${CW_PRIVATE}
    integration_code: ABCDEFGH
    tenant_id_udf: M365 Tenant ID
`, 1)
	c, err = Parse([]byte(at), secrets)
	require.NoError(t, err)
	require.Equal(t, "M365 Tenant ID", c.PSA.Autotask.TenantIDUDF)

	halo := strings.Replace(at, `  type: autotask
  autotask:
    username: api@mymsp.example
    secret: ${CW_PRIVATE}
    integration_code: ABCDEFGH
    tenant_id_udf: M365 Tenant ID
`, `  type: halopsa
  halopsa:
    instance_url: https://mymsp.halopsa.com
    client_id: abc
    client_secret: ${CW_PRIVATE}
    tenant_id_field: azure_tenants
`, 1)
	c, err = Parse([]byte(halo), secrets)
	require.NoError(t, err)
	require.Equal(t, "azure_tenants", c.PSA.HaloPSA.TenantIDField)
	_, err = Parse([]byte(strings.Replace(halo, "tenant_id_field: azure_tenants", "tenant_id_field: CFTenant", 1)), secrets)
	require.ErrorContains(t, err, "tenant_id_field")
}
