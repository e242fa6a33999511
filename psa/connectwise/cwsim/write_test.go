package cwsim_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

// created decodes a create answer's id.
func created(t *testing.T, a answer) int {
	t.Helper()
	require.Equal(t, http.StatusCreated, a.status, string(a.body))
	var c struct {
		ID int `json:"id"`
	}
	a.json(t, &c)
	return c.ID
}

func TestCreateContact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dep := b.sim.AddDepartment("Sales")
	body := fmt.Sprintf(`{"firstName":"Ann","lastName":"Lee","company":{"id":"1"},"title":"CFO","department":{"id":%d},
		"communicationItems":[{"type":{"id":1},"value":"ann@contoso.com","defaultFlag":true},{"type":{"name":"Mobile"},"value":"+1 555"}],
		"types":[{"name":"Decision Maker"}],"customFields":[{"id":%d,"value":"obj-ann"},{"id":%d,"value":"Oslo"}]}`,
		dep, cwsim.ExternalIDFieldID, cwsim.OfficeLocationFieldID)
	id := created(t, b.call(http.MethodPost, "/company/contacts", body))
	got, ok := b.sim.Contact(id)
	require.True(t, ok)
	require.Equal(t, cwsim.SeedContact{ID: id, CompanyID: 1, FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.com",
		MobilePhone: "+1 555", Title: "CFO", Department: "Sales", OfficeLocation: "Oslo", ContactType: "Decision Maker",
		ExternalID: "obj-ann"}, got)

	a := b.call(http.MethodGet, "/company/contacts/"+strconv.Itoa(id), "")
	require.Equal(t, http.StatusOK, a.status)
	var c struct {
		Company struct {
			ID         int    `json:"id"`
			Identifier string `json:"identifier"`
		} `json:"company"`
		CommunicationItems []struct {
			Type struct {
				Name string `json:"name"`
			} `json:"type"`
			CommunicationType string `json:"communicationType"`
		} `json:"communicationItems"`
		CustomFields []struct {
			ID      int    `json:"id"`
			Caption string `json:"caption"`
		} `json:"customFields"`
	}
	a.json(t, &c)
	require.Equal(t, "ContosoLtd", c.Company.Identifier)
	require.Equal(t, "Email", c.CommunicationItems[0].CommunicationType)
	require.Equal(t, "Phone", c.CommunicationItems[1].CommunicationType)
	require.Len(t, c.CustomFields, 2, "every contact lists every custom field")

	typeID := b.sim.AddContactType("VIP")
	id2 := created(t, b.call(http.MethodPost, "/company/contacts", fmt.Sprintf(`{"firstName":"Bo","company":{"id":2},"typeIds":[%d]}`, typeID)))
	got2, _ := b.sim.Contact(id2)
	require.Equal(t, "VIP", got2.ContactType)
}

func TestCreateContactValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tests := []struct {
		name, body, field, code string
	}{
		{"no first name", `{"company":{"id":1}}`, "firstName", "MissingRequiredField"},
		{"no company", `{"firstName":"A"}`, "company", "MissingRequiredField"},
		{"unknown company", `{"firstName":"A","company":{"id":77}}`, "company", "InvalidObject"},
		{"unknown department", `{"firstName":"A","company":{"id":1},"department":{"id":77}}`, "department", "InvalidObject"},
		{"unknown type", `{"firstName":"A","company":{"id":1},"types":[{"id":77}]}`, "types", "InvalidObject"},
		{"unknown communication type", `{"firstName":"A","company":{"id":1},"communicationItems":[{"type":{"id":77},"value":"x"}]}`, "communicationItems", "InvalidObject"},
		{"bad email", `{"firstName":"A","company":{"id":1},"communicationItems":[{"type":{"id":1},"value":"not-an-email"}]}`, "communicationItems", "InvalidField"},
		{"unknown custom field", `{"firstName":"A","company":{"id":1},"customFields":[{"id":77,"value":"x"}]}`, "customFields", "InvalidObject"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := b.call(http.MethodPost, "/company/contacts", tc.body)
			require.Equal(t, http.StatusBadRequest, a.status, string(a.body))
			var v struct {
				Code   string `json:"code"`
				Errors []struct {
					Code  string `json:"code"`
					Field string `json:"field"`
				} `json:"errors"`
			}
			a.json(t, &v)
			require.Equal(t, "InvalidObject", v.Code)
			require.Len(t, v.Errors, 1)
			require.Equal(t, tc.code, v.Errors[0].Code)
			require.Equal(t, tc.field, v.Errors[0].Field)
		})
	}
	for _, body := range []string{"", "{", `{"firstName":1}`, `[]`} {
		a := b.call(http.MethodPost, "/company/contacts", body)
		require.Equal(t, http.StatusBadRequest, a.status, body)
	}
	require.Empty(t, b.sim.Contacts(1))
}

