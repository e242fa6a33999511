package connectwise_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

// baseSeed is the contact every update case starts from.
var baseSeed = cwsim.SeedContact{
	CompanyID: companyA, FirstName: "Ivy", LastName: "Ng", Email: "ivy@contoso.com",
	Phone: "+1 555 0200", MobilePhone: "+1 555 0299", Title: "Analyst", Department: "Sales",
	OfficeLocation: "Denver", ContactType: "End User", ExternalID: "obj-ivy",
}

func TestUpdateContactSendsOnlyChangedPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		seed   func(*cwsim.SeedContact)
		edit   func(*psa.Contact)
		fields []psa.Field
		// wantOps are the PATCH's "op path" pairs; nil means no PATCH.
		wantOps []string
		// wantReads is how many GETs the update needed: the contact itself
		// when communication items or custom fields change, plus a setup
		// list (departments, communication types) on first use.
		wantReads int
		// want is the stored contact afterwards.
		want func(*cwsim.SeedContact)
	}{
		{name: "title", fields: []psa.Field{psa.FieldJobTitle},
			edit: func(c *psa.Contact) { c.JobTitle = "Lead Analyst" }, wantOps: []string{"replace title"},
			want: func(s *cwsim.SeedContact) { s.Title = "Lead Analyst" }},
		{name: "names", fields: []psa.Field{psa.FieldLastName, psa.FieldFirstName},
			edit:    func(c *psa.Contact) { c.FirstName, c.LastName = "Ivana", "Ng-Smith" },
			wantOps: []string{"replace firstName", "replace lastName"},
			want:    func(s *cwsim.SeedContact) { s.FirstName, s.LastName = "Ivana", "Ng-Smith" }},
		{name: "deactivate", fields: []psa.Field{psa.FieldInactive},
			edit: func(c *psa.Contact) { c.Inactive = true }, wantOps: []string{"replace inactiveFlag"},
			want: func(s *cwsim.SeedContact) { s.Inactive = true }},
		{name: "reactivate", seed: func(s *cwsim.SeedContact) { s.Inactive = true }, fields: []psa.Field{psa.FieldInactive},
			edit: func(c *psa.Contact) { c.Inactive = false }, wantOps: []string{"replace inactiveFlag"},
			want: func(s *cwsim.SeedContact) { s.Inactive = false }},
		{name: "department", fields: []psa.Field{psa.FieldDepartment},
			edit: func(c *psa.Contact) { c.Department = "Support" }, wantOps: []string{"replace department"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.Department = "Support" }},
		{name: "department cleared", fields: []psa.Field{psa.FieldDepartment},
			edit: func(c *psa.Contact) { c.Department = "" }, wantOps: []string{"remove department"},
			want: func(s *cwsim.SeedContact) { s.Department = "" }},
		{name: "phone keeps email and mobile", fields: []psa.Field{psa.FieldPhone},
			edit: func(c *psa.Contact) { c.Phone = "+1 555 0222" }, wantOps: []string{"replace communicationItems"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.Phone = "+1 555 0222" }},
		{name: "phone and title", fields: []psa.Field{psa.FieldPhone, psa.FieldJobTitle},
			edit:    func(c *psa.Contact) { c.Phone, c.JobTitle = "+1 555 0223", "Manager" },
			wantOps: []string{"replace title", "replace communicationItems"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.Phone, s.Title = "+1 555 0223", "Manager" }},
		{name: "email", fields: []psa.Field{psa.FieldEmail},
			edit: func(c *psa.Contact) { c.Email = "ivy.ng@contoso.com" }, wantOps: []string{"replace communicationItems"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.Email = "ivy.ng@contoso.com" }},
		{name: "mobile cleared", fields: []psa.Field{psa.FieldMobilePhone},
			edit: func(c *psa.Contact) { c.MobilePhone = "" }, wantOps: []string{"replace communicationItems"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.MobilePhone = "" }},
		{name: "phone added", seed: func(s *cwsim.SeedContact) { s.Phone = "" }, fields: []psa.Field{psa.FieldPhone},
			edit: func(c *psa.Contact) { c.Phone = "+1 555 0277" }, wantOps: []string{"replace communicationItems"}, wantReads: 2,
			want: func(s *cwsim.SeedContact) { s.Phone = "+1 555 0277" }},
		{name: "object id", fields: []psa.Field{psa.FieldExternalID},
			edit: func(c *psa.Contact) { c.ExternalID = "obj-new" }, wantOps: []string{"replace customFields"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.ExternalID = "obj-new" }},
		{name: "object id and office", fields: []psa.Field{psa.FieldOfficeLocation, psa.FieldExternalID},
			edit:    func(c *psa.Contact) { c.ExternalID, c.OfficeLocation = "obj-2", "Boulder" },
			wantOps: []string{"replace customFields"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.ExternalID, s.OfficeLocation = "obj-2", "Boulder" }},
		{name: "object id set on a contact without one", seed: func(s *cwsim.SeedContact) { s.ExternalID = "" },
			fields: []psa.Field{psa.FieldExternalID}, edit: func(c *psa.Contact) { c.ExternalID = "obj-adopt" },
			wantOps: []string{"replace customFields"}, wantReads: 1,
			want: func(s *cwsim.SeedContact) { s.ExternalID = "obj-adopt" }},
		{name: "contact type is create-only", fields: []psa.Field{psa.FieldContactType},
			edit: func(c *psa.Contact) { c.ContactType = "Approver" }, wantOps: nil, wantReads: 1},
		{name: "unchanged phone writes nothing", fields: []psa.Field{psa.FieldPhone},
			edit: func(*psa.Contact) {}, wantOps: nil, wantReads: 1},
		{name: "everything", fields: psa.CanonicalFields,
			edit: func(c *psa.Contact) {
				c.FirstName, c.LastName, c.Email, c.Phone, c.MobilePhone = "A", "B", "ab@contoso.com", "1", "2"
				c.JobTitle, c.Department, c.OfficeLocation, c.Inactive = "T", "Support", "Paris", true
			},
			wantOps: []string{"replace firstName", "replace lastName", "replace title", "replace department",
				"replace inactiveFlag", "replace communicationItems", "replace customFields"},
			wantReads: 2,
			want: func(s *cwsim.SeedContact) {
				s.FirstName, s.LastName, s.Email, s.Phone, s.MobilePhone = "A", "B", "ab@contoso.com", "1", "2"
				s.Title, s.Department, s.OfficeLocation, s.Inactive = "T", "Support", "Paris", true
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			b.sim.AddDepartment("Support")
			seed := baseSeed
			if tc.seed != nil {
				tc.seed(&seed)
			}
			id := b.sim.SeedContact(seed)
			ctx := context.Background()
			cur, err := b.client.GetContact(ctx, strconv.Itoa(id))
			require.NoError(t, err)
			b.sim.ResetStats()

			desired := cur
			tc.edit(&desired)
			got, err := b.client.UpdateContact(ctx, desired, tc.fields)
			require.NoError(t, err)

			st := b.sim.Stats()
			require.Equal(t, tc.wantReads, st.Reads, "reads")
			if tc.wantOps == nil {
				require.Equal(t, 0, st.Writes, "no PATCH")
			} else {
				require.Equal(t, 1, st.Writes, "one PATCH")
				require.Equal(t, tc.wantOps, paths(patchOf(t, b.sim)))
			}

			want := seed
			want.ID = id
			if tc.want != nil {
				tc.want(&want)
			}
			stored, ok := b.sim.Contact(id)
			require.True(t, ok)
			require.Equal(t, want, stored)
			require.Equal(t, want.Email, got.Email)
			require.Equal(t, want.Phone, got.Phone)
			require.Equal(t, want.Title, got.JobTitle)
			require.Equal(t, want.Inactive, got.Inactive)
			require.Equal(t, want.ExternalID, got.ExternalID)
		})
	}
}

