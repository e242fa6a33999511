package connectwise_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

// seedMany stores n contacts in company, every third one inactive.
func seedMany(sim *cwsim.Sim, company, n int) {
	for i := range n {
		sim.SeedContact(cwsim.SeedContact{
			CompanyID: company, FirstName: fmt.Sprintf("User%d", i), LastName: "Test",
			Email: fmt.Sprintf("user%d@c%d.example", i, company), Inactive: i%3 == 0,
		})
	}
}

func TestListContactsReadsOnePagePerPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n, pageSize, wantReads int
	}{
		// Manage's real page: ⌈n/1000⌉ reads, the last page partly full.
		{n: 2001, pageSize: 0, wantReads: 3},
		{n: 0, pageSize: 0, wantReads: 1},
		// The page boundaries, cheaper with small pages: a full last page
		// costs no extra empty read.
		{n: 1, pageSize: 10, wantReads: 1},
		{n: 10, pageSize: 10, wantReads: 1},
		{n: 11, pageSize: 10, wantReads: 2},
		{n: 20, pageSize: 10, wantReads: 2},
		{n: 45, pageSize: 10, wantReads: 5},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%d by %d", tc.n, tc.pageSize), func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *connectwise.Config) { c.PageSize = tc.pageSize })
			seedMany(b.sim, companyA, tc.n)
			seedMany(b.sim, companyB, 40)
			b.sim.ResetStats()

			got, err := collectContacts(b.client.ListContacts(context.Background(), strconv.Itoa(companyA)))
			require.NoError(t, err)
			require.Len(t, got, tc.n)
			inactive, ids := 0, map[string]bool{}
			for _, c := range got {
				require.Equal(t, strconv.Itoa(companyA), c.CompanyID)
				ids[c.ID] = true
				if c.Inactive {
					inactive++
				}
			}
			require.Len(t, ids, tc.n, "no contact twice")
			require.Equal(t, (tc.n+2)/3, inactive, "inactive contacts are listed too")

			st := b.sim.Stats()
			require.Equal(t, tc.wantReads, st.Reads)
			require.Equal(t, 0, st.Writes)
			wantSize := strconv.Itoa(connectwise.DefaultPageSize)
			if tc.pageSize != 0 {
				wantSize = strconv.Itoa(tc.pageSize)
			}
			for i, r := range b.sim.Requests() {
				q, err := url.ParseQuery(r.RawQuery)
				require.NoError(t, err)
				require.Equal(t, "company/id=1", q.Get("conditions"))
				require.Equal(t, wantSize, q.Get("pageSize"))
				require.Equal(t, "forward-only", r.Header.Get("pagination-type"))
				if i > 0 {
					require.NotEmpty(t, q.Get("pageId"), "later pages follow the Link header")
				}
			}
		})
	}
}

func TestListContactsStopsReadingWhenTheCallerStops(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.PageSize = 10 })
	seedMany(b.sim, companyA, 25)
	b.sim.ResetStats()
	for c, err := range b.client.ListContacts(context.Background(), "1") {
		require.NoError(t, err)
		require.NotEmpty(t, c.ID)
		break
	}
	require.Equal(t, 1, b.sim.Stats().Reads)
}

func TestListContactsMaxPagesGuard(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.PageSize = 10 }, connectwise.WithMaxPages(2))
	seedMany(b.sim, companyA, 35)
	got, err := collectContacts(b.client.ListContacts(context.Background(), "1"))
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Contains(t, err.Error(), "stopped after 2 pages")
	require.Len(t, got, 20)
	require.Equal(t, 2, b.sim.Stats().Reads)
}

