package cwsim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/simkit"
)

func TestCompanyDirectory(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.sim.SeedCompany(simkit.Company{Name: "Northwind", Website: "northwind.example", TenantID: "t-1", Inactive: true,
		Contacts: []simkit.Contact{{FirstName: "Ann", Email: "ann@northwind.example"}}})
	require.Equal(t, 3, id, "the next free id after the setup's two companies")
	co, ok := b.sim.Company(id)
	require.True(t, ok)
	require.Equal(t, simkit.Company{ID: 3, Name: "Northwind", Website: "northwind.example", TenantID: "t-1", Inactive: true}, co)
	require.Len(t, b.sim.Contacts(id), 1)

	a := b.call(http.MethodGet, "/company/companies?conditions="+url.QueryEscape(`status/name="Inactive"`)+"&fields=id,identifier,name,website,customFields", "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	var list []map[string]any
	a.json(t, &list)
	require.Len(t, list, 1)
	require.Equal(t, []string{"customFields", "id", "identifier", "name", "website"}, keys(list[0]), "only the fields asked for")

	a = b.call(http.MethodGet, "/company/contacts?fields=company/id,communicationItems/value", "")
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	require.JSONEq(t, `[{"company":{"id":3},"communicationItems":[{"value":"ann@northwind.example"}]}]`, string(a.body))

	patch := func(id int, body string) answer {
		return b.call(http.MethodPatch, fmt.Sprintf("/company/companies/%d", id), body)
	}
	a = patch(3, `[{"op":"replace","path":"customFields","value":[{"id":3,"value":"t-2"}]},{"op":"replace","path":"/website","value":"https://northwind.example"}]`)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	co, _ = b.sim.Company(3)
	require.Equal(t, "t-2", co.TenantID)
	require.Equal(t, "https://northwind.example", co.Website)

	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"unknown path", `[{"op":"replace","path":"identifier","value":"X"}]`, http.StatusBadRequest},
		{"unknown custom field", `[{"op":"replace","path":"customFields","value":[{"id":99,"value":"x"}]}]`, http.StatusBadRequest},
		{"number in a text field", `[{"op":"replace","path":"customFields","value":[{"id":3,"value":5}]}]`, http.StatusBadRequest},
		{"blank name", `[{"op":"replace","path":"name","value":" "}]`, http.StatusBadRequest},
		{"bad op", `[{"op":"move","path":"name","value":"x"}]`, http.StatusBadRequest},
		{"no operations", `[]`, http.StatusBadRequest},
		{"not a patch", `{"name":"x"}`, http.StatusBadRequest},
	} {
		a := patch(3, tc.body)
		require.Equal(t, tc.status, a.status, "%s: %s", tc.name, a.body)
	}
	a = patch(3, `[{"op":"replace","path":"website","value":"x.example"},{"op":"replace","path":"customFields","value":[{"id":99,"value":"x"}]}]`)
	require.Equal(t, http.StatusBadRequest, a.status)
	co, _ = b.sim.Company(3)
	require.Equal(t, "https://northwind.example", co.Website, "a refused patch changes nothing")
	require.Equal(t, "t-2", co.TenantID)
	a = patch(42, `[{"op":"replace","path":"name","value":"x"}]`)
	require.Equal(t, http.StatusNotFound, a.status)
}

func TestTenantIDFieldOption(t *testing.T) {
	t.Parallel()
	b := setup(t, cwsim.WithTenantIDField(40))
	id := b.sim.SeedCompany(simkit.Company{Name: "Northwind", TenantID: "t-1"})
	var co map[string]any
	b.call(http.MethodGet, fmt.Sprintf("/company/companies/%d", id), "").json(t, &co)
	fields := co["customFields"].([]any)
	require.Len(t, fields, 1)
	require.EqualValues(t, 40, fields[0].(map[string]any)["id"])
	require.Equal(t, "t-1", fields[0].(map[string]any)["value"])
}

func BenchmarkSeedCompanies(b *testing.B) {
	for b.Loop() {
		sim := cwsim.New()
		for i := range 1000 {
			sim.SeedCompany(simkit.Company{Name: fmt.Sprintf("Customer %d", i), Website: fmt.Sprintf("c%d.example", i),
				Contacts: []simkit.Contact{{FirstName: "A", Email: fmt.Sprintf("a@c%d.example", i)}, {FirstName: "B", Email: fmt.Sprintf("b@c%d.example", i)}}})
		}
	}
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
