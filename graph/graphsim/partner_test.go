package graphsim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

const partner = "msp"

func setupPartner(t testing.TB, customers ...graphsim.Customer) *testBundle {
	t.Helper()
	sim := graphsim.NewServer(t, graphsim.WithTenant(graphsim.TenantSpec{ID: partner}))
	for _, c := range customers {
		require.NoError(t, sim.AddCustomer(c))
	}
	return &testBundle{sim: sim, hc: sim.HTTPClient()}
}

func custID(i int) string { return fmt.Sprintf("10000000-0000-4000-8000-%012d", i) }

func TestDelegatedAdminCustomersAsDocumented(t *testing.T) {
	t.Parallel()
	b := setupPartner(t,
		graphsim.Customer{TenantID: custID(1), DisplayName: "Contoso Inc"},
		graphsim.Customer{TenantID: custID(2), DisplayName: "Contoso subsidiary Inc", Relationship: graphsim.RelationshipBoth},
		graphsim.Customer{TenantID: custID(3), DisplayName: "Legacy Only", Relationship: graphsim.RelationshipContract},
	)
	tok := b.token(t, partner)
	status, m := b.getJSON(t, "/v1.0/tenantRelationships/delegatedAdminCustomers", tok)
	require.Equal(t, http.StatusOK, status, m)
	require.Equal(t, b.sim.URL+"/v1.0/tenantRelationships/$metadata#delegatedAdminCustomers", m["@odata.context"])
	items := values(t, m)
	require.Len(t, items, 2, "only GDAP customers")
	require.Equal(t, "#microsoft.graph.delegatedAdminCustomer", items[0]["@odata.type"])
	require.NotEmpty(t, items[0]["@odata.etag"])
	require.Equal(t, custID(1), items[0]["id"])
	require.Equal(t, custID(1), items[0]["tenantId"])
	require.Equal(t, "Contoso Inc", items[0]["displayName"])

	status, m = b.getJSON(t, "/v1.0/tenantRelationships/delegatedAdminCustomers?$select=tenantId", tok)
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, values(t, m)[0], "displayName", "$select is honoured")
	require.Contains(t, values(t, m)[0], "@odata.etag", "annotations stay")

	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/tenantRelationships/delegatedAdminCustomers?$top=301", tok, nil)
	require.Equal(t, http.StatusBadRequest, status)
	code, _ := graphError(t, raw)
	require.Equal(t, "Request_UnsupportedQuery", code)
}

func TestContractsKeepTheirStaleCopies(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, graphsim.Customer{
		TenantID: custID(1), DisplayName: "Fabrikam Group", Relationship: graphsim.RelationshipContract,
		ContractName: "Fabrikam Ltd", ContractDefaultDomain: "fabrikam-old.com",
	})
	status, m := b.getJSON(t, "/v1.0/contracts", b.token(t, partner))
	require.Equal(t, http.StatusOK, status, m)
	items := values(t, m)
	require.Len(t, items, 1)
	require.Equal(t, custID(1), items[0]["customerId"])
	require.Equal(t, "Fabrikam Ltd", items[0]["displayName"])
	require.Equal(t, "fabrikam-old.com", items[0]["defaultDomainName"])
	require.Equal(t, "ResellerPartner", items[0]["contractType"])
	require.NotEqual(t, custID(1), items[0]["id"], "a contract's id is its own object id")

	// The customer's organization has the current name and domains.
	require.NoError(t, b.sim.GrantConsent(custID(1)))
	status, m = b.getJSON(t, "/v1.0/organization", b.token(t, custID(1)))
	require.Equal(t, http.StatusOK, status, m)
	org := values(t, m)[0]
	require.Equal(t, custID(1), org["id"])
	require.Equal(t, "Fabrikam Group", org["displayName"])
	require.Equal(t, []any{
		map[string]any{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": true, "isInitial": false, "name": "fabrikam-group.com", "type": "Managed"},
		map[string]any{"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": false, "isInitial": true, "name": "fabrikamgroup.onmicrosoft.com", "type": "Managed"},
	}, org["verifiedDomains"])
}

