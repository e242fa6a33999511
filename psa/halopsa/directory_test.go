package halopsa_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/simkit"
)

const tenantA = "3f2b0000-0000-4000-8000-00000000000a"

// TestDirectoryWire: clients are listed with their Azure tenants and the
// inactive ones, one client's users are read with client_id and several in
// one pass, and the write-back is one POST of the client's azure_tenants.
func TestDirectoryWire(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedCompany(simkit.Company{Name: "Northwind", Website: "https://www.northwind.example", Inactive: true,
		Contacts: []simkit.Contact{{FirstName: "Ann", LastName: "Lee", Email: "ann@Northwind.example"}}})
	sid := strconv.Itoa(id)
	ctx := t.Context()

	list, err := b.client.ListCompanies(ctx)
	require.NoError(t, err)
	require.Contains(t, list, psa.Company{ID: sid, Name: "Northwind", Website: "https://www.northwind.example",
		Domains: []string{"northwind.example"}, Inactive: true})
	q := query(t, apiRequests(b.sim, http.MethodGet, "/api/Client")[0])
	require.Equal(t, "true", q.Get("includeazuretenants"))
	require.Equal(t, "true", q.Get("includeinactive"))

	d, err := b.client.ContactDomains(ctx, []string{sid})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{sid: {"northwind.example"}}, d)
	users := apiRequests(b.sim, http.MethodGet, "/api/Users")
	require.Equal(t, sid, query(t, users[len(users)-1]).Get("client_id"))
	_, err = b.client.ContactDomains(ctx, []string{sid, strconv.Itoa(testCompany)})
	require.NoError(t, err)
	users = apiRequests(b.sim, http.MethodGet, "/api/Users")
	require.Empty(t, query(t, users[len(users)-1]).Get("client_id"), "several clients are one pass over the users")

	c, err := b.client.SetCompanyTenantID(ctx, sid, tenantA)
	require.NoError(t, err)
	require.Equal(t, tenantA, c.TenantID)
	posts := apiRequests(b.sim, http.MethodPost, "/api/Client")
	require.Len(t, posts, 1)
	var sent []map[string]any
	require.NoError(t, json.Unmarshal(posts[0].Body, &sent))
	require.Equal(t, []map[string]any{{"id": float64(id), "azure_tenants": []any{map[string]any{"azure_tenant_id": tenantA}}}}, sent)

	_, err = b.client.SetCompanyTenantID(ctx, sid, tenantA)
	require.NoError(t, err)
	require.Len(t, apiRequests(b.sim, http.MethodPost, "/api/Client"), 1, "an unchanged tenant id is not written again")
}
