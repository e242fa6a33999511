package halopsa_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
)

func seedN(sim *halosim.Sim, company, n int) {
	for i := range n {
		sim.SeedContact(halosim.SeedContact{
			CompanyID: company,
			FirstName: "User",
			LastName:  strconv.Itoa(i),
			Email:     fmt.Sprintf("user%d@contoso.example", i),
			Inactive:  i%7 == 3,
		})
	}
}

func TestListContactsReadsOnePagePerPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		users, pageSize, wantReads int
	}{
		{users: 0, pageSize: 100, wantReads: 1},
		{users: 1, pageSize: 100, wantReads: 1},
		{users: 99, pageSize: 100, wantReads: 1},
		{users: 100, pageSize: 100, wantReads: 1},
		{users: 101, pageSize: 100, wantReads: 2},
		{users: 250, pageSize: 100, wantReads: 3},
		{users: 10, pageSize: 3, wantReads: 4},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d users by %d", tt.users, tt.pageSize), func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{config: func(c *halopsa.Config) { c.PageSize = tt.pageSize }})
			seedN(b.sim, testCompany, tt.users)
			seedN(b.sim, 99, 5) // another client's users stay out
			b.sim.ResetStats()

			var got []psa.Contact
			for c, err := range b.client.ListContacts(context.Background(), strconv.Itoa(testCompany)) {
				require.NoError(t, err)
				got = append(got, c)
			}
			require.Len(t, got, tt.users)
			require.Equal(t, tt.wantReads, b.sim.Stats().Reads)
			require.Zero(t, b.sim.Stats().Writes)

			want := b.sim.Contacts(testCompany)
			for i, c := range got {
				require.Equal(t, strconv.Itoa(want[i].ID), c.ID)
				require.Equal(t, want[i].Email, c.Email)
				require.Equal(t, want[i].Inactive, c.Inactive)
				require.Equal(t, strconv.Itoa(testCompany), c.CompanyID)
			}

			reads := apiRequests(b.sim, http.MethodGet, "/api/Users")
			require.Len(t, reads, tt.wantReads)
			for i, r := range reads {
				q := query(t, r)
				require.Equal(t, strconv.Itoa(testCompany), q.Get("client_id"))
				require.Equal(t, "true", q.Get("includeinactive"))
				require.Equal(t, "true", q.Get("pageinate"))
				require.Equal(t, strconv.Itoa(tt.pageSize), q.Get("page_size"))
				require.Equal(t, strconv.Itoa(i+1), q.Get("page_no"))
			}
		})
	}
}

func TestListContactsStopsWhenTheCallerStops(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{config: func(c *halopsa.Config) { c.PageSize = 2 }})
	seedN(b.sim, testCompany, 10)
	b.sim.ResetStats()
	for c, err := range b.client.ListContacts(context.Background(), strconv.Itoa(testCompany)) {
		require.NoError(t, err)
		require.NotEmpty(t, c.ID)
		break
	}
	require.Equal(t, 1, b.sim.Stats().Reads)
}

func TestListContactsRejectsBadCompanyWithoutARequest(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	for _, id := range []string{"", "abc", "0", "-4", "99999999999"} {
		for _, err := range b.client.ListContacts(context.Background(), id) {
			require.ErrorIs(t, err, psa.ErrInvalid, id)
		}
	}
	require.Zero(t, b.sim.Stats().Requests)
}

func TestListContactsMapsEveryField(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedContact(halosim.SeedContact{
		CompanyID: testCompany, FirstName: "Ada", LastName: "Lovelace", Email: "ada@contoso.example",
		Phone: "+44 20 1234", MobilePhone: "+44 7700 900", Title: "Engineer", Department: "R&D",
		OfficeLocation: "London", ContactType: "Employee", ExternalID: "oid-ada", Inactive: true,
	})
	var got []psa.Contact
	for c, err := range b.client.ListContacts(context.Background(), strconv.Itoa(testCompany)) {
		require.NoError(t, err)
		got = append(got, c)
	}
	require.Equal(t, []psa.Contact{{
		ID: strconv.Itoa(id), CompanyID: strconv.Itoa(testCompany), ExternalID: "oid-ada",
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@contoso.example", Phone: "+44 20 1234",
		MobilePhone: "+44 7700 900", JobTitle: "Engineer", Department: "R&D",
		OfficeLocation: "London", ContactType: "Employee", Inactive: true,
	}}, got)
}

