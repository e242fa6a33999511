package halosim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

type bundle struct {
	sim   *Sim
	clock *clock
	token string
}

// setupNoToken starts a sim with company 1 and gets no token.
func setupNoToken(t *testing.T, opts ...Option) bundle {
	t.Helper()
	c := &clock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := NewServer(t, append([]Option{WithClock(c.Now)}, opts...)...)
	s.AddCompany(1, "Contoso")
	return bundle{sim: s, clock: c}
}

// setup is setupNoToken plus a token for the default credentials.
func setup(t *testing.T, opts ...Option) bundle {
	t.Helper()
	b := setupNoToken(t, opts...)
	s := b.sim
	b.token = b.getToken(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}, "scope": {"all"}}, "", http.StatusOK)["access_token"].(string)
	s.ResetStats()
	return b
}

func (b bundle) getToken(t *testing.T, form url.Values, query string, want int) map[string]any {
	t.Helper()
	u := b.sim.BaseURL() + "/auth/token"
	if query != "" {
		u += "?" + query
	}
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, want, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// call sends one request with the bundle's token and returns status, header and body.
func (b bundle) call(t *testing.T, method, path, body string) (int, http.Header, string) {
	t.Helper()
	return b.callToken(t, method, path, body, b.token)
}

func (b bundle) callToken(t *testing.T, method, path, body, token string) (int, http.Header, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, b.sim.BaseURL()+path, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, string(data)
}

func TestTokenEndpoint(t *testing.T) {
	t.Parallel()
	b := setupNoToken(t, WithCredentials("id", "pw"), WithTokenTTL(90*time.Second))
	good := url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"pw"}, "scope": {"all"}}

	ok := b.getToken(t, good, "", http.StatusOK)
	require.Equal(t, "Bearer", ok["token_type"])
	require.EqualValues(t, 90, ok["expires_in"])

	bad := url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"nope"}, "scope": {"all"}}
	require.Equal(t, map[string]any{"error": "invalid_client"}, b.getToken(t, bad, "", http.StatusUnauthorized))

	grant := url.Values{"grant_type": {"password"}, "client_id": {"id"}, "client_secret": {"pw"}, "scope": {"all"}}
	require.Equal(t, "unsupported_grant_type", b.getToken(t, grant, "", http.StatusBadRequest)["error"])

	noScope := url.Values{"grant_type": {"client_credentials"}, "client_id": {"id"}, "client_secret": {"pw"}}
	require.Equal(t, "invalid_scope", b.getToken(t, noScope, "", http.StatusBadRequest)["error"])

	resp, err := http.Post(b.sim.BaseURL()+"/auth/token", "application/json", strings.NewReader(`{}`))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

func TestTenantAndAuthInfo(t *testing.T) {
	t.Parallel()
	b := setupNoToken(t, WithTenant("acme"), WithAuthPath("/identity/"))
	status, _, body := b.callToken(t, http.MethodGet, "/api/authinfo", "", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, fmt.Sprintf(`{"auth_url":%q,"tenant_id":"acme"}`, b.sim.BaseURL()+"/identity"), body)

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}, "scope": {"all"}}
	resp, err := http.Post(b.sim.BaseURL()+"/identity/token", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "hosted: tenant required")
	resp, err = http.Post(b.sim.BaseURL()+"/identity/token?tenant=acme", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	nb := setupNoToken(t, WithoutAuthInfo())
	status, _, _ = nb.callToken(t, http.MethodGet, "/api/authinfo", "", "")
	require.Equal(t, http.StatusNotFound, status)
}

