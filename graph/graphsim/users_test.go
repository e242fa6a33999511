package graphsim_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

func TestListUsersPagesAndSelects(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 230, 7))
	tok := b.token(t, "t1")

	// Graph's default page is 100 users; nextLink carries on.
	var ids []string
	path := "/v1.0/users?$select=id,displayName,accountEnabled"
	pages := 0
	for path != "" {
		status, m := b.getJSON(t, path, tok)
		require.Equal(t, http.StatusOK, status, m)
		pages++
		for _, u := range values(t, m) {
			require.Len(t, u, 3, "only the selected properties: %v", u)
			ids = append(ids, u["id"].(string))
		}
		path = ""
		if next, ok := m["@odata.nextLink"].(string); ok {
			require.Contains(t, next, "%24select=id%2CdisplayName%2CaccountEnabled")
			path = pathOf(t, next)
		}
	}
	require.Equal(t, 3, pages)
	require.Len(t, ids, 230)
	require.True(t, sort.StringsAreSorted(ids), "pages walk users in a stable order")
	seen := map[string]bool{}
	for _, id := range ids {
		require.False(t, seen[id], "user %s listed twice", id)
		seen[id] = true
	}

	// $top sets the page size.
	_, m := b.getJSON(t, "/v1.0/users?$top=999", tok)
	require.Len(t, values(t, m), 230)
	require.NotContains(t, m, "@odata.nextLink")

	// Without $select Graph returns its default property set.
	_, m = b.getJSON(t, "/v1.0/users?$top=1", tok)
	u := values(t, m)[0]
	require.Contains(t, u, "userPrincipalName")
	require.Contains(t, u, "businessPhones")
	require.NotContains(t, u, "accountEnabled")
	require.NotContains(t, u, "department")
}

func TestListUsersRejectsWhatItCannotDo(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 3, 1))
	tok := b.token(t, "t1")
	for _, q := range []string{"$select=nope", "$filter=" + url.QueryEscape("department eq 'IT'"), "$top=1000", "$top=0", "$skiptoken=garbage"} {
		status, raw, _ := b.do(t, http.MethodGet, "/v1.0/users?"+q, tok, nil)
		require.Equal(t, http.StatusBadRequest, status, q)
		code, _ := graphError(t, raw)
		require.NotEmpty(t, code)
	}
	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/groups", tok, nil)
	require.Equal(t, http.StatusBadRequest, status)
	graphError(t, raw)
}

func TestGetUserByIDOrUPN(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 40, 3))
	tok := b.token(t, "t1")
	users := b.sim.Users("t1")
	var guest graphsim.User
	for _, u := range users {
		if u.UserType == "Guest" {
			guest = u
		}
	}
	require.NotEmpty(t, guest.ID)

	status, m := b.getJSON(t, "/v1.0/users/"+guest.ID+"?$select=id,userType,mail", tok)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Guest", m["userType"])
	require.Equal(t, guest.Mail, m["mail"])

	status, m = b.getJSON(t, "/v1.0/users/"+url.PathEscape(guest.UserPrincipalName)+"?$select=id", tok)
	require.Equal(t, http.StatusOK, status, m)
	require.Equal(t, guest.ID, m["id"])

	status, raw, _ := b.do(t, http.MethodGet, "/v1.0/users/00000000-0000-0000-0000-000000000000", tok, nil)
	require.Equal(t, http.StatusNotFound, status)
	code, _ := graphError(t, raw)
	require.Equal(t, "Request_ResourceNotFound", code)
}

func TestAdminEndpointsChangeTheTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 5, 1))
	tok := b.token(t, "t1")

	status, raw, _ := b.do(t, http.MethodPost, "/_sim/users", "", map[string]any{
		"displayName": "Nina Novak", "givenName": "Nina", "surname": "Novak",
		"userPrincipalName": "nina.novak@contoso.example", "mail": "nina.novak@contoso.example",
		"accountEnabled": true, "mailNickname": "nina", "jobTitle": "Buyer",
		"businessPhones":   []string{"+1 555 0100"},
		"assignedLicenses": []map[string]any{{"skuId": graphsim.SkuOfficeE3, "disabledPlans": []string{}}},
		"passwordProfile":  map[string]any{"password": "x", "forceChangePasswordNextSignIn": true},
	})
	require.Equal(t, http.StatusCreated, status, string(raw))
	var created map[string]any
	require.NoError(t, json.Unmarshal(raw, &created))
	id := created["id"].(string)
	require.NotEmpty(t, id)

	status, m := b.getJSON(t, "/v1.0/users/"+id+"?$select=jobTitle,assignedLicenses", tok)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Buyer", m["jobTitle"])
	require.Equal(t, graphsim.SkuOfficeE3, m["assignedLicenses"].([]any)[0].(map[string]any)["skuId"])

	status, raw, _ = b.do(t, http.MethodPatch, "/_sim/users/nina.novak@contoso.example", "", map[string]any{
		"accountEnabled": false, "jobTitle": nil, "mobilePhone": "+1 555 0199",
	})
	require.Equal(t, http.StatusOK, status, string(raw))
	u, ok := b.sim.User("t1", id)
	require.True(t, ok)
	require.False(t, *u.AccountEnabled)
	require.Empty(t, u.JobTitle, "null clears a property")
	require.Equal(t, "+1 555 0199", u.MobilePhone)
	require.Equal(t, "Nina Novak", u.DisplayName, "unnamed properties stay")

	status, _, _ = b.do(t, http.MethodDelete, "/_sim/users/"+id, "", nil)
	require.Equal(t, http.StatusNoContent, status)
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/users/"+id, tok, nil)
	require.Equal(t, http.StatusNotFound, status)

	// Mistakes are refused the way Graph refuses them.
	bad := []struct {
		method, path string
		body         any
		status       int
	}{
		{http.MethodPost, "/_sim/users", map[string]any{"displayName": "X", "userPrincipalName": "x@y.z", "favouriteColour": "red"}, http.StatusBadRequest},
		{http.MethodPost, "/_sim/users", map[string]any{"userPrincipalName": "x@y.z"}, http.StatusBadRequest},
		{http.MethodPost, "/_sim/users", map[string]any{"displayName": "X", "userPrincipalName": "x@y.z", "assignedLicenses": []map[string]any{{"skuId": "E3"}}}, http.StatusBadRequest},
		{http.MethodPost, "/_sim/users?tenant=nope", map[string]any{"displayName": "X", "userPrincipalName": "x@y.z"}, http.StatusNotFound},
		{http.MethodPatch, "/_sim/users/" + id, map[string]any{"jobTitle": "gone"}, http.StatusNotFound},
		{http.MethodPatch, "/_sim/users/" + b.sim.Users("t1")[0].ID, map[string]any{"id": "new"}, http.StatusBadRequest},
		{http.MethodPatch, "/_sim/users/" + b.sim.Users("t1")[0].ID, map[string]any{"accountEnabled": "no"}, http.StatusBadRequest},
		{http.MethodPatch, "/_sim/users/" + b.sim.Users("t1")[0].ID, map[string]any{"userPrincipalName": b.sim.Users("t1")[1].UserPrincipalName}, http.StatusBadRequest},
		{http.MethodDelete, "/_sim/users/" + id, nil, http.StatusNotFound},
	}
	for _, tc := range bad {
		status, raw, _ := b.do(t, tc.method, tc.path, "", tc.body)
		require.Equal(t, tc.status, status, "%s %s: %s", tc.method, tc.path, raw)
		require.Contains(t, string(raw), `"error"`)
	}
}

func TestAdminNeedsTenantWhenSeveralExist(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("a", 1, 1), graphsim.WithGeneratedTenant("b", 1, 1))
	status, raw, _ := b.do(t, http.MethodPost, "/_sim/users", "", map[string]any{"displayName": "X", "userPrincipalName": "x@y.z"})
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(raw), "more than one")
	status, _, _ = b.do(t, http.MethodPost, "/_sim/users?tenant=b", "", map[string]any{"displayName": "X", "userPrincipalName": "x@y.z"})
	require.Equal(t, http.StatusCreated, status)
	require.Len(t, b.sim.Users("b"), 2)
	require.Len(t, b.sim.Users("a"), 1)
	require.Equal(t, []string{"a", "b"}, b.sim.Tenants())
}