func TestListContactsErrorMidWalk(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.PageSize = 10 })
	seedMany(b.sim, companyA, 35)
	// The first page succeeds; the fault is added before the second read.
	var got []psa.Contact
	var gotErr error
	for c, err := range b.client.ListContacts(context.Background(), "1") {
		if err != nil {
			gotErr = err
			break
		}
		got = append(got, c)
		if len(got) == 10 {
			b.sim.InjectFault(cwsim.Fault{Status: 429, RetryAfter: "3"})
		}
	}
	require.ErrorIs(t, gotErr, psa.ErrRateLimited)
	d, ok := psa.RetryAfter(gotErr)
	require.True(t, ok)
	require.Equal(t, "3s", d.String())
	require.Len(t, got, 10)
}

func TestContactMapping(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	id := b.sim.SeedContact(cwsim.SeedContact{
		CompanyID: companyA, FirstName: "Ann", LastName: "Lee", Email: "Ann.Lee@contoso.com",
		Phone: "+1 555 0100", MobilePhone: "+1 555 0199", Title: "CFO", Department: "Finance",
		OfficeLocation: "Seattle", ContactType: "Decision Maker", ExternalID: "0b5c1a9e-1111-4222-8333-944455556666",
	})
	want := psa.Contact{
		ID: strconv.Itoa(id), CompanyID: "1", ExternalID: "0b5c1a9e-1111-4222-8333-944455556666",
		FirstName: "Ann", LastName: "Lee", Email: "Ann.Lee@contoso.com", Phone: "+1 555 0100",
		MobilePhone: "+1 555 0199", JobTitle: "CFO", Department: "Finance", OfficeLocation: "Seattle",
		ContactType: "Decision Maker",
	}
	got, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
	require.NoError(t, err)
	require.Equal(t, want, got)

	listed, err := collectContacts(b.client.ListContacts(context.Background(), "1"))
	require.NoError(t, err)
	require.Equal(t, []psa.Contact{want}, listed)
}

func TestUnconfiguredCustomFieldsAreNotRead(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.ObjectIDFieldID, c.OfficeLocationFieldID = 0, 0 })
	id := b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Ann", ExternalID: "abc", OfficeLocation: "Oslo"})
	got, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
	require.NoError(t, err)
	require.Empty(t, got.ExternalID)
	require.Empty(t, got.OfficeLocation)
}

func TestGetContactNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	_, err := b.client.GetContact(context.Background(), "4242")
	require.ErrorIs(t, err, psa.ErrNotFound)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "NotFound", pe.VendorCode)
}

func TestFindContactsByEmail(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ann := b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Ann", Email: "Ann@Contoso.com"})
	annDup := b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Ann", LastName: "Again", Email: "ann@contoso.com", Inactive: true})
	b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyB, FirstName: "Ann", Email: "ann@contoso.com"})
	b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Bob", Email: "bob@contoso.com"})
	ctx := context.Background()

	got, err := b.client.FindContactsByEmail(ctx, "1", "ANN@contoso.COM")
	require.NoError(t, err)
	require.Len(t, got, 2, "duplicates and inactive contacts are all returned")
	require.Equal(t, strconv.Itoa(ann), got[0].ID)
	require.Equal(t, strconv.Itoa(annDup), got[1].ID)

	r := requests(b.sim, http.MethodGet, "/company/contacts")[0]
	q, err := url.ParseQuery(r.RawQuery)
	require.NoError(t, err)
	require.Equal(t, "company/id=1", q.Get("conditions"))
	require.Equal(t, `communicationItems/value="ANN@contoso.COM" AND communicationItems/communicationType="Email"`, q.Get("childConditions"))

	none, err := b.client.FindContactsByEmail(ctx, "1", "nobody@contoso.com")
	require.NoError(t, err)
	require.Empty(t, none)

	quoted, err := b.client.FindContactsByEmail(ctx, "1", `"odd\name"@contoso.com`)
	require.NoError(t, err)
	require.Empty(t, quoted)
}