func TestDuplicateEmail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", Email: "ann@contoso.com"})
	dup := `{"firstName":"Ann","company":{"id":1},"communicationItems":[{"type":{"id":1},"value":"ANN@Contoso.com"}]}`
	a := b.call(http.MethodPost, "/company/contacts", dup)
	require.Equal(t, http.StatusBadRequest, a.status)
	code, errCodes := a.vendorError(t)
	require.Equal(t, "InvalidObject", code)
	require.Equal(t, []string{"ObjectExists"}, errCodes)
	require.Len(t, b.sim.Contacts(1), 1)

	// Another company may hold the same address; ignoreDuplicates skips
	// the check as Manage's flag does.
	created(t, b.call(http.MethodPost, "/company/contacts", `{"firstName":"Ann","company":{"id":2},"communicationItems":[{"type":{"id":1},"value":"ann@contoso.com"}]}`))
	created(t, b.call(http.MethodPost, "/company/contacts", `{"firstName":"Ann","company":{"id":1},"ignoreDuplicates":true,"communicationItems":[{"type":{"id":1},"value":"ann@contoso.com"}]}`))
	require.Len(t, b.sim.Contacts(1), 2)
}

func TestPatchContact(t *testing.T) {
	t.Parallel()
	seed := cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.com",
		Phone: "555-1", MobilePhone: "555-2", Title: "CFO", Department: "Sales", ExternalID: "obj", OfficeLocation: "Oslo"}
	tests := []struct {
		name string
		ops  string
		want func(*cwsim.SeedContact)
	}{
		{"replace with and without slash", `[{"op":"replace","path":"/firstName","value":"Anna"},{"op":"replace","path":"title","value":"CEO"}]`,
			func(s *cwsim.SeedContact) { s.FirstName, s.Title = "Anna", "CEO" }},
		{"add is replace on a field", `[{"op":"add","path":"lastName","value":"Li"}]`, func(s *cwsim.SeedContact) { s.LastName = "Li" }},
		{"remove a field", `[{"op":"remove","path":"title"}]`, func(s *cwsim.SeedContact) { s.Title = "" }},
		{"inactive", `[{"op":"replace","path":"inactiveFlag","value":true}]`, func(s *cwsim.SeedContact) { s.Inactive = true }},
		{"department by reference", `[{"op":"replace","path":"department","value":{"name":"Support"}}]`, func(s *cwsim.SeedContact) { s.Department = "Support" }},
		{"department id", `[{"op":"replace","path":"department/id","value":2}]`, func(s *cwsim.SeedContact) { s.Department = "Support" }},
		{"department removed", `[{"op":"remove","path":"department"}]`, func(s *cwsim.SeedContact) { s.Department = "" }},
		{"department null", `[{"op":"replace","path":"department","value":null}]`, func(s *cwsim.SeedContact) { s.Department = "" }},
		{"item value", `[{"op":"replace","path":"communicationItems/1/value","value":"555-9"}]`, func(s *cwsim.SeedContact) { s.Phone = "555-9" }},
		{"item removed", `[{"op":"remove","path":"communicationItems/2"}]`, func(s *cwsim.SeedContact) { s.MobilePhone = "" }},
		{"item appended", `[{"op":"remove","path":"communicationItems/1"},{"op":"add","path":"communicationItems/-","value":{"type":{"name":"Direct"},"value":"555-7","defaultFlag":true}}]`,
			func(s *cwsim.SeedContact) { s.Phone = "555-7" }},
		{"item replaced", `[{"op":"replace","path":"communicationItems/0","value":{"value":"ann.lee@contoso.com"}}]`,
			func(s *cwsim.SeedContact) { s.Email = "ann.lee@contoso.com" }},
		{"whole array", `[{"op":"replace","path":"communicationItems","value":[{"type":{"id":1},"value":"a@contoso.com","defaultFlag":true}]}]`,
			func(s *cwsim.SeedContact) { s.Email, s.Phone, s.MobilePhone = "a@contoso.com", "", "" }},
		{"custom fields by id", fmt.Sprintf(`[{"op":"replace","path":"customFields","value":[{"id":%d,"value":"obj-2"}]}]`, cwsim.ExternalIDFieldID),
			func(s *cwsim.SeedContact) { s.ExternalID = "obj-2" }},
		{"custom field cleared", fmt.Sprintf(`[{"op":"replace","path":"customFields","value":[{"id":%d,"value":null}]}]`, cwsim.OfficeLocationFieldID),
			func(s *cwsim.SeedContact) { s.OfficeLocation = "" }},
		{"custom field by index", `[{"op":"replace","path":"customFields/1/value","value":"Rome"}]`, func(s *cwsim.SeedContact) { s.OfficeLocation = "Rome" }},
		{"company moved", `[{"op":"replace","path":"company","value":{"id":2}}]`, func(s *cwsim.SeedContact) { s.CompanyID = 2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.sim.AddDepartment("Sales")
			b.sim.AddDepartment("Support")
			id := b.sim.SeedContact(seed)
			a := b.call(http.MethodPatch, "/company/contacts/"+strconv.Itoa(id), tc.ops)
			require.Equal(t, http.StatusOK, a.status, string(a.body))
			want := seed
			want.ID = id
			tc.want(&want)
			got, _ := b.sim.Contact(id)
			require.Equal(t, want, got)
			require.Equal(t, 1, b.sim.Stats().Writes)
		})
	}
}

func TestPatchContactRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", Email: "ann@contoso.com", Title: "CFO"})
	b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Bob", Email: "bob@contoso.com"})
	path := "/company/contacts/" + strconv.Itoa(id)
	tests := []struct {
		name, ops, wantErr string
	}{
		{"types", `[{"op":"replace","path":"types","value":[{"id":1}]}]`, ""},
		{"unknown path", `[{"op":"replace","path":"nickName","value":"A"}]`, ""},
		{"move", `[{"op":"move","from":"title","path":"lastName"}]`, ""},
		{"wrong type", `[{"op":"replace","path":"inactiveFlag","value":"yes"}]`, ""},
		{"missing value", `[{"op":"replace","path":"title"}]`, ""},
		{"index out of range", `[{"op":"replace","path":"communicationItems/5/value","value":"x"}]`, ""},
		{"first name emptied", `[{"op":"replace","path":"firstName","value":""}]`, "MissingRequiredField"},
		{"duplicate email", `[{"op":"replace","path":"communicationItems/0/value","value":"BOB@contoso.com"}]`, "ObjectExists"},
		{"not an array", `{"op":"replace","path":"title","value":"x"}`, ""},
		{"empty", `[]`, ""},
	}
	for _, tc := range tests {
		a := b.call(http.MethodPatch, path, tc.ops)
		require.Equal(t, http.StatusBadRequest, a.status, tc.name)
		_, errCodes := a.vendorError(t)
		if tc.wantErr != "" {
			require.Equal(t, []string{tc.wantErr}, errCodes, tc.name)
		}
	}
	got, _ := b.sim.Contact(id)
	require.Equal(t, "CFO", got.Title, "refused patches change nothing")
	require.Equal(t, "ann@contoso.com", got.Email)
	require.Equal(t, http.StatusNotFound, b.call(http.MethodPatch, "/company/contacts/999", `[{"op":"replace","path":"title","value":"x"}]`).status)

	// A patch may keep the contact's own email.
	a := b.call(http.MethodPatch, path, `[{"op":"replace","path":"communicationItems/0/value","value":"ANN@contoso.com"}]`)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
}

func TestPutContact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", Email: "ann@contoso.com", Title: "CFO"})
	a := b.call(http.MethodPut, "/company/contacts/"+strconv.Itoa(id), `{"firstName":"Ann","lastName":"Lee","communicationItems":[{"type":{"id":1},"value":"ann@contoso.com"}]}`)
	require.Equal(t, http.StatusOK, a.status, string(a.body))
	got, _ := b.sim.Contact(id)
	require.Equal(t, cwsim.SeedContact{ID: id, CompanyID: 1, FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.com"}, got)
	require.Equal(t, http.StatusNotFound, b.call(http.MethodPut, "/company/contacts/999", `{"firstName":"A"}`).status)
}
