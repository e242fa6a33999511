package atsim_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/simkit"
)

func TestCompanyDirectory(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)
	id := s.SeedCompany(simkit.Company{Name: "Northwind", Website: "northwind.example", TenantID: "t-1",
		Contacts: []simkit.Contact{{FirstName: "Ann", LastName: "Lee", Email: "ann@northwind.example"}}})
	co, ok := s.Company(id)
	require.True(t, ok)
	require.Equal(t, simkit.Company{ID: id, Name: "Northwind", Website: "northwind.example", TenantID: "t-1"}, co)
	require.Len(t, s.Contacts(id), 1)

	a := call(t, s, http.MethodPost, "/ATServicesRest/V1.0/Companies/query", map[string]any{
		"IncludeFields": []string{"id", "webAddress", atsim.DefaultTenantIDUDF},
		"filter":        []map[string]any{{"op": "eq", "field": atsim.DefaultTenantIDUDF, "udf": true, "value": "t-1"}}})
	require.Equal(t, http.StatusOK, a.Status, a.Raw)
	items := a.Body["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, map[string]any{"id": float64(id), "webAddress": "northwind.example",
		"userDefinedFields": []any{map[string]any{"name": atsim.DefaultTenantIDUDF, "value": "t-1"}}}, items[0])

	a = call(t, s, http.MethodPatch, "/ATServicesRest/V1.0/Companies", map[string]any{"id": id, "webAddress": "https://northwind.example",
		"userDefinedFields": []map[string]any{{"name": "m365 tenant id", "value": "t-2"}}})
	require.Equal(t, http.StatusOK, a.Status, a.Raw)
	require.Equal(t, float64(id), a.Body["itemId"])
	co, _ = s.Company(id)
	require.Equal(t, "t-2", co.TenantID)
	require.Equal(t, "https://northwind.example", co.Website)

	for _, tc := range []struct {
		name   string
		body   any
		status int
	}{
		{"no id", map[string]any{"companyName": "X"}, http.StatusInternalServerError},
		{"unknown company", map[string]any{"id": 999, "companyName": "X"}, http.StatusNotFound},
		{"undefined UDF", map[string]any{"id": id, "userDefinedFields": []map[string]any{{"name": "Nope", "value": "x"}}}, http.StatusInternalServerError},
		{"unknown field", map[string]any{"id": id, "phone": "1"}, http.StatusInternalServerError},
		{"blank name", map[string]any{"id": id, "companyName": ""}, http.StatusInternalServerError},
		{"not an object", "[1]", http.StatusBadRequest},
	} {
		a := call(t, s, http.MethodPatch, "/ATServicesRest/V1.0/Companies", tc.body)
		require.Equal(t, tc.status, a.Status, "%s: %s", tc.name, a.Raw)
		require.NotEmpty(t, a.errors(), tc.name)
	}
	co, _ = s.Company(id)
	require.Equal(t, "t-2", co.TenantID, "refused patches change nothing")
	a = call(t, s, http.MethodGet, "/ATServicesRest/V1.0/Companies", nil)
	require.Equal(t, http.StatusMethodNotAllowed, a.Status)
}

func TestTenantIDUDFOption(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t, atsim.WithTenantIDUDF("Azure Tenant"))
	id := s.SeedCompany(simkit.Company{Name: "Northwind", TenantID: "t-1"})
	a := call(t, s, http.MethodGet, fmt.Sprintf("/ATServicesRest/V1.0/Companies/%d", id), nil)
	require.Equal(t, []any{map[string]any{"name": "Azure Tenant", "value": "t-1"}}, a.Body["item"].(map[string]any)["userDefinedFields"])
}

func BenchmarkSeedCompanies(b *testing.B) {
	for b.Loop() {
		s := atsim.New()
		for i := range 1000 {
			s.SeedCompany(simkit.Company{Name: fmt.Sprintf("Customer %d", i), Website: fmt.Sprintf("c%d.example", i),
				Contacts: []simkit.Contact{{FirstName: "A", Email: fmt.Sprintf("a@c%d.example", i)}, {FirstName: "B", Email: fmt.Sprintf("b@c%d.example", i)}}})
		}
	}
}