func TestFindContactsByEmail(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sim: []halosim.Option{halosim.WithDuplicateEmailsAllowed()}})
	ann := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann", Email: "Ann@Contoso.example"})
	annOld := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann", LastName: "Old", Email: "ann@contoso.example", Inactive: true})
	b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Joann", Email: "joann@contoso.example"})
	b.sim.SeedContact(halosim.SeedContact{CompanyID: 99, FirstName: "Ann", Email: "ann@contoso.example"})

	got, err := b.client.FindContactsByEmail(context.Background(), strconv.Itoa(testCompany), " ANN@contoso.example ")
	require.NoError(t, err)
	var ids []string
	for _, c := range got {
		ids = append(ids, c.ID)
	}
	require.ElementsMatch(t, []string{strconv.Itoa(ann), strconv.Itoa(annOld)}, ids)

	reqs := apiRequests(b.sim, http.MethodGet, "/api/Users")
	require.Len(t, reqs, 1)
	q := query(t, reqs[0])
	require.Equal(t, "ANN@contoso.example", q.Get("search"))
	require.Equal(t, "true", q.Get("includeinactive"))
	require.Equal(t, strconv.Itoa(testCompany), q.Get("client_id"))

	none, err := b.client.FindContactsByEmail(context.Background(), strconv.Itoa(testCompany), "nobody@contoso.example")
	require.NoError(t, err)
	require.Empty(t, none)

	_, err = b.client.FindContactsByEmail(context.Background(), strconv.Itoa(testCompany), "  ")
	require.ErrorIs(t, err, psa.ErrInvalid)
}

func TestGetContact(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ada", LastName: "Lovelace",
		Email: "ada@contoso.example", Title: "Engineer", ExternalID: "oid-1", OfficeLocation: "London"})

	c, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
	require.NoError(t, err)
	require.Equal(t, psa.Contact{ID: strconv.Itoa(id), CompanyID: strconv.Itoa(testCompany), ExternalID: "oid-1",
		FirstName: "Ada", LastName: "Lovelace", Email: "ada@contoso.example", JobTitle: "Engineer", OfficeLocation: "London"}, c)

	_, err = b.client.GetContact(context.Background(), "4242")
	require.ErrorIs(t, err, psa.ErrNotFound)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, http.StatusNotFound, pe.StatusCode)

	before := b.sim.Stats().Requests
	_, err = b.client.GetContact(context.Background(), "x1")
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Equal(t, before, b.sim.Stats().Requests)
}

func TestCreateContactWritesEverySyncedField(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	in := psa.Contact{
		CompanyID: strconv.Itoa(testCompany), ExternalID: "oid-9", FirstName: "Grace", LastName: "Hopper",
		Email: "grace@contoso.example", Phone: "+1 555 0100", MobilePhone: "+1 555 0199", JobTitle: "Admiral",
		Department: "Navy", OfficeLocation: "Arlington", ContactType: "Employee",
	}
	got, err := b.client.CreateContact(context.Background(), in)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID)
	want := in
	want.ID = got.ID
	require.Equal(t, want, got)

	id, _ := strconv.Atoi(got.ID)
	stored, ok := b.sim.Contact(id)
	require.True(t, ok)
	mainSite, _ := b.sim.MainSite(testCompany)
	require.Equal(t, halosim.SeedContact{
		ID: id, CompanyID: testCompany, SiteID: mainSite, FirstName: "Grace", LastName: "Hopper",
		Email: "grace@contoso.example", Phone: "+1 555 0100", MobilePhone: "+1 555 0199", Title: "Admiral",
		Department: "Navy", OfficeLocation: "Arlington", ContactType: "Employee", ExternalID: "oid-9",
	}, stored)
	require.Equal(t, 1, b.sim.Stats().Writes)

	posts := apiRequests(b.sim, http.MethodPost, "/api/Users")
	require.Len(t, posts, 1)
	var body []map[string]any
	require.NoError(t, json.Unmarshal(posts[0].Body, &body))
	require.Len(t, body, 1)
	require.Equal(t, "Grace Hopper", body[0]["name"])
	require.NotContains(t, body[0], "id")
	require.NotContains(t, body[0], "inactive", "an active new user needs no inactive flag")
	require.NotContains(t, body[0], "site_id", "no site configured")
}

func TestCreateContactOmitsEmptyFieldsAndUsesConfiguredSite(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{config: func(c *halopsa.Config) { c.SiteID = 77 }})
	b.sim.AddSite(77, testCompany, "Head office")
	got, err := b.client.CreateContact(context.Background(), psa.Contact{
		CompanyID: strconv.Itoa(testCompany), FirstName: "Lin", LastName: "Kim", Email: "lin@contoso.example", Inactive: true,
	})
	require.NoError(t, err)
	require.True(t, got.Inactive)

	posts := apiRequests(b.sim, http.MethodPost, "/api/Users")
	require.Len(t, posts, 1)
	var body []map[string]any
	require.NoError(t, json.Unmarshal(posts[0].Body, &body))
	keys := make([]string, 0, len(body[0]))
	for k := range body[0] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	require.Equal(t, []string{"client_id", "emailaddress", "firstname", "inactive", "name", "site_id", "surname"}, keys)

	id, _ := strconv.Atoi(got.ID)
	stored, _ := b.sim.Contact(id)
	require.Equal(t, 77, stored.SiteID)
}

func TestCreateContactErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann", Email: "ann@contoso.example", Inactive: true})

	tests := []struct {
		name    string
		in      psa.Contact
		kind    error
		message string
	}{
		{"duplicate email, even of an inactive user", psa.Contact{CompanyID: strconv.Itoa(testCompany), FirstName: "Ann", Email: "ANN@contoso.example"}, psa.ErrDuplicate, halosim.DuplicateEmailMessage},
		{"company missing in Halo", psa.Contact{CompanyID: "999", FirstName: "Bo", Email: "bo@contoso.example"}, psa.ErrInvalid, "Customer 999 does not exist"},
		{"email Halo refuses", psa.Contact{CompanyID: strconv.Itoa(testCompany), FirstName: "Bo", Email: "not-an-email"}, psa.ErrInvalid, "'not-an-email' is not a valid email address"},
		{"no company id", psa.Contact{FirstName: "Bo", Email: "bo@contoso.example"}, psa.ErrInvalid, "company id is empty"},
		{"no name and no email", psa.Contact{CompanyID: strconv.Itoa(testCompany)}, psa.ErrInvalid, "contact has no name and no email"},
		{"already has an id", psa.Contact{ID: "5", CompanyID: strconv.Itoa(testCompany), FirstName: "Bo"}, psa.ErrInvalid, "contact already has id 5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := b.client.CreateContact(context.Background(), tt.in)
			require.ErrorIs(t, err, tt.kind)
			var pe *psa.Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, tt.message, pe.Message)
		})
	}
}

func TestUpdateContactSendsOnlyChangedFields(t *testing.T) {
	t.Parallel()
	base := halosim.SeedContact{
		CompanyID: testCompany, FirstName: "Ada", LastName: "Byron", Email: "ada@contoso.example",
		Phone: "1", MobilePhone: "2", Title: "Analyst", Department: "Maths", OfficeLocation: "London",
		ContactType: "Employee", ExternalID: "oid-ada",
	}
	tests := []struct {
		name     string
		change   func(*psa.Contact)
		fields   []psa.Field
		wantBody map[string]any
		want     func(*halosim.SeedContact)
	}{
		{
			name:     "job title",
			change:   func(c *psa.Contact) { c.JobTitle = "Countess" },
			fields:   []psa.Field{psa.FieldJobTitle},
			wantBody: map[string]any{"title": "Countess"},
			want:     func(s *halosim.SeedContact) { s.Title = "Countess" },
		},
		{
			name:     "last name also rewrites the display name",
			change:   func(c *psa.Contact) { c.LastName = "Lovelace" },
			fields:   []psa.Field{psa.FieldLastName},
			wantBody: map[string]any{"surname": "Lovelace", "name": "Ada Lovelace"},
			want:     func(s *halosim.SeedContact) { s.LastName = "Lovelace" },
		},
		{
			name:     "phones and email",
			change:   func(c *psa.Contact) { c.Phone, c.MobilePhone, c.Email = "10", "", "ada@lovelace.example" },
			fields:   []psa.Field{psa.FieldPhone, psa.FieldMobilePhone, psa.FieldEmail},
			wantBody: map[string]any{"phonenumber": "10", "mobilenumber": "", "emailaddress": "ada@lovelace.example"},
			want:     func(s *halosim.SeedContact) { s.Phone, s.MobilePhone, s.Email = "10", "", "ada@lovelace.example" },
		},
		{
			name:   "custom fields",
			change: func(c *psa.Contact) { c.OfficeLocation, c.ContactType = "Paris", "Contractor" },
			fields: []psa.Field{psa.FieldOfficeLocation, psa.FieldContactType},
			wantBody: map[string]any{"customfields": []any{
				map[string]any{"name": halosim.CustomFieldOfficeLocation, "value": "Paris"},
				map[string]any{"name": halosim.CustomFieldContactType, "value": "Contractor"},
			}},
			want: func(s *halosim.SeedContact) { s.OfficeLocation, s.ContactType = "Paris", "Contractor" },
		},
		{
			name:     "deactivate",
			change:   func(c *psa.Contact) { c.Inactive = true },
			fields:   []psa.Field{psa.FieldInactive},
			wantBody: map[string]any{"inactive": true},
			want:     func(s *halosim.SeedContact) { s.Inactive = true },
		},
		{
			name:     "department and the M365 link",
			change:   func(c *psa.Contact) { c.Department, c.ExternalID = "Engines", "oid-new" },
			fields:   []psa.Field{psa.FieldDepartment, psa.FieldExternalID},
			wantBody: map[string]any{"department": "Engines", "azureoid": "oid-new"},
			want:     func(s *halosim.SeedContact) { s.Department, s.ExternalID = "Engines", "oid-new" },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{})
			id := b.sim.SeedContact(base)
			current, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
			require.NoError(t, err)
			desired := current
			tt.change(&desired)

			got, err := b.client.UpdateContact(context.Background(), desired, tt.fields)
			require.NoError(t, err)
			require.Equal(t, desired, got)

			posts := apiRequests(b.sim, http.MethodPost, "/api/Users")
			require.Len(t, posts, 1)
			var body []map[string]any
			require.NoError(t, json.Unmarshal(posts[0].Body, &body))
			wantBody := map[string]any{"id": float64(id)}
			for k, v := range tt.wantBody {
				wantBody[k] = v
			}
			require.Equal(t, []map[string]any{wantBody}, body)

			want := base
			want.ID = id
			want.SiteID, _ = b.sim.MainSite(testCompany)
			tt.want(&want)
			stored, _ := b.sim.Contact(id)
			require.Equal(t, want, stored)
		})
	}
}

