package cwsim_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

// listQuery builds /company/contacts?... from key/value pairs.
func listQuery(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return "/company/contacts?" + q.Encode()
}

func TestConditions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.com", Phone: "555", Department: "Sales"})
	bob := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Bob", Email: "bob@contoso.com", Inactive: true, ContactType: "Approver"})
	cid := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 2, FirstName: "Cid", Email: "ann@contoso.com"})
	// A phone item whose value looks like Dee's email must not match an
	// email search: the child clauses hold on one item.
	dee := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Dee", Email: "dee@contoso.com", Phone: "ann@contoso.com"})

	tests := []struct {
		conditions, child string
		want              []int
	}{
		{conditions: "company/id=1", want: []int{ann, bob, dee}},
		{conditions: "company/id = 1 AND inactiveFlag = false", want: []int{ann, dee}},
		{conditions: "company/id=1 and inactiveFlag=true", want: []int{bob}},
		{conditions: fmt.Sprintf("id=%d", cid), want: []int{cid}},
		{conditions: `firstName="ANN" AND company/id!=2`, want: []int{ann}},
		{conditions: `department/name="sales"`, want: []int{ann}},
		{conditions: `department/name=null`, want: []int{bob, cid, dee}},
		{conditions: "company/id=1", child: `communicationItems/value="ANN@contoso.com" AND communicationItems/communicationType="Email"`, want: []int{ann}},
		{conditions: "company/id=1", child: `communicationItems/value="ann@contoso.com"`, want: []int{ann, dee}},
		{child: `communicationItems/value="ann@contoso.com" AND communicationItems/communicationType="Email"`, want: []int{ann, cid}},
		{child: `communicationItems/type/name="Direct"`, want: []int{ann, dee}},
		{child: `types/name="approver"`, want: []int{bob}},
		{child: `communicationItems/value="x\"y"`, want: []int{}},
	}
	for _, tc := range tests {
		t.Run(tc.conditions+" | "+tc.child, func(t *testing.T) {
			t.Parallel()
			a := b.call(http.MethodGet, listQuery("conditions", tc.conditions, "childConditions", tc.child), "")
			require.Equal(t, tc.want, ids(t, a))
		})
	}
}

func TestConditionsTheSimulatorDoesNotModel(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, q := range []string{
		listQuery("conditions", "company/id=1 OR company/id=2"),
		listQuery("conditions", "(company/id=1)"),
		listQuery("conditions", `firstName like "A%"`),
		listQuery("conditions", `firstName contains "A"`),
		listQuery("conditions", "company/id in (1,2)"),
		listQuery("conditions", "company/id>1"),
		listQuery("conditions", "nickName='Ann'"),
		listQuery("conditions", "site/name=\"Main\""),
		listQuery("conditions", "company/id=\"1\""),
		listQuery("conditions", "inactiveFlag=1"),
		listQuery("conditions", `firstName="Ann`),
		listQuery("conditions", "company/id=1 AND"),
		listQuery("conditions", "company/id=1 inactiveFlag=false"),
		listQuery("conditions", "lastUpdated > [2016-08-20T18:04:26Z]"),
		listQuery("childConditions", `communicationItems/value like "a%"`),
		listQuery("childConditions", `company/id=1`),
		"/company/contacts/types?childConditions=" + url.QueryEscape(`types/id=1`),
	} {
		a := b.call(http.MethodGet, q, "")
		require.Equal(t, http.StatusBadRequest, a.status, q)
		code, _ := a.vendorError(t)
		require.Equal(t, "ApiFindCondition", code, q)
	}
	for _, q := range []string{
		listQuery("customFieldConditions", `caption like "x"`),
		listQuery("customFieldConditions", `label="x"`),
		listQuery("fields", "id,nickName"),
		"/company/contacts/types?fields=id",
		listQuery("orderBy", "lastName asc"),
		listQuery("pageSize", "ten"),
		listQuery("page", "0"),
	} {
		a := b.call(http.MethodGet, q, "")
		require.Equal(t, http.StatusBadRequest, a.status, q)
	}
	a := b.raw(http.MethodGet, cwsim.APIPath+"/company/contacts", "", withHeader(authHeaders(), "pagination-type", "sideways"))
	require.Equal(t, http.StatusBadRequest, a.status)
}

func withHeader(h http.Header, k, v string) http.Header {
	h = h.Clone()
	h.Set(k, v)
	return h
}

// link returns the target of rel in a Link header.
func link(t *testing.T, h http.Header, rel string) string {
	t.Helper()
	for _, part := range strings.Split(h.Get("Link"), ",") {
		target, params, ok := strings.Cut(strings.TrimSpace(part), ";")
		if ok && strings.Contains(params, `rel="`+rel+`"`) {
			return strings.Trim(target, "<>")
		}
	}
	return ""
}

func TestNavigablePaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 25 {
		b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "U" + strconv.Itoa(i)})
	}
	a := b.call(http.MethodGet, listQuery("conditions", "company/id=1", "pageSize", "10", "page", "2"), "")
	got := ids(t, a)
	require.Equal(t, []int{11, 12, 13, 14, 15, 16, 17, 18, 19, 20}, got)
	for rel, page := range map[string]string{"first": "1", "prev": "1", "next": "3", "last": "3"} {
		u, err := url.Parse(link(t, a.header, rel))
		require.NoError(t, err, rel)
		require.Equal(t, page, u.Query().Get("page"), rel)
		require.Equal(t, "company/id=1", u.Query().Get("conditions"), rel)
		require.Equal(t, b.sim.BaseURL()+cwsim.APIPath+"/company/contacts", u.Scheme+"://"+u.Host+u.Path)
	}
	last := b.call(http.MethodGet, listQuery("conditions", "company/id=1", "pageSize", "10", "page", "3"), "")
	require.Len(t, ids(t, last), 5)
	require.Empty(t, link(t, last.header, "next"))

	beyond := b.call(http.MethodGet, listQuery("pageSize", "10", "page", "9"), "")
	require.Empty(t, ids(t, beyond))

	def := b.call(http.MethodGet, "/company/contacts", "")
	require.Len(t, ids(t, def), 25, "default page size is 25")
	require.Empty(t, link(t, def.header, "next"))
}

func TestForwardOnlyPaging(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 2405 {
		b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1 + i%2, FirstName: "U" + strconv.Itoa(i)})
	}
	b.sim.ResetStats()
	h := withHeader(authHeaders(), "pagination-type", "forward-only")
	next := b.sim.BaseURL() + cwsim.APIPath + listQuery("conditions", "company/id=1", "pageSize", "5000")
	var all []int
	pages := 0
	for next != "" {
		a := b.raw(http.MethodGet, strings.TrimPrefix(next, b.sim.BaseURL()), "", h)
		page := ids(t, a)
		all = append(all, page...)
		pages++
		_, present := a.header["Link"]
		require.True(t, present, "forward-only answers always carry Link")
		next = link(t, a.header, "next")
		if next != "" {
			u, err := url.Parse(next)
			require.NoError(t, err)
			require.Equal(t, strconv.Itoa(page[len(page)-1]), u.Query().Get("pageId"))
			require.Empty(t, u.Query().Get("page"))
			require.Empty(t, link(t, a.header, "last"), "forward-only paging has no last link")
		}
	}
	require.Equal(t, 2, pages, "pageSize is clamped to 1000")
	require.Len(t, all, 1203)
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1], all[i])
	}
	require.Equal(t, 2, b.sim.Stats().Reads)
}

func TestCustomFieldConditions(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ann := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Ann", ExternalID: "oid-ann", OfficeLocation: "Paris"})
	bob := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Bob", ExternalID: "oid-bob"})
	cid := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 2, FirstName: "Cid", ExternalID: "oid-ann"})
	dee := b.sim.SeedContact(cwsim.SeedContact{CompanyID: 1, FirstName: "Dee", OfficeLocation: "oid-ann"})

	tests := []struct {
		conditions, custom string
		want               []int
	}{
		{custom: `caption="M365 Object ID" AND value="oid-ann"`, want: []int{ann, cid}},
		{conditions: "company/id=1", custom: `caption="m365 object id" AND value="OID-ANN"`, want: []int{ann}},
		{conditions: "company/id=1", custom: `caption="M365 Object ID" AND value="oid-nobody"`, want: []int{}},
		{conditions: "company/id=1", custom: `caption="Office Location" AND value="oid-ann"`, want: []int{dee}},
		{conditions: "company/id=1", custom: `value="oid-ann"`, want: []int{ann, dee}},
		{conditions: "company/id=1", custom: fmt.Sprintf(`id=%d AND value="oid-bob"`, cwsim.ExternalIDFieldID), want: []int{bob}},
		{conditions: "company/id=1", custom: `caption="M365 Object ID" AND value=null`, want: []int{dee}},
	}
	for _, tc := range tests {
		t.Run(tc.conditions+" | "+tc.custom, func(t *testing.T) {
			t.Parallel()
			a := b.call(http.MethodGet, listQuery("conditions", tc.conditions, "customFieldConditions", tc.custom), "")
			require.Equal(t, tc.want, ids(t, a))
		})
	}
}
