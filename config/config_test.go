package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

const good = `
log: {level: info, format: json}
graph:
  client_id: 11111111-2222-3333-4444-555555555555
  client_secret: ${GRAPH_SECRET}
psa:
  type: connectwise
  connectwise:
    site_url: https://na.myconnectwise.net
    company_id: mymsp
    public_key: pub
    private_key: ${CW_PRIVATE}
    client_id: 00000000-0000-0000-0000-000000000001
tenants:
  - id: aaaaaaaa-0000-0000-0000-000000000001
    name: Contoso
    psa_default_company_id: "250"
    psa_contact_type: End User
    office365_sync_filter: "department ne 'Contractors'"
    domain_companies: {contoso.com: "250", fabrikam.com: "251"}
`

func TestParseGood(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(good), env(map[string]string{"GRAPH_SECRET": "s3cret", "CW_PRIVATE": "priv"}))
	require.NoError(t, err)
	require.Equal(t, "s3cret", c.Graph.ClientSecret)
	require.Equal(t, "priv", c.PSA.ConnectWise.PrivateKey)
	tn, ok := c.Tenant("contoso")
	require.True(t, ok, "tenant found by name")
	require.True(t, tn.SyncEnabled(), "office365_sync_enabled defaults to true")
	require.Equal(t, "s3cret", tn.GraphApp(c.Graph).ClientSecret, "tenant inherits the shared app")
}

func TestParseEnvOverrides(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(good), env(map[string]string{"GRAPH_SECRET": "a", "CW_PRIVATE": "b", "PSASYNC_CONNECTWISE_PRIVATE_KEY": "from-env", "PSASYNC_REDIS_ADDR": "redis:6379"}))
	require.NoError(t, err)
	require.Equal(t, "from-env", c.PSA.ConnectWise.PrivateKey)
	require.Equal(t, "redis:6379", c.Redis.Addr)
}

func TestParseErrorsNameEveryKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want []string
	}{
		{"missing env var", good, map[string]string{"CW_PRIVATE": "x"}, []string{"GRAPH_SECRET is not set"}},
		{"unknown key", "psa: {type: connectwise}\ntenantz: []\n", nil, []string{"tenantz"}},
		{"not yaml", "psa: [", nil, []string{"yaml"}},
		{"everything wrong at once", `
log: {level: loud, format: xml}
psa: {type: sap}
sync: {concurrency: 500, deactivation_guard: 2}
mapping:
  fields:
    shoe_size: {source: "{{.JobTitle}}"}
tenants:
  - name: nobody
    office365_sync_filter: "department eq"
    domain_companies: {"not a domain": ""}
  - id: dup
  - id: dup
`, nil, []string{"log.level", "log.format", "psa.type", "sync.concurrency", "sync.deactivation_guard",
			"shoe_size", "tenants[0].id", "tenants[0].graph.client_id", "tenants[0].office365_sync_filter",
			"tenants[0].domain_companies", "tenants[2].id: dup is also tenants[1].id"}},
		{"bad trusted proxy", good + "server: {trusted_proxies: [10.0.0.0/8, proxy.example]}\n", map[string]string{"GRAPH_SECRET": "a", "CW_PRIVATE": "b"},
			[]string{`server.trusted_proxies[1]: "proxy.example" is not an IP address or CIDR`}},
		{"read token equal to the API token", good + "server: {api_token: same-token-0123456789, read_token: same-token-0123456789}\n", map[string]string{"GRAPH_SECRET": "a", "CW_PRIVATE": "b"},
			[]string{"server.read_token: must differ from server.api_token"}},
		{"no tenants", "psa: {type: connectwise, connectwise: {site_url: 'https://x', company_id: a, public_key: b, private_key: c, client_id: d}}\n", nil, []string{"tenants: at least one"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.yaml), env(tc.env))
			require.Error(t, err)
			for _, w := range tc.want {
				require.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	t.Parallel()
	y := strings.Replace(good, "site_url: https://na.myconnectwise.net", "site_url: ''", 1)
	_, err := Parse([]byte(y), env(map[string]string{"GRAPH_SECRET": "topsecret-graph", "CW_PRIVATE": "topsecret-cw"}))
	require.Error(t, err)
	require.NotContains(t, err.Error(), "topsecret")
}

func TestSelectTenant(t *testing.T) {
	t.Parallel()
	one := &Config{Tenants: []Tenant{{ID: "t1", Name: "contoso"}}}
	two := &Config{Tenants: []Tenant{{ID: "t1", Name: "contoso"}, {ID: "t2"}}}
	tests := []struct {
		name    string
		cfg     *Config
		arg     string
		want    string
		wantErr error
		says    []string
	}{
		{"the only tenant", one, "", "t1", nil, nil},
		{"by id", two, "t2", "t2", nil, nil},
		{"by name, any case", two, "CONTOSO", "t1", nil, nil},
		{"several and none named", two, "", "", ErrTenantRequired, []string{"2 tenants", "contoso (t1)", "t2"}},
		{"no tenants", &Config{}, "", "", ErrTenantRequired, []string{"0 tenants"}},
		{"unknown", two, "nobody", "", ErrUnknownTenant, []string{`"nobody"`, "contoso (t1)"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tc.cfg.SelectTenant(tc.arg)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				for _, s := range tc.says {
					require.Contains(t, err.Error(), s)
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got.ID)
		})
	}
}

func TestDefaultKeyPrefixIsAppliedOnLoad(t *testing.T) {
	t.Parallel()
	c, err := Parse([]byte(good), env(map[string]string{"GRAPH_SECRET": "g", "CW_PRIVATE": "c"}))
	require.NoError(t, err)
	require.Equal(t, DefaultKeyPrefix, c.Redis.KeyPrefix)
	require.Equal(t, DefaultKeyPrefix+"quota:"+c.PSA.Type, c.EffectiveQuota().Key)
	require.Equal(t, "mine:", Redis{KeyPrefix: "mine:"}.Prefix())
	require.Equal(t, DefaultKeyPrefix, Redis{}.Prefix())
}

func TestCompanyOwners(t *testing.T) {
	t.Parallel()
	c := &Config{Tenants: []Tenant{{ID: "a", PSADefaultCompanyID: "250", DomainCompanies: map[string]string{"x.com": "251"}}, {ID: "b"}}}
	owners := c.CompanyOwners()
	require.ElementsMatch(t, []string{"250", "251"}, owners["a"])
	require.Equal(t, []string{""}, owners["b"])
}