func TestCreateContact(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	in := psa.Contact{
		CompanyID: "1", ExternalID: "obj-1", FirstName: "Cara", LastName: "Diaz", Email: "cara@contoso.com",
		Phone: "+1 555 0101", MobilePhone: "+1 555 0102", JobTitle: "Engineer", Department: "sales",
		OfficeLocation: "Austin", ContactType: "End User",
	}
	got, err := b.client.CreateContact(context.Background(), in)
	require.NoError(t, err)
	require.NotEmpty(t, got.ID)
	want := in
	want.ID = got.ID
	want.Department = "Sales"
	require.Equal(t, want, got)

	id, err := strconv.Atoi(got.ID)
	require.NoError(t, err)
	stored, ok := b.sim.Contact(id)
	require.True(t, ok)
	require.Equal(t, cwsim.SeedContact{
		ID: id, CompanyID: companyA, FirstName: "Cara", LastName: "Diaz", Email: "cara@contoso.com",
		Phone: "+1 555 0101", MobilePhone: "+1 555 0102", Title: "Engineer", Department: "Sales",
		OfficeLocation: "Austin", ContactType: "End User", ExternalID: "obj-1",
	}, stored)

	posts := requests(b.sim, http.MethodPost, "/company/contacts")
	require.Len(t, posts, 1)
	var body struct {
		Company struct {
			ID int `json:"id"`
		} `json:"company"`
		Types []struct {
			ID int `json:"id"`
		} `json:"types"`
		CommunicationItems []struct {
			Type struct {
				ID int `json:"id"`
			} `json:"type"`
			Value             string `json:"value"`
			DefaultFlag       bool   `json:"defaultFlag"`
			CommunicationType string `json:"communicationType"`
		} `json:"communicationItems"`
		CustomFields []struct {
			ID    int `json:"id"`
			Value any `json:"value"`
		} `json:"customFields"`
	}
	require.NoError(t, json.Unmarshal(posts[0].Body, &body))
	require.Equal(t, 1, body.Company.ID)
	require.Len(t, body.Types, 1)
	require.Len(t, body.CommunicationItems, 3)
	require.Equal(t, "cara@contoso.com", body.CommunicationItems[0].Value)
	require.True(t, body.CommunicationItems[0].DefaultFlag, "the email is the default email")
	require.Equal(t, "Email", body.CommunicationItems[0].CommunicationType)
	require.True(t, body.CommunicationItems[1].DefaultFlag, "the direct phone is the default phone")
	require.False(t, body.CommunicationItems[2].DefaultFlag)
	require.Len(t, body.CustomFields, 2)
	require.Equal(t, 1, b.sim.Stats().Writes)

	// Setup lists are cached: a second create reads none of them again.
	before := b.sim.Stats().Reads
	_, err = b.client.CreateContact(context.Background(), psa.Contact{CompanyID: "1", FirstName: "Dan", Email: "dan@contoso.com", Department: "Sales", ContactType: "End User"})
	require.NoError(t, err)
	require.Equal(t, before, b.sim.Stats().Reads)
}

func TestCreateContactTypeByID(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	typeID := b.sim.AddContactType("VIP")
	got, err := b.client.CreateContact(context.Background(), psa.Contact{CompanyID: "2", FirstName: "Eve", ContactType: strconv.Itoa(typeID)})
	require.NoError(t, err)
	require.Equal(t, "VIP", got.ContactType)
	require.Empty(t, requests(b.sim, http.MethodGet, "/company/contacts/types"), "a numeric type needs no lookup")
}

func TestCreateContactUnknownNamesWriteNothing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		contact psa.Contact
		want    string
	}{
		{"department", psa.Contact{CompanyID: "1", FirstName: "F", Department: "Astrology"}, `department "Astrology" does not exist`},
		{"contact type", psa.Contact{CompanyID: "1", FirstName: "F", ContactType: "Wizard"}, `contact type "Wizard" does not exist`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, nil)
			_, err := b.client.CreateContact(context.Background(), tc.contact)
			require.ErrorIs(t, err, psa.ErrInvalid)
			require.Contains(t, err.Error(), tc.want)
			require.Equal(t, 0, b.sim.Stats().Writes)
			require.Empty(t, b.sim.Contacts(companyA))
		})
	}
}