func TestBearerTokens(t *testing.T) {
	t.Parallel()
	b := setup(t, WithTokenTTL(time.Minute))
	status, _, _ := b.call(t, http.MethodGet, "/api/Users", "")
	require.Equal(t, http.StatusOK, status)
	status, hdr, _ := b.callToken(t, http.MethodGet, "/api/Users", "", "")
	require.Equal(t, http.StatusUnauthorized, status)
	require.Contains(t, hdr.Get("WWW-Authenticate"), "Bearer")
	status, _, _ = b.callToken(t, http.MethodGet, "/api/Users", "", "made-up")
	require.Equal(t, http.StatusUnauthorized, status)

	b.clock.Advance(time.Minute)
	status, _, _ = b.call(t, http.MethodGet, "/api/Users", "")
	require.Equal(t, http.StatusUnauthorized, status, "expired")

	b2 := setup(t)
	b2.sim.RevokeTokens()
	status, _, _ = b2.call(t, http.MethodGet, "/api/Users", "")
	require.Equal(t, http.StatusUnauthorized, status, "revoked")
}

func TestHostedRateLimitByDefault(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range DefaultRateLimit - 1 { // setup's token request is not an /api request
		status, _, _ := b.call(t, http.MethodGet, "/api/Client", "")
		require.Equal(t, http.StatusOK, status, i)
		if i%60 == 59 {
			b.clock.Advance(time.Minute)
		}
	}
	status, _, _ := b.call(t, http.MethodGet, "/api/Client", "")
	require.Equal(t, http.StatusOK, status, "request 300")

	status, hdr, body := b.call(t, http.MethodGet, "/api/Client", "")
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, "Rate Limit Reached - 300 Requests per rolling 5 minute window", body)
	require.Equal(t, "60", hdr.Get("Retry-After"), "the first minute's requests leave the window in a minute")

	// The token endpoint is not rate limited; /api/authinfo is.
	b.getToken(t, url.Values{"grant_type": {"client_credentials"}, "client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}, "scope": {"all"}}, "", http.StatusOK)
	status, _, _ = b.callToken(t, http.MethodGet, "/api/authinfo", "", "")
	require.Equal(t, http.StatusTooManyRequests, status)

	b.clock.Advance(time.Minute)
	status, _, _ = b.call(t, http.MethodGet, "/api/Client", "")
	require.Equal(t, http.StatusOK, status)
	st := b.sim.Stats()
	require.Equal(t, 2, st.Throttled)
	require.Zero(t, st.Errors)
	require.Equal(t, DefaultRateLimit+1, st.Reads)
}

func TestRateLimitOff(t *testing.T) {
	t.Parallel()
	b := setup(t, WithRateLimit(0, 0))
	for range 400 {
		status, _, _ := b.call(t, http.MethodGet, "/api/Users/1", "")
		require.Equal(t, http.StatusNotFound, status)
	}
	require.Zero(t, b.sim.Stats().Throttled)
	require.Equal(t, 400, b.sim.Stats().Errors)
}

func TestUserListPagingAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for i := range 7 {
		b.sim.SeedContact(SeedContact{CompanyID: 1, FirstName: "U", LastName: fmt.Sprint(i), Email: fmt.Sprintf("u%d@contoso.example", i), Inactive: i == 6})
	}
	b.sim.SeedContact(SeedContact{CompanyID: 2, FirstName: "Other", Email: "u0@other.example"})

	type env struct {
		PageNo      int              `json:"page_no"`
		PageSize    int              `json:"page_size"`
		RecordCount int              `json:"record_count"`
		Users       []map[string]any `json:"users"`
	}
	get := func(q string) env {
		status, _, body := b.call(t, http.MethodGet, "/api/Users?"+q, "")
		require.Equal(t, http.StatusOK, status, body)
		var e env
		require.NoError(t, json.Unmarshal([]byte(body), &e))
		return e
	}
	e := get("client_id=1&pageinate=true&page_size=3&page_no=2&includeinactive=true")
	require.Equal(t, env{PageNo: 2, PageSize: 3, RecordCount: 7, Users: e.Users}, e)
	require.Len(t, e.Users, 3)
	require.EqualValues(t, 4, e.Users[0]["id"])

	require.Empty(t, get("client_id=1&pageinate=true&page_size=3&page_no=9&includeinactive=true").Users)
	require.Equal(t, 6, get("client_id=1").RecordCount, "inactive users only on request")
	require.Equal(t, 1, get("client_id=1&includeactive=false&includeinactive=true").RecordCount)
	require.Equal(t, 2, get("search=U0@&includeinactive=true").RecordCount, "search is a like match on email, any client")
	require.Len(t, get("client_id=1&count=2").Users, 2)

	status, _, _ := b.call(t, http.MethodGet, "/api/Users?page_size=x", "")
	require.Equal(t, http.StatusBadRequest, status)
	status, _, _ = b.call(t, http.MethodGet, "/api/users?client_id=1", "")
	require.Equal(t, http.StatusOK, status, "paths ignore case")
	require.Equal(t, 7, b.sim.Stats().Reads, "the refused read does not count")
}