func TestPartnerListingsPage(t *testing.T) {
	t.Parallel()
	var cs []graphsim.Customer
	for i := 0; i < 250; i++ {
		cs = append(cs, graphsim.Customer{TenantID: custID(i), DisplayName: fmt.Sprintf("C%d", i), Relationship: graphsim.RelationshipBoth})
	}
	b := setupPartner(t, cs...)
	tok := b.token(t, partner)
	for _, path := range []string{"/v1.0/tenantRelationships/delegatedAdminCustomers?$top=100", "/v1.0/contracts"} {
		seen := map[string]bool{}
		pages := 0
		for path != "" {
			status, m := b.getJSON(t, path, tok)
			require.Equal(t, http.StatusOK, status, m)
			pages++
			for _, it := range values(t, m) {
				id, _ := it["tenantId"].(string)
				if id == "" {
					id = it["customerId"].(string)
				}
				require.False(t, seen[id])
				seen[id] = true
			}
			path = ""
			if next, ok := m["@odata.nextLink"].(string); ok {
				path = pathOf(t, next)
			}
		}
		require.Len(t, seen, 250)
		require.Equal(t, 3, pages, "100 a page by $top or by default")
	}
	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/contracts?$skiptoken=garbage", tok, nil)
	require.Equal(t, http.StatusBadRequest, status)
	code, _ := graphError(t, raw)
	require.Equal(t, "Directory_ExpiredPageToken", code)
}

func TestUnconsentedCustomerGetsNoToken(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, graphsim.Customer{TenantID: custID(9), DisplayName: "Pending", Users: 3})
	form := url.Values{
		"grant_type": {"client_credentials"}, "client_id": {graphsim.DefaultClientID},
		"client_secret": {graphsim.DefaultClientSecret}, "scope": {"https://graph.microsoft.com/.default"},
	}
	status, m := b.tokenResponse(t, custID(9), form)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, "invalid_grant", m["error"])
	require.Equal(t, []any{float64(65001)}, m["error_codes"])
	require.Contains(t, m["error_description"], "AADSTS65001: The user or administrator has not consented to use the application with ID '"+graphsim.DefaultClientID+"'")

	// A wrong secret is still refused first, as Entra ID checks the client.
	form.Set("client_secret", "wrong")
	status, m = b.tokenResponse(t, custID(9), form)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, []any{float64(7000215)}, m["error_codes"])

	// Consent granted through the control endpoint: tokens and users.
	status, _, _ = b.do(t, http.MethodPost, "/_sim/tenants/"+custID(9)+"/grant-consent", "", nil)
	require.Equal(t, http.StatusNoContent, status)
	tok := b.token(t, custID(9))
	status, m = b.getJSON(t, "/v1.0/users?$select=id,userPrincipalName", tok)
	require.Equal(t, http.StatusOK, status, m)
	require.Len(t, values(t, m), 3, "the customer's own users")
	for _, u := range values(t, m) {
		require.Regexp(t, `@pending\.(com|onmicrosoft\.com)$`, u["userPrincipalName"])
	}

	// Revoked later: tokens are issued, Graph refuses.
	require.NoError(t, b.sim.RevokeConsent(custID(9)))
	tok = b.token(t, custID(9))
	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/users", tok, nil)
	require.Equal(t, http.StatusForbidden, status)
	code, _ := graphError(t, raw)
	require.Equal(t, "Authorization_RequestDenied", code)
}

