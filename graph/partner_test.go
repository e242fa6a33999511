package graph_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
)

// partnerTenant is the MSP's own tenant in the partner tests.
const partnerTenant = "msp-partner"

// redirectURI is the admin-consent redirect the tests configure.
const redirectURI = "https://psasync.example.com/consent/done"

// partnerBundle is a simulator with a partner tenant, its customers and the
// partner's client.
type partnerBundle struct {
	sim    *graphsim.Sim
	client *graph.Client
}

func setupPartner(t testing.TB, customers []graphsim.Customer, simOpts []graphsim.Option, opts ...graph.Option) *partnerBundle {
	t.Helper()
	simOpts = append([]graphsim.Option{graphsim.WithTenant(graphsim.TenantSpec{ID: partnerTenant}), graphsim.WithRecordLimit(0)}, simOpts...)
	sim := graphsim.NewServer(t, simOpts...)
	for _, c := range customers {
		require.NoError(t, sim.AddCustomer(c))
	}
	opts = append([]graph.Option{graph.WithHTTPClient(sim.HTTPClient())}, opts...)
	c, err := graph.New(context.Background(), simConfig(sim, partnerTenant), opts...)
	require.NoError(t, err)
	return &partnerBundle{sim: sim, client: c}
}

// customerID makes the ith test customer's tenant id (GUID form).
func customerID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

// manyCustomers makes n GDAP customers, every third one consented.
func manyCustomers(n int) []graphsim.Customer {
	out := make([]graphsim.Customer, n)
	for i := range out {
		out[i] = graphsim.Customer{TenantID: customerID(i), DisplayName: fmt.Sprintf("Customer %04d Ltd", i), Consented: i%3 == 0, Users: 2}
	}
	return out
}

func TestDiscoverPagesThroughEveryCustomer(t *testing.T) {
	t.Parallel()
	cs := manyCustomers(650) // 3 pages of delegatedAdminCustomers at $top=300
	for i := 0; i < 20; i++ {
		cs[i].Relationship = graphsim.RelationshipBoth
	}
	b := setupPartner(t, cs, nil)
	got, err := b.client.DiscoverCustomers(context.Background())
	require.NoError(t, err)
	require.Len(t, got, 650)
	seen := map[string]bool{}
	for _, c := range got {
		require.False(t, seen[c.TenantID], "tenant %s listed once", c.TenantID)
		seen[c.TenantID] = true
		require.Equal(t, directory.SourceGDAP, c.Source)
	}
	// 3 delegatedAdminCustomers pages + 1 contracts page.
	require.Equal(t, 4, b.sim.Stats().Reads)
	require.EqualValues(t, 4, b.client.Requests())
}

func TestDiscoverMergesGDAPAndContracts(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, []graphsim.Customer{
		{TenantID: customerID(1), DisplayName: "Fabrikam Group", Relationship: graphsim.RelationshipBoth,
			ContractName: "Fabrikam Ltd", ContractDefaultDomain: "fabrikam-old.com",
			Domains: []graphsim.Domain{{Name: "fabrikam.com", Default: true}, {Name: "fabrikam.onmicrosoft.com", Initial: true}}},
		{TenantID: customerID(2), DisplayName: "Northwind", Relationship: graphsim.RelationshipGDAP},
		{TenantID: customerID(3), DisplayName: "Adatum Corp", Relationship: graphsim.RelationshipContract},
	}, nil)
	got, err := b.client.DiscoverCustomers(context.Background())
	require.NoError(t, err)
	require.Equal(t, []directory.Customer{
		{TenantID: customerID(1), DisplayName: "Fabrikam Group", Source: directory.SourceGDAP, HasContract: true,
			ContractDisplayName: "Fabrikam Ltd", ContractDefaultDomain: "fabrikam-old.com"},
		{TenantID: customerID(2), DisplayName: "Northwind", Source: directory.SourceGDAP},
		{TenantID: customerID(3), DisplayName: "Adatum Corp", Source: directory.SourceContract, HasContract: true,
			ContractDisplayName: "Adatum Corp", ContractDefaultDomain: "adatum-corp.com"},
	}, got)
}

func TestOrganizationOfAConsentedCustomer(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, []graphsim.Customer{{
		TenantID: customerID(7), DisplayName: "Tailspin Toys", Consented: true,
		Domains: []graphsim.Domain{
			{Name: "tailspintoys.com", Default: true}, {Name: "tailspin.co.uk"}, {Name: "tailspintoys.onmicrosoft.com", Initial: true},
		},
	}}, nil)
	cc, err := b.client.ForTenant(context.Background(), customerID(7))
	require.NoError(t, err)
	org, err := cc.Organization(context.Background())
	require.NoError(t, err)
	require.Equal(t, directory.Organization{TenantID: customerID(7), DisplayName: "Tailspin Toys", VerifiedDomains: []directory.Domain{
		{Name: "tailspintoys.com", IsDefault: true}, {Name: "tailspin.co.uk"}, {Name: "tailspintoys.onmicrosoft.com", IsInitial: true},
	}}, org)
	require.Equal(t, "tailspintoys.com", org.DefaultDomain())
	require.Equal(t, "tailspintoys.onmicrosoft.com", org.InitialDomain())
}