func TestPostUsers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	post := func(body string) (int, string) {
		status, _, out := b.call(t, http.MethodPost, "/api/Users", body)
		return status, out
	}

	status, out := post(`[{"name":"Ann Lee","firstname":"Ann","surname":"Lee","emailaddress":"ann@contoso.example","client_id":1,
		"title":"Pilot","azureoid":"oid","customfields":[{"id":101,"value":"Oslo"},{"name":"cfcontacttype","value":7}]}]`)
	require.Equal(t, http.StatusOK, status, out)
	var created map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &created))
	id := int(created["id"].(float64))
	mainSite, _ := b.sim.MainSite(1)
	ann, _ := b.sim.Contact(id)
	require.Equal(t, SeedContact{ID: id, CompanyID: 1, SiteID: mainSite, FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.example",
		Title: "Pilot", ExternalID: "oid", OfficeLocation: "Oslo", ContactType: "7"}, ann)

	status, out = post(fmt.Sprintf(`[{"id":%d,"title":null,"inactive":true,"customfields":[{"name":"CFOfficeLocation","value":""}]}]`, id))
	require.Equal(t, http.StatusOK, status, out)
	ann2, _ := b.sim.Contact(id)
	ann.Title, ann.Inactive, ann.OfficeLocation = "", true, ""
	require.Equal(t, ann, ann2, "only the present fields changed")

	tests := []struct {
		name, body string
		status     int
		msg        string
	}{
		{"object, not array", `{"name":"x","client_id":1}`, 400, "The request body must be a JSON array of users"},
		{"empty array", `[]`, 400, "No users were supplied"},
		{"no client or site", `[{"name":"x"}]`, 400, "Please select a Customer and Site for the User"},
		{"unknown client", `[{"name":"x","client_id":9}]`, 400, "Customer 9 does not exist"},
		{"no name", `[{"client_id":1}]`, 400, "Please enter a name for the User"},
		{"bad email", `[{"name":"x","client_id":1,"emailaddress":"a b@c"}]`, 400, "'a b@c' is not a valid email address"},
		{"duplicate email", `[{"name":"x","client_id":1,"emailaddress":"ANN@contoso.example"}]`, 400, DuplicateEmailMessage},
		{"duplicate inside one request", `[{"name":"x","client_id":1,"emailaddress":"z@c.example"},{"name":"y","client_id":1,"emailaddress":"Z@c.example"}]`, 400, "Item 1: " + DuplicateEmailMessage},
		{"wrong type", `[{"name":5,"client_id":1}]`, 400, "Error converting value 5 to type 'String'. Path 'name'."},
		{"unknown custom field", `[{"name":"x","client_id":1,"customfields":[{"name":"CFNope","value":"1"}]}]`, 400, "Custom field 'CFNope' (id 0) does not exist"},
		{"unknown user", `[{"id":999,"title":"x"}]`, 404, "User 999 not found"},
		{"site of another client", `[{"name":"x","client_id":2,"site_id":1}]`, 400, "Site 1 does not belong to Customer 2"},
	}
	b.sim.AddCompany(2, "Other")
	for _, tt := range tests {
		status, out := post(tt.body)
		require.Equal(t, tt.status, status, tt.name)
		require.True(t, strings.HasPrefix(out, tt.msg), "%s: %s", tt.name, out)
	}
	require.Len(t, b.sim.Contacts(1), 1, "nothing from a refused request is stored")

	status, out = post(`[{"name":"B","client_id":1,"emailaddress":"b@c.example"},{"name":"C","site_id":1,"emailaddress":"c@c.example"}]`)
	require.Equal(t, http.StatusOK, status, out)
	var many []map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &many))
	require.Len(t, many, 2)
	require.Len(t, b.sim.Contacts(1), 3)

	st := b.sim.Stats()
	require.Equal(t, 3, st.Writes)
	require.Equal(t, len(tests), st.Errors)
}

func TestDuplicateEmailsAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t, WithDuplicateEmailsAllowed())
	b.sim.SeedContact(SeedContact{CompanyID: 1, FirstName: "A", Email: "a@c.example"})
	status, _, out := b.call(t, http.MethodPost, "/api/Users", `[{"name":"A2","client_id":1,"emailaddress":"a@c.example"}]`)
	require.Equal(t, http.StatusOK, status, out)
}

func TestCompanies(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.AddCompany(2, "Fabrikam")
	b.sim.AddCompany(3, "Northwind")
	b.sim.SetCompanyInactive(3, true)
	status, _, body := b.call(t, http.MethodGet, "/api/Client?pageinate=true&page_size=1&page_no=2", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"page_no":2,"page_size":1,"record_count":2,"clients":[{"id":2,"name":"Fabrikam","inactive":false}]}`, body)
	_, _, body = b.call(t, http.MethodGet, "/api/Client?includeinactive=true&search=north", "")
	require.JSONEq(t, `{"record_count":1,"clients":[{"id":3,"name":"Northwind","inactive":true}]}`, body)
	status, _, body = b.call(t, http.MethodGet, "/api/Client/2", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"id":2,"name":"Fabrikam","inactive":false}`, body)
	status, _, _ = b.call(t, http.MethodGet, "/api/Client/9", "")
	require.Equal(t, http.StatusNotFound, status)
}

func TestFaultsOverHTTPAndStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.SeedContact(SeedContact{CompanyID: 1, FirstName: "A"})
	ctl := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, b.sim.BaseURL()+path, strings.NewReader(body))
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(data)
	}
	status, _ := ctl(http.MethodPost, "/_sim/faults", `{"method":"GET","path_contains":"/users","status":503,"retry_after":"4","count":2}`)
	require.Equal(t, http.StatusNoContent, status)
	for range 2 {
		status, hdr, body := b.call(t, http.MethodGet, "/api/Users/1", "")
		require.Equal(t, http.StatusServiceUnavailable, status)
		require.Equal(t, "4", hdr.Get("Retry-After"))
		require.Equal(t, "An error has occurred.", body)
	}
	status, _, _ = b.call(t, http.MethodGet, "/api/Users/1", "")
	require.Equal(t, http.StatusOK, status, "count used up")

	status, _ = ctl(http.MethodPost, "/_sim/faults", `{"status":429,"body":"{\"message\":\"slow down\"}"}`)
	require.Equal(t, http.StatusNoContent, status)
	status, hdr, body := b.call(t, http.MethodPost, "/api/Users", `[]`)
	require.Equal(t, http.StatusTooManyRequests, status)
	require.Equal(t, `{"message":"slow down"}`, body)
	require.Contains(t, hdr.Get("Content-Type"), "application/json")
	status, _ = ctl(http.MethodDelete, "/_sim/faults", "")
	require.Equal(t, http.StatusNoContent, status)

	status, _ = ctl(http.MethodPost, "/_sim/faults", `{"status":"x"}`)
	require.Equal(t, http.StatusBadRequest, status)
	status, _ = ctl(http.MethodPost, "/_sim/faults", `{"status":42}`)
	require.Equal(t, http.StatusBadRequest, status)

	status, body = ctl(http.MethodGet, "/_sim/stats", "")
	require.Equal(t, http.StatusOK, status)
	require.JSONEq(t, `{"reads":1,"writes":0,"requests":4,"throttled":1,"errors":2}`, body)

	recs := b.sim.Requests()
	require.Len(t, recs, 4, "/_sim requests are not recorded")
	require.Equal(t, "/api/Users/1", recs[2].Path)
	require.Equal(t, http.StatusOK, recs[2].Status)
	require.Contains(t, string(recs[2].ResponseBody), `"firstname":"A"`)
	require.Equal(t, "Bearer "+b.token, recs[2].Header.Get("Authorization"))
}