func TestUpdateContactKeepsItemsItDoesNotManage(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	id := b.sim.SeedContact(baseSeed)
	cur, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
	require.NoError(t, err)
	cur.Phone = "+1 555 0333"
	_, err = b.client.UpdateContact(context.Background(), cur, []psa.Field{psa.FieldPhone})
	require.NoError(t, err)

	ops := patchOf(t, b.sim)
	require.Len(t, ops, 1)
	var items []struct {
		ID    int    `json:"id"`
		Value string `json:"value"`
		Type  struct {
			Name string `json:"name"`
		} `json:"type"`
	}
	require.NoError(t, json.Unmarshal(ops[0].Value, &items))
	require.Len(t, items, 3)
	byType := map[string]string{}
	for _, it := range items {
		require.NotZero(t, it.ID, "existing items keep their ids")
		byType[it.Type.Name] = it.Value
	}
	require.Equal(t, map[string]string{"Email": "ivy@contoso.com", "Direct": "+1 555 0333", "Mobile": "+1 555 0299"}, byType)
}

func TestUpdateContactErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ctx := context.Background()
	id := b.sim.SeedContact(baseSeed)
	other := b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Jo", Email: "jo@contoso.com"})

	_, err := b.client.UpdateContact(ctx, psa.Contact{ID: strconv.Itoa(id), CompanyID: "1"}, []psa.Field{"nickname"})
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Contains(t, err.Error(), `"nickname"`)

	_, err = b.client.UpdateContact(ctx, psa.Contact{ID: "9999", CompanyID: "1", JobTitle: "x"}, []psa.Field{psa.FieldJobTitle})
	require.ErrorIs(t, err, psa.ErrNotFound)

	_, err = b.client.UpdateContact(ctx, psa.Contact{ID: strconv.Itoa(id), CompanyID: "1", Department: "Nowhere"}, []psa.Field{psa.FieldDepartment})
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Contains(t, err.Error(), `"Nowhere"`)

	cur, err := b.client.GetContact(ctx, strconv.Itoa(other))
	require.NoError(t, err)
	cur.Email = "IVY@contoso.com"
	_, err = b.client.UpdateContact(ctx, cur, []psa.Field{psa.FieldEmail})
	require.ErrorIs(t, err, psa.ErrDuplicate)
	stored, _ := b.sim.Contact(other)
	require.Equal(t, "jo@contoso.com", stored.Email)
}
