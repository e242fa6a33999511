package autotask_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/simkit"
)

const tenantA = "3f2b0000-0000-4000-8000-00000000000a"

// TestDirectoryWire: the queries ask only for the fields they use, the
// contact query filters the companies with one "in", and the write is a
// PATCH of that one UDF.
func TestDirectoryWire(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, func(c *autotask.Config) { c.TenantIDUDF = atsim.DefaultTenantIDUDF })
	id := b.sim.SeedCompany(simkit.Company{Name: "Northwind", Website: "www.northwind.example",
		Contacts: []simkit.Contact{{FirstName: "Ann", LastName: "Lee", Email: "ann@northwind.example", Email2: "ann@NW-Mail.example"}}})
	ctx := t.Context()
	sid := strconv.Itoa(id)

	list, err := b.client.ListCompanies(ctx)
	require.NoError(t, err)
	require.Len(t, list, 3)
	body := lastBody(t, b.sim, http.MethodPost)
	require.Equal(t, []any{"id", "companyName", "webAddress", "isActive", atsim.DefaultTenantIDUDF}, body["IncludeFields"])

	d, err := b.client.ContactDomains(ctx, []string{"1", sid, sid})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{sid: {"northwind.example", "nw-mail.example"}}, d)
	body = lastBody(t, b.sim, http.MethodPost)
	require.Equal(t, []any{map[string]any{"op": "in", "field": "companyID", "value": []any{1.0, float64(id)}}}, body["filter"])
	require.Equal(t, []any{"id", "companyID", "emailAddress", "emailAddress2", "emailAddress3"}, body["IncludeFields"])

	c, err := b.client.SetCompanyTenantID(ctx, sid, tenantA)
	require.NoError(t, err)
	require.Equal(t, psa.Company{ID: sid, Name: "Northwind", Website: "www.northwind.example", Domains: []string{"northwind.example"}, TenantID: tenantA}, c)
	require.Equal(t, map[string]any{"id": float64(id), "userDefinedFields": []any{map[string]any{"name": atsim.DefaultTenantIDUDF, "value": tenantA}}},
		lastBody(t, b.sim, http.MethodPatch))
	stored, _ := b.sim.Company(id)
	require.Equal(t, tenantA, stored.TenantID)
}

// TestDirectoryTenantUDFMisconfigured: no UDF configured, or one the
// database's companies do not have, is psa.ErrInvalid naming the key, and
// nothing is written.
func TestDirectoryTenantUDFMisconfigured(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, nil)
	_, err := b.client.SetCompanyTenantID(t.Context(), "1", tenantA)
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, "tenant_id_udf")

	b = setup(t, nil, func(c *autotask.Config) { c.TenantIDUDF = "Azure Tenant" })
	_, err = b.client.SetCompanyTenantID(t.Context(), "1", tenantA)
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, `tenant_id_udf "Azure Tenant" is not a company UDF`)
	for _, r := range b.sim.Requests() {
		require.NotEqual(t, http.MethodPatch, r.Method)
	}
	_, err = b.client.ListCompanies(t.Context())
	require.ErrorIs(t, err, psa.ErrInvalid, "Autotask refuses a query naming a UDF that does not exist")
}