func TestRevokedPermissionAnswers403(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, graphsim.Customer{TenantID: custID(1), DisplayName: "One"})
	tok := b.token(t, partner)
	status, _, _ := b.do(t, http.MethodPost, "/_sim/tenants/"+partner+"/revoke-permission?permission=DelegatedAdminRelationship.Read.All", "", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/tenantRelationships/delegatedAdminCustomers", tok, nil)
	require.Equal(t, http.StatusForbidden, status)
	code, msg := graphError(t, raw)
	require.Equal(t, "Authorization_RequestDenied", code)
	require.Equal(t, "Insufficient privileges to complete the operation.", msg)

	// organization accepts Organization.Read.All or Directory.Read.All.
	require.NoError(t, b.sim.RevokePermission(partner, graphsim.PermOrganizationRead))
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/organization", tok, nil)
	require.Equal(t, http.StatusOK, status)
	require.NoError(t, b.sim.RevokePermission(partner, graphsim.PermDirectoryRead))
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/organization", tok, nil)
	require.Equal(t, http.StatusForbidden, status)
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/contracts", tok, nil)
	require.Equal(t, http.StatusForbidden, status)

	require.NoError(t, b.sim.GrantPermission(partner, graphsim.PermDirectoryRead))
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/contracts", tok, nil)
	require.Equal(t, http.StatusOK, status)

	require.ErrorIs(t, b.sim.RevokePermission(partner, "Mail.Send"), graphsim.ErrInvalid)
	status, _, _ = b.do(t, http.MethodPost, "/_sim/tenants/nobody/grant-permission?permission=Directory.Read.All", "", nil)
	require.Equal(t, http.StatusNotFound, status)
	require.GreaterOrEqual(t, b.sim.Stats().Errors, 3, "refusals are counted")
}

func TestAddCustomerRefusesBadInput(t *testing.T) {
	t.Parallel()
	b := setupPartner(t)
	tests := []struct {
		name string
		c    graphsim.Customer
		want string
	}{
		{"no tenant id", graphsim.Customer{DisplayName: "X"}, "customer tenant id"},
		{"no name", graphsim.Customer{TenantID: custID(1)}, "displayName is required"},
		{"bad relationship", graphsim.Customer{TenantID: custID(1), DisplayName: "X", Relationship: "dap"}, `relationship "dap"`},
		{"no default domain", graphsim.Customer{TenantID: custID(1), DisplayName: "X", Domains: []graphsim.Domain{{Name: "x.onmicrosoft.com", Initial: true}}}, "one default and one initial"},
		{"its own partner", graphsim.Customer{TenantID: partner, DisplayName: "X"}, "its own partner"},
		{"unknown partner", graphsim.Customer{TenantID: custID(1), DisplayName: "X", Partner: "nope"}, "unknown tenant: partner nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := b.sim.AddCustomer(tc.c)
			require.ErrorContains(t, err, tc.want)
		})
	}
	require.Empty(t, b.sim.Customers())
	empty := graphsim.NewServer(t)
	require.ErrorIs(t, empty.AddCustomer(graphsim.Customer{TenantID: custID(1), DisplayName: "X"}), graphsim.ErrUnknownTenant)
}

func TestSimCustomersEndpoint(t *testing.T) {
	t.Parallel()
	b := setupPartner(t)
	status, raw, _ := b.do(t, http.MethodPost, "/_sim/customers", "", graphsim.Customer{TenantID: custID(4), DisplayName: "Via Control", Consented: true, Users: 2})
	require.Equal(t, http.StatusCreated, status, string(raw))
	status, raw, _ = b.do(t, http.MethodPost, "/_sim/customers", "", `{"tenantId": ""}`)
	require.Equal(t, http.StatusBadRequest, status, string(raw))
	status, m := b.getJSON(t, "/_sim/customers", "")
	require.Equal(t, http.StatusOK, status)
	got := values(t, m)
	require.Len(t, got, 1)
	require.Equal(t, custID(4), got[0]["tenantId"])
	require.Equal(t, partner, got[0]["partner"])
	require.Equal(t, true, got[0]["consented"])
	require.Len(t, b.sim.Users(custID(4)), 2)
}

// BenchmarkAddCustomers1000 adds 1,000 customers of 5 users each, the size
// of the discovery benchmark's world.
func BenchmarkAddCustomers1000(b *testing.B) {
	for b.Loop() {
		sim := graphsim.New(graphsim.WithTenant(graphsim.TenantSpec{ID: partner}))
		for i := 0; i < 1000; i++ {
			if err := sim.AddCustomer(graphsim.Customer{TenantID: custID(i), DisplayName: fmt.Sprintf("Customer %d", i), Users: 5}); err != nil {
				b.Fatal(err)
			}
		}
	}
}