func TestCreateContactDuplicateEmail(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Gus", Email: "gus@contoso.com"})
	_, err := b.client.CreateContact(context.Background(), psa.Contact{CompanyID: "1", FirstName: "Gus", LastName: "Two", Email: "GUS@contoso.com"})
	require.ErrorIs(t, err, psa.ErrDuplicate)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, connectwise.VendorCodeObjectExists, pe.VendorCode)
	require.Equal(t, http.StatusBadRequest, pe.StatusCode)
	require.Contains(t, pe.VendorText(), "already exists")
	require.Len(t, b.sim.Contacts(companyA), 1, "nothing was created")

	// The same address in another company is a different contact.
	_, err = b.client.CreateContact(context.Background(), psa.Contact{CompanyID: "2", FirstName: "Gus", Email: "gus@contoso.com"})
	require.NoError(t, err)
}

func TestCreateContactWithoutCustomFieldIDs(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.ObjectIDFieldID, c.OfficeLocationFieldID = 0, 0 })
	_, err := b.client.CreateContact(context.Background(), psa.Contact{CompanyID: "1", FirstName: "Hal", ExternalID: "obj", OfficeLocation: "Rome"})
	require.NoError(t, err)
	posts := requests(b.sim, http.MethodPost, "/company/contacts")
	require.Len(t, posts, 1)
	require.NotContains(t, string(posts[0].Body), "customFields")
}

// TestListContactsLoopingLinkStops uses a bare server whose Link header
// announces the page just read as the next one.
func TestListContactsLoopingLinkStops(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Link", "<"+r.URL.String()+">; rel=\"next\"")
		w.Header().Set("Content-Type", "application/vnd.connectwise.com+json; version=2025.1")
		_, _ = w.Write([]byte(`[{"id":1,"firstName":"Ann","company":{"id":1}}]`))
	}))
	t.Cleanup(srv.Close)
	cfg := validConfig()
	cfg.SiteURL = srv.URL
	c, err := connectwise.New(cfg)
	require.NoError(t, err)
	got, err := collectContacts(c.ListContacts(context.Background(), "1"))
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.ErrorContains(t, err, "repeats")
	require.Len(t, got, 1)
	require.Equal(t, int32(1), calls.Load())
}

// TestFindByObjectIDWithoutTheField: with no object-id custom field
// configured no contact carries the id, so the lookup answers nothing and
// sends nothing.
func TestFindByObjectIDWithoutTheField(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *connectwise.Config) { c.ObjectIDFieldID = 0 })
	b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Ann", ExternalID: "abc"})
	sent := len(b.sim.Requests())
	got, err := b.client.FindContactsByExternalID(context.Background(), strconv.Itoa(companyA), "abc")
	require.NoError(t, err)
	require.Empty(t, got)
	require.Len(t, b.sim.Requests(), sent, "nothing is sent")
}

// TestFindByObjectIDLearnsTheCaption: customFieldConditions name the field
// by caption; a fresh client learns it from one contact of the company,
// then asks with caption and value.
func TestFindByObjectIDLearnsTheCaption(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	ann := b.sim.SeedContact(cwsim.SeedContact{CompanyID: companyA, FirstName: "Ann", ExternalID: "abc"})
	got, err := b.client.FindContactsByExternalID(context.Background(), strconv.Itoa(companyA), "abc")
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Equal(t, strconv.Itoa(ann), got[0].ID)
	reqs := b.sim.Requests()
	last := reqs[len(reqs)-1]
	q, err := url.ParseQuery(last.RawQuery)
	require.NoError(t, err)
	require.Equal(t, `caption="M365 Object ID" AND value="abc"`, q.Get("customFieldConditions"))
	require.Equal(t, fmt.Sprintf("company/id=%d", companyA), q.Get("conditions"))
	n := len(reqs)
	_, err = b.client.FindContactsByExternalID(context.Background(), strconv.Itoa(companyA), "abc")
	require.NoError(t, err)
	require.Len(t, b.sim.Requests(), n+1, "the caption is learnt once")
}