func TestConsentCheck(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, []graphsim.Customer{
		{TenantID: customerID(1), DisplayName: "Granted Inc", Consented: true, Users: 3},
		{TenantID: customerID(2), DisplayName: "Pending GmbH", Consented: false, Users: 3},
	}, nil)
	ctx := context.Background()

	granted, err := b.client.ForTenant(ctx, customerID(1))
	require.NoError(t, err)
	c, err := granted.CheckConsent(ctx, redirectURI)
	require.NoError(t, err)
	require.Equal(t, directory.Consent{TenantID: customerID(1), Granted: true}, c)

	pending, err := b.client.ForTenant(ctx, customerID(2))
	require.NoError(t, err)
	c, err = pending.CheckConsent(ctx, redirectURI)
	require.NoError(t, err)
	require.False(t, c.Granted)
	require.Equal(t, "AADSTS65001", c.Code)
	require.Contains(t, c.Reason, "no administrator of tenant "+customerID(2)+" has consented")
	u, err := url.Parse(c.AdminConsentURL)
	require.NoError(t, err)
	require.Equal(t, b.sim.AuthorityHost()+customerID(2)+"/v2.0/adminconsent", u.Scheme+"://"+u.Host+u.Path)
	require.Equal(t, url.Values{
		"client_id":    {graphsim.DefaultClientID},
		"scope":        {mustHost(t, b.sim.BaseURL()) + "/.default"},
		"redirect_uri": {redirectURI},
	}, u.Query())
}

func TestConsentRefusals(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, []graphsim.Customer{{TenantID: customerID(1), DisplayName: "Revoked Ltd", Consented: true}}, nil)
	ctx := context.Background()
	// An ordinary tenant whose app registration is another app: AADSTS700016.
	require.NoError(t, b.sim.AddTenant(graphsim.TenantSpec{ID: "other-app", ClientID: "99999999-0000-0000-0000-000000000000"}))

	tests := []struct {
		name, tenant, code, reason string
		prepare                    func()
		wantURL                    bool
	}{
		{"app not in tenant", "other-app", "AADSTS700016", "the app is not registered in tenant other-app", func() {}, true},
		{"unknown tenant", "no-such-tenant", "AADSTS90002", "tenant no-such-tenant does not exist", func() {}, false},
		{"token but no user read", customerID(1), "Authorization_RequestDenied", "may not read users (HTTP 403",
			func() { require.NoError(t, b.sim.RevokeConsent(customerID(1))) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.prepare()
			cc, err := b.client.ForTenant(ctx, tc.tenant)
			require.NoError(t, err)
			c, err := cc.CheckConsent(ctx, redirectURI)
			require.NoError(t, err)
			require.False(t, c.Granted)
			require.Equal(t, tc.code, c.Code)
			require.Contains(t, c.Reason, tc.reason)
			require.Equal(t, tc.wantURL, c.AdminConsentURL != "", c.AdminConsentURL)
		})
	}

	t.Run("bad redirect URI", func(t *testing.T) {
		_, err := b.client.CheckConsent(ctx, "/relative")
		require.ErrorContains(t, err, `redirect URI "/relative" is not an absolute http(s) URL`)
	})
	t.Run("the app's own secret is wrong", func(t *testing.T) {
		cfg := simConfig(b.sim, partnerTenant)
		cfg.ClientSecret = "wrong"
		bad, err := graph.New(ctx, cfg, graph.WithHTTPClient(b.sim.HTTPClient()))
		require.NoError(t, err)
		cc, err := bad.ForTenant(ctx, customerID(1))
		require.NoError(t, err)
		_, err = cc.CheckConsent(ctx, redirectURI)
		require.ErrorContains(t, err, "the app's credentials were refused (AADSTS7000215")
		require.ErrorIs(t, err, directory.ErrPermissionDenied)
	})
}