func TestUpdateContactReactivates(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann", Email: "ann@contoso.example", Inactive: true})
	c, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
	require.NoError(t, err)
	c.Inactive = false
	got, err := b.client.UpdateContact(context.Background(), c, []psa.Field{psa.FieldInactive})
	require.NoError(t, err)
	require.False(t, got.Inactive)
	posts := apiRequests(b.sim, http.MethodPost, "/api/Users")
	require.JSONEq(t, fmt.Sprintf(`[{"id":%d,"inactive":false}]`, id), string(posts[0].Body))
	stored, _ := b.sim.Contact(id)
	require.False(t, stored.Inactive)
}

func TestUpdateContactSkipsFieldsHaloDoesNotSync(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{config: func(c *halopsa.Config) { c.OfficeLocationField, c.ContactTypeField = "", "" }})
	require.NotContains(t, b.client.SupportedFields(), psa.FieldOfficeLocation)
	require.NotContains(t, b.client.SupportedFields(), psa.FieldContactType)
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann", Email: "ann@contoso.example", OfficeLocation: "Oslo"})
	c := psa.Contact{ID: strconv.Itoa(id), CompanyID: strconv.Itoa(testCompany), FirstName: "Ann", Email: "ann@contoso.example",
		OfficeLocation: "Bergen", ContactType: "Employee", JobTitle: "Pilot"}
	b.sim.ResetStats()

	got, err := b.client.UpdateContact(context.Background(), c, []psa.Field{psa.FieldOfficeLocation, psa.FieldContactType})
	require.NoError(t, err)
	require.Zero(t, b.sim.Stats().Requests, "nothing Halo syncs changed")
	require.Empty(t, got.OfficeLocation)
	require.Empty(t, got.ContactType)

	_, err = b.client.UpdateContact(context.Background(), c, []psa.Field{psa.FieldOfficeLocation, psa.FieldJobTitle})
	require.NoError(t, err)
	posts := apiRequests(b.sim, http.MethodPost, "/api/Users")
	require.Len(t, posts, 1)
	require.JSONEq(t, fmt.Sprintf(`[{"id":%d,"title":"Pilot"}]`, id), string(posts[0].Body))
	stored, _ := b.sim.Contact(id)
	require.Equal(t, "Oslo", stored.OfficeLocation, "the custom field is left alone")
}

func TestUpdateContactErrors(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	ann := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann", Email: "ann@contoso.example"})
	bob := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Bob", Email: "bob@contoso.example"})

	_, err := b.client.UpdateContact(context.Background(), psa.Contact{ID: strconv.Itoa(bob), CompanyID: strconv.Itoa(testCompany), Email: "ann@contoso.example"}, []psa.Field{psa.FieldEmail})
	require.ErrorIs(t, err, psa.ErrDuplicate)

	_, err = b.client.UpdateContact(context.Background(), psa.Contact{ID: "4242", CompanyID: strconv.Itoa(testCompany), JobTitle: "x"}, []psa.Field{psa.FieldJobTitle})
	require.ErrorIs(t, err, psa.ErrNotFound)

	before := b.sim.Stats().Requests
	_, err = b.client.UpdateContact(context.Background(), psa.Contact{ID: strconv.Itoa(ann)}, []psa.Field{"shoe_size"})
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = b.client.UpdateContact(context.Background(), psa.Contact{ID: ""}, []psa.Field{psa.FieldJobTitle})
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Equal(t, before, b.sim.Stats().Requests)
}
