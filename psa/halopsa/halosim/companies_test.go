package halosim

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/simkit"
)

const simTenant = "3f2b0000-0000-4000-8000-00000000000a"

func TestCompanyDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.sim.SeedCompany(simkit.Company{Name: "Northwind", Website: "northwind.example", TenantID: simTenant,
		Contacts: []simkit.Contact{{FirstName: "Ann", LastName: "Lee", Email: "ann@northwind.example"}}})
	require.Equal(t, 2, id, "the next free id after the setup's company")
	co, ok := b.sim.Company(id)
	require.True(t, ok)
	require.Equal(t, simkit.Company{ID: 2, Name: "Northwind", Website: "northwind.example", TenantID: simTenant}, co)
	require.Len(t, b.sim.Contacts(id), 1)

	status, _, body := b.call(t, http.MethodGet, "/api/Client?pageinate=true&page_size=1&page_no=2&includeazuretenants=true", "")
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, `{"page_no":2,"page_size":1,"record_count":2,"clients":[{"id":2,"name":"Northwind","inactive":false,
		"website":"northwind.example","azure_tenants":[{"id":1,"client_id":2,"azure_tenant_id":"`+simTenant+`","azure_tenant_name":"Northwind","client_name":"Northwind"}]}]}`, body)
	_, _, body = b.call(t, http.MethodGet, "/api/Client/2", "")
	require.JSONEq(t, `{"id":2,"name":"Northwind","inactive":false,"website":"northwind.example"}`, body, "azure_tenants only with includedetails")
	status, _, _ = b.call(t, http.MethodGet, "/api/Client?includeazuretenants=maybe", "")
	require.Equal(t, http.StatusBadRequest, status)

	other := "3f2b0000-0000-4000-8000-00000000000b"
	status, _, body = b.call(t, http.MethodPost, "/api/Client", `[{"id":2,"azure_tenants":[{"azure_tenant_id":"`+other+`"}],"website":"https://northwind.example"}]`)
	require.Equal(t, http.StatusOK, status, body)
	require.JSONEq(t, `{"id":2,"name":"Northwind","inactive":false,"website":"https://northwind.example",
		"azure_tenants":[{"id":2,"client_id":2,"azure_tenant_id":"`+other+`","client_name":"Northwind"}]}`, body)
	co, _ = b.sim.Company(2)
	require.Equal(t, other, co.TenantID)
	require.Equal(t, 1, b.sim.Stats().Writes)

	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"not an array", `{"id":2}`, http.StatusBadRequest},
		{"empty", `[]`, http.StatusBadRequest},
		{"no id", `[{"name":"X"}]`, http.StatusBadRequest},
		{"unknown client", `[{"id":99,"name":"X"}]`, http.StatusNotFound},
		{"unknown member", `[{"id":2,"colour":"red"}]`, http.StatusBadRequest},
		{"tenant id not a GUID", `[{"id":2,"azure_tenants":[{"azure_tenant_id":"contoso.onmicrosoft.com"}]}]`, http.StatusBadRequest},
		{"blank name", `[{"id":2,"name":" "}]`, http.StatusBadRequest},
		{"second item bad", `[{"id":2,"website":"x.example"},{"id":99}]`, http.StatusNotFound},
	} {
		status, _, body := b.call(t, http.MethodPost, "/api/Client", tc.body)
		require.Equal(t, tc.status, status, "%s: %s", tc.name, body)
		require.NotEmpty(t, body, tc.name)
	}
	co, _ = b.sim.Company(2)
	require.Equal(t, simkit.Company{ID: 2, Name: "Northwind", Website: "https://northwind.example", TenantID: other}, co, "refused saves change nothing")
}

func BenchmarkSeedCompanies(b *testing.B) {
	for b.Loop() {
		s := New()
		for i := range 1000 {
			s.SeedCompany(simkit.Company{Name: fmt.Sprintf("Customer %d", i), Website: fmt.Sprintf("c%d.example", i),
				Contacts: []simkit.Contact{{FirstName: "A", Email: fmt.Sprintf("a@c%d.example", i)}, {FirstName: "B", Email: fmt.Sprintf("b@c%d.example", i)}}})
		}
	}
}