func TestLatencyFaultHonoursCancellation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.sim.InjectFault(Fault{PathContains: "/api/client", Latency: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.sim.BaseURL()+"/api/Client", nil)
	require.NoError(t, err)
	start := time.Now()
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err)
	require.Less(t, time.Since(start), 5*time.Second)

	b.sim.ClearFaults()
	b.sim.InjectFault(Fault{PathContains: "/api/client", Latency: 20 * time.Millisecond, Count: 1})
	start = time.Now()
	status, _, _ := b.call(t, http.MethodGet, "/api/Client", "")
	require.Equal(t, http.StatusOK, status, "latency only, then through")
	require.GreaterOrEqual(t, time.Since(start), 20*time.Millisecond)
}

func TestRecordLimit(t *testing.T) {
	t.Parallel()
	b := setup(t, WithRecordLimit(3))
	for i := range 5 {
		b.call(t, http.MethodGet, fmt.Sprintf("/api/Users/%d", i), "")
	}
	recs := b.sim.Requests()
	require.Len(t, recs, 3)
	require.Equal(t, "/api/Users/2", recs[0].Path)
	require.Equal(t, "/api/Users/4", recs[2].Path)
	require.Equal(t, 5, b.sim.Stats().Requests)
}

func TestSeeding(t *testing.T) {
	t.Parallel()
	s := New()
	id := s.SeedContact(SeedContact{CompanyID: 5, FirstName: "A", OfficeLocation: "Oslo"})
	c, ok := s.Contact(id)
	require.True(t, ok)
	require.Equal(t, 5, c.CompanyID)
	require.NotZero(t, c.SiteID)
	require.Equal(t, "Oslo", c.OfficeLocation)
	_, ok = s.Contact(id + 1)
	require.False(t, ok)
	require.Len(t, s.Contacts(5), 1)
	require.Empty(t, s.Contacts(6))
	require.Panics(t, func() { s.AddSite(9, 77, "x") })
	s.AddSite(9, 5, "Annex")
	require.Panics(t, func() { s.AddSite(9, 5, "again") })
	id2 := s.SeedContact(SeedContact{CompanyID: 5, SiteID: 9, FirstName: "B"})
	c2, _ := s.Contact(id2)
	require.Equal(t, 9, c2.SiteID)
}

// TestListParametersRefused: a query value Halo cannot read is a 400 that
// names the first such parameter, on every list and get endpoint, and no
// read is counted.
func TestListParametersRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		path, want string
	}{
		{"/api/Users?client_id=x", "The value 'x' is not valid for client_id."},
		{"/api/Users?site_id=1.5", "The value '1.5' is not valid for site_id."},
		{"/api/Users?page_no=a&client_id=b", "The value 'a' is not valid for page_no."},
		{"/api/Users?pageinate=true&page_size=0", "page_size and page_no must be at least 1"},
		{"/api/Client?includeazuretenants=maybe", "The value 'maybe' is not valid for includeazuretenants."},
		{"/api/Client?includeinactive=yes", "The value 'yes' is not valid for includeinactive."},
		{"/api/Client/1?includedetails=2", "The value '2' is not valid for includedetails."},
	} {
		status, _, body := b.call(t, http.MethodGet, tc.path, "")
		require.Equal(t, http.StatusBadRequest, status, tc.path)
		require.Contains(t, body, tc.want, tc.path)
	}
	require.Zero(t, b.sim.Stats().Reads, "a refused read does not count")
}
