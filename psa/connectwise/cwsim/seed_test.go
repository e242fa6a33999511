package cwsim_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

func TestSeedingAndSnapshots(t *testing.T) {
	t.Parallel()
	b := setup(t)
	full := cwsim.SeedContact{ID: 500, CompanyID: 1, FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.com",
		Phone: "555-1", MobilePhone: "555-2", Title: "CFO", Department: "Finance", OfficeLocation: "Oslo",
		ContactType: "Board Member", ExternalID: "obj-ann", Inactive: true}
	require.Equal(t, 500, b.sim.SeedContact(full))
	next := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Bob"})
	require.Equal(t, 501, next, "ids continue after an explicit id")
	again := b.sim.SeedContact(cwsim.SeedContact{ID: 500, CompanyID: 1, FirstName: "Cid"})
	require.Equal(t, 502, again, "a taken id is not reused")
	// Seeding bypasses the duplicate rule, so tests can build duplicates.
	dup := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", Email: "ANN@contoso.com"})
	other := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 9, FirstName: "Dee"})

	got, ok := b.sim.Contact(500)
	require.True(t, ok)
	require.Equal(t, full, got)
	_, ok = b.sim.Contact(4242)
	require.False(t, ok)
	list := b.sim.Contacts(1)
	require.Len(t, list, 4)
	require.Equal(t, []int{500, 501, 502, dup}, []int{list[0].ID, list[1].ID, list[2].ID, list[3].ID})

	require.Equal(t, b.sim.AddDepartment("finance"), b.sim.AddDepartment("Finance"), "departments are found by name")
	require.Equal(t, b.sim.AddContactType("board member"), b.sim.AddContactType("Board Member"))

	a := b.call(http.MethodGet, "/company/companies/9", "")
	require.Equal(t, http.StatusOK, a.status, "seeding into an unknown company creates it")
	var co struct {
		Name string `json:"name"`
	}
	a.json(t, &co)
	require.Equal(t, "Company 9", co.Name)
	od, _ := b.sim.Contact(other)
	require.Equal(t, 9, od.CompanyID)
}

func TestCustomFieldOptions(t *testing.T) {
	t.Parallel()
	b := setup(t, cwsim.WithExternalIDField(31), cwsim.WithOfficeLocationField(32))
	id := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", ExternalID: "obj", OfficeLocation: "Oslo"})
	a := b.call(http.MethodGet, "/company/contacts/"+strconv.Itoa(id), "")
	var c struct {
		CustomFields []struct {
			ID    int `json:"id"`
			Value any `json:"value"`
		} `json:"customFields"`
	}
	a.json(t, &c)
	require.Len(t, c.CustomFields, 2)
	require.Equal(t, 31, c.CustomFields[0].ID)
	require.Equal(t, "obj", c.CustomFields[0].Value)
	require.Equal(t, 32, c.CustomFields[1].ID)
	require.Equal(t, "Oslo", c.CustomFields[1].Value)
}

func TestSetupListsAndCompanies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.AddDepartment("Sales")
	var types []struct {
		ID          int    `json:"id"`
		Description string `json:"description"`
	}
	b.call(http.MethodGet, "/company/contacts/types?pageSize=1000", "").json(t, &types)
	require.NotEmpty(t, types)
	names := map[string]bool{}
	for _, ty := range types {
		names[ty.Description] = true
	}
	require.True(t, names["End User"])

	var deps []struct {
		Name string `json:"name"`
	}
	b.call(http.MethodGet, "/company/contacts/departments", "").json(t, &deps)
	require.Equal(t, "Sales", deps[0].Name)

	var comm []struct {
		Description string `json:"description"`
		EmailFlag   bool   `json:"emailFlag"`
	}
	b.call(http.MethodGet, "/company/communicationTypes?conditions="+url.QueryEscape(`description="Email"`), "").json(t, &comm)
	require.Len(t, comm, 1)
	require.True(t, comm[0].EmailFlag)

	companies := b.call(http.MethodGet, "/company/companies?conditions="+url.QueryEscape(`name="fabrikam inc"`), "")
	require.Equal(t, []int{2}, ids(t, companies))
	require.Equal(t, http.StatusNotFound, b.call(http.MethodGet, "/company/companies/77", "").status)

	var info struct {
		Version string `json:"version"`
		IsCloud bool   `json:"isCloud"`
	}
	b.call(http.MethodGet, "/system/info", "").json(t, &info)
	require.NotEmpty(t, info.Version)
}