func TestFaultsAndStats(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 3, 1))
	tok := b.token(t, "t1")

	status, _, _ := b.do(t, http.MethodPost, "/_sim/faults", "", map[string]any{
		"method": "GET", "path_contains": "/users", "status": 429, "retry_after": "2.128", "count": 1,
	})
	require.Equal(t, http.StatusNoContent, status)
	status, raw, hdr := b.do(t, http.MethodGet, "/v1.0/users", tok, nil)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "2.128", hdr.Get("Retry-After"))
	code, _ := graphError(t, raw)
	require.Equal(t, "TooManyRequests", code)
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/users", tok, nil)
	require.Equal(t, http.StatusOK, status, "count 1 hits once")

	b.sim.InjectFault(graphsim.Fault{Status: http.StatusForbidden, Code: "Authorization_RequestDenied", Tenant: "t1"})
	status, raw, _ = b.do(t, http.MethodGet, "/v1.0/users", tok, nil)
	require.Equal(t, http.StatusForbidden, status)
	code, _ = graphError(t, raw)
	require.Equal(t, "Authorization_RequestDenied", code)
	status, _, _ = b.do(t, http.MethodDelete, "/_sim/faults", "", nil)
	require.Equal(t, http.StatusNoContent, status)

	status, _, _ = b.do(t, http.MethodPost, "/_sim/faults", "", map[string]any{"latency_ms": 150, "count": 1})
	require.Equal(t, http.StatusNoContent, status)
	rec := b.sim.Requests()
	before := len(rec)
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/users", tok, nil)
	require.Equal(t, http.StatusOK, status)
	rec = b.sim.Requests()
	require.Len(t, rec, before+1)
	require.GreaterOrEqual(t, rec[len(rec)-1].At.Sub(rec[len(rec)-2].At).Milliseconds(), int64(150))

	status, m := b.getJSON(t, "/_sim/stats", "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 4, m["reads"])
	require.EqualValues(t, 0, m["writes"])
	require.EqualValues(t, 5, m["requests"], "the token request counts as a request")
	require.EqualValues(t, 1, m["throttled"])
	require.EqualValues(t, 1, m["errors"])
	require.EqualValues(t, 1, m["tokens"])

	status, _, _ = b.do(t, http.MethodPost, "/_sim/faults", "", map[string]any{"stauts": 500})
	require.Equal(t, http.StatusBadRequest, status, "unknown fault fields are refused")

	b.sim.ResetStats()
	require.Equal(t, graphsim.Stats{}, b.sim.Stats())
	require.Empty(t, b.sim.Requests())
}

func TestTokenEndpointFault(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 1, 1))
	b.sim.InjectFault(graphsim.Fault{PathContains: "/oauth2/", Status: http.StatusServiceUnavailable, Count: 1})
	status, m := b.tokenResponse(t, "t1", url.Values{"grant_type": {"client_credentials"}})
	require.Equal(t, http.StatusServiceUnavailable, status)
	require.Equal(t, "temporarily_unavailable", m["error"])
	b.token(t, "t1")
}

// TestCountNeedsEventualConsistency: $count is an advanced query; without
// ConsistencyLevel: eventual Graph refuses it, and $filter is limited.
func TestCountNeedsEventualConsistency(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 50, 7))
	tok := b.token(t, "t1")
	want := 0
	for _, u := range b.sim.Users("t1") {
		if u.AccountEnabled == nil || *u.AccountEnabled {
			want++
		}
	}
	for _, tt := range []struct {
		name, query, level string
		status             int
		body               string
	}{
		{"no header", "?$filter=accountEnabled%20eq%20true", "", http.StatusBadRequest, ""},
		{"unsupported filter", "?$filter=department%20eq%20%27x%27", "eventual", http.StatusBadRequest, ""},
		{"enabled", "?$filter=accountEnabled%20eq%20true", "eventual", http.StatusOK, strconv.Itoa(want)},
		{"all", "", "eventual", http.StatusOK, "50"},
	} {
		req, err := http.NewRequest(http.MethodGet, b.sim.URL+"/v1.0/users/$count"+tt.query, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+tok)
		if tt.level != "" {
			req.Header.Set("ConsistencyLevel", tt.level)
		}
		resp, err := b.hc.Do(req)
		require.NoError(t, err, tt.name)
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		require.Equal(t, tt.status, resp.StatusCode, "%s: %s", tt.name, raw)
		if tt.body != "" {
			require.Equal(t, tt.body, string(raw), tt.name)
		}
	}
}