func TestConsentGrantedAtRuntime(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, []graphsim.Customer{{TenantID: customerID(5), DisplayName: "Late Adopter LLC", Users: 4}}, nil)
	ctx := context.Background()
	cc, err := b.client.ForTenant(ctx, customerID(5))
	require.NoError(t, err)
	c, err := cc.CheckConsent(ctx, redirectURI)
	require.NoError(t, err)
	require.False(t, c.Granted)
	_, err = cc.Organization(ctx)
	require.ErrorIs(t, err, directory.ErrPermissionDenied, "no token before consent")

	// The customer's admin follows the link; the same client (no restart)
	// now gets a token and reads.
	status, err := postSim(b.sim, "/_sim/tenants/"+customerID(5)+"/grant-consent")
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, status)
	c, err = cc.CheckConsent(ctx, redirectURI)
	require.NoError(t, err)
	require.True(t, c.Granted)
	org, err := cc.Organization(ctx)
	require.NoError(t, err)
	require.Equal(t, "Late Adopter LLC", org.DisplayName)
	users, err := collect(t, cc)
	require.NoError(t, err)
	require.Len(t, users, 4)
	for _, u := range users {
		require.Contains(t, u.UserPrincipalName, "@", u.UserPrincipalName)
		require.NotContains(t, u.UserPrincipalName, "contoso", "users live on the customer's own domains")
	}
}

func TestMissingPartnerPermissionIsNamed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, permission string
		revoke           []string
		call             func(*graph.Client) error
	}{
		{"delegatedAdminCustomers", directory.PermissionDelegatedAdminRelationship, []string{graphsim.PermDelegatedAdminRelationshipRead},
			func(c *graph.Client) error { _, err := c.DiscoverCustomers(context.Background()); return err }},
		{"contracts", directory.PermissionDirectoryRead, []string{graphsim.PermDirectoryRead},
			func(c *graph.Client) error { _, err := c.ListContracts(context.Background()); return err }},
		{"organization", directory.PermissionOrganizationRead, []string{graphsim.PermOrganizationRead, graphsim.PermDirectoryRead},
			func(c *graph.Client) error { _, err := c.Organization(context.Background()); return err }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setupPartner(t, manyCustomers(3), nil)
			for _, p := range tc.revoke {
				require.NoError(t, b.sim.RevokePermission(partnerTenant, p))
			}
			err := tc.call(b.client)
			var mp *directory.MissingPermissionError
			require.ErrorAs(t, err, &mp)
			require.Equal(t, tc.permission, mp.Permission)
			require.Equal(t, partnerTenant, mp.TenantID)
			require.ErrorIs(t, err, directory.ErrMissingPermission)
			require.ErrorIs(t, err, directory.ErrPermissionDenied)
			require.ErrorContains(t, err, "application permission "+tc.permission+" in tenant "+partnerTenant)
			require.ErrorContains(t, err, "Authorization_RequestDenied")
		})
	}
}

func TestPartnerListingWaitsOutThrottling(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, manyCustomers(400), nil)
	b.sim.InjectFault(graphsim.Fault{PathContains: "/delegatedAdminCustomers", Status: http.StatusTooManyRequests, RetryAfter: "0.3", Count: 1})
	start := time.Now()
	got, err := b.client.ListDelegatedAdminCustomers(context.Background())
	require.NoError(t, err)
	require.Len(t, got, 400)
	require.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "Retry-After was honoured")
	require.Equal(t, 1, b.sim.Stats().Throttled)
	require.EqualValues(t, 3, b.client.Requests(), "2 pages and one retry")

	b.sim.InjectFault(graphsim.Fault{PathContains: "/contracts", Status: http.StatusTooManyRequests, RetryAfter: "30"})
	_, err = b.client.ListContracts(context.Background())
	var te *directory.ThrottledError
	require.ErrorAs(t, err, &te)
	require.Equal(t, 30*time.Second, te.RetryAfter)
}

// mustHost is scheme://host of a URL.
func mustHost(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	require.NoError(t, err)
	return u.Scheme + "://" + u.Host
}

// postSim posts to a /_sim control endpoint.
func postSim(sim *graphsim.Sim, path string) (int, error) {
	resp, err := sim.HTTPClient().Post(sim.URL+path, "application/json", nil)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	return resp.StatusCode, nil
}

func TestConsentCheckKeepsTransientFailuresAsErrors(t *testing.T) {
	t.Parallel()
	b := setupPartner(t, []graphsim.Customer{
		{TenantID: customerID(1), DisplayName: "Flaky Token", Consented: true},
		{TenantID: customerID(2), DisplayName: "Flaky Graph", Consented: true},
	}, nil, graph.WithThrottleRetry(0, 0))
	ctx := context.Background()
	b.sim.InjectFault(graphsim.Fault{PathContains: "/oauth2/", Tenant: customerID(1), Status: http.StatusInternalServerError})
	b.sim.InjectFault(graphsim.Fault{PathContains: "/v1.0/users", Tenant: customerID(2), Status: http.StatusServiceUnavailable})
	for _, id := range []string{customerID(1), customerID(2)} {
		cc, err := b.client.ForTenant(ctx, id)
		require.NoError(t, err)
		c, err := cc.CheckConsent(ctx, redirectURI)
		require.ErrorIs(t, err, directory.ErrUnavailable, "tenant %s: an outage is not a missing consent", id)
		require.Equal(t, directory.Consent{}, c)
	}
}
