package connectwise_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/simkit"
)

const tenantA = "3f2b0000-0000-4000-8000-00000000000a"

// TestDirectoryWire: the directory's requests and answers keep to Manage's
// document (the bundle validates every exchange), ask only for the fields
// they use, and the tenant id write patches customFields keeping the
// other custom field values.
func TestDirectoryWire(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.TenantIDFieldID = cwsim.TenantIDFieldID })
	id := b.sim.SeedCompany(simkit.Company{Name: "Northwind Traders", Website: "http://www.northwind.example",
		Contacts: []simkit.Contact{{FirstName: "Ann", LastName: "Lee", Email: "ann@Northwind.example"}}})
	ctx := t.Context()

	list, err := b.client.ListCompanies(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	require.Equal(t, psa.Company{ID: "3", Name: "Northwind Traders", Website: "http://www.northwind.example",
		Domains: []string{"northwind.example"}}, list[2])
	got := requests(b.sim, http.MethodGet, "/company/companies")
	require.Len(t, got, 1)
	q, _ := url.ParseQuery(got[0].RawQuery)
	require.Equal(t, "id,identifier,name,website,deletedFlag,status/name,customFields", q.Get("fields"))

	d, err := b.client.ContactDomains(ctx, []string{"3", "1"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"3": {"northwind.example"}}, d)
	got = requests(b.sim, http.MethodGet, "/company/contacts")
	q, _ = url.ParseQuery(got[len(got)-1].RawQuery)
	require.Equal(t, "id,company/id,communicationItems", q.Get("fields"))
	require.Empty(t, q.Get("conditions"), "several companies are one pass over all contacts")

	_, err = b.client.ContactDomains(ctx, []string{"3"})
	require.NoError(t, err)
	got = requests(b.sim, http.MethodGet, "/company/contacts")
	q, _ = url.ParseQuery(got[len(got)-1].RawQuery)
	require.Equal(t, "company/id=3", q.Get("conditions"))

	c, err := b.client.SetCompanyTenantID(ctx, "3", tenantA)
	require.NoError(t, err)
	require.Equal(t, tenantA, c.TenantID)
	require.Equal(t, []string{"replace customFields"}, paths(patchOf(t, b.sim)))
	var ops []struct {
		Value []struct {
			ID    int    `json:"id"`
			Value string `json:"value"`
		} `json:"value"`
	}
	require.NoError(t, json.Unmarshal(requests(b.sim, http.MethodPatch, "/company/companies/3")[0].Body, &ops))
	require.Equal(t, cwsim.TenantIDFieldID, ops[0].Value[0].ID)
	require.Equal(t, tenantA, ops[0].Value[0].Value)
	stored, _ := b.sim.Company(id)
	require.Equal(t, "Northwind Traders", stored.Name)

	_, err = b.client.SetCompanyTenantID(ctx, "3", tenantA)
	require.NoError(t, err)
	require.Len(t, requests(b.sim, http.MethodPatch, ""), 1, "an unchanged tenant id is not written again")
}

// TestDirectoryTenantFieldMisconfigured: no field configured, or a field
// the site's companies do not have, is psa.ErrInvalid naming the key, and
// nothing is written.
func TestDirectoryTenantFieldMisconfigured(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, err := b.client.SetCompanyTenantID(t.Context(), "1", tenantA)
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, "tenant_id_field")
	list, err := b.client.ListCompanies(t.Context())
	require.NoError(t, err)
	require.Empty(t, list[0].TenantID)

	b = setup(t, func(c *connectwise.Config) { c.TenantIDFieldID = 77 })
	_, err = b.client.SetCompanyTenantID(t.Context(), "1", tenantA)
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, "tenant_id_field 77 is not a company custom field")
	require.Empty(t, requests(b.sim, http.MethodPatch, ""))
}
