package atsim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/autotask/atsim"
)

type answer struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    string
}

func (a answer) errors() []string {
	var out []string
	if list, ok := a.Body["errors"].([]any); ok {
		for _, e := range list {
			out = append(out, fmt.Sprint(e))
		}
	}
	return out
}

// call sends one request with the default credentials unless headers
// override them ("" removes a header).
func call(t *testing.T, s *atsim.Sim, method, path string, body any, headers ...string) answer {
	t.Helper()
	var r io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			r = strings.NewReader(b)
		default:
			raw, err := json.Marshal(b)
			require.NoError(t, err)
			r = bytes.NewReader(raw)
		}
	}
	u := path
	if !strings.HasPrefix(path, "http") {
		u = s.URL + path
	}
	req, err := http.NewRequest(method, u, r)
	require.NoError(t, err)
	req.Header.Set("ApiIntegrationCode", atsim.DefaultIntegrationCode)
	req.Header.Set("UserName", atsim.DefaultUsername)
	req.Header.Set("Secret", atsim.DefaultSecret)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	_ = json.Unmarshal(raw, &a.Body)
	return a
}

const api = "/ATServicesRest/V1.0/"

func companyFilter(id int) map[string]any {
	return map[string]any{"MaxRecords": 500, "filter": []any{map[string]any{"op": "eq", "field": "companyID", "value": id}}}
}

func TestZoneInformation(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)

	a := call(t, s, http.MethodGet, "/atservicesrest/v1.0/zoneInformation?user="+atsim.DefaultUsername, nil, "Secret", "", "UserName", "")
	require.Equal(t, http.StatusOK, a.Status, a.Raw)
	require.Equal(t, s.URL+"/ATServicesRest/", a.Body["url"])
	require.Equal(t, s.ZoneURL(), a.Body["url"])
	require.Equal(t, s.URL+"/atservicesrest", s.BaseURL())

	a = call(t, s, http.MethodGet, "/atservicesrest/v1.0/zoneInformation?user=nobody@example.com", nil)
	require.Equal(t, http.StatusInternalServerError, a.Status)
	require.NotEmpty(t, a.errors())

	st := s.Stats()
	require.Equal(t, 2, st.Requests)
	require.Equal(t, 0, st.Reads, "the zone host is not metered")
	require.Equal(t, 0, st.QuotaUsed)
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)
	tests := []struct {
		name    string
		headers []string
		status  int
	}{
		{"valid", nil, http.StatusOK},
		{"user name in other case", []string{"UserName", strings.ToUpper(atsim.DefaultUsername)}, http.StatusOK},
		{"missing secret", []string{"Secret", ""}, http.StatusUnauthorized},
		{"wrong secret", []string{"Secret", "nope"}, http.StatusUnauthorized},
		{"unknown user", []string{"UserName", "x@example.com"}, http.StatusInternalServerError},
		{"wrong integration code", []string{"ApiIntegrationCode", "OTHER"}, http.StatusInternalServerError},
		{"bad impersonation id", []string{"ImpersonationResourceId", "abc"}, http.StatusInternalServerError},
		{"impersonation id", []string{"ImpersonationResourceId", "29682885"}, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := call(t, s, http.MethodGet, api+"ThresholdInformation", nil, tc.headers...)
			require.Equal(t, tc.status, a.Status, a.Raw)
			if tc.status != http.StatusOK {
				require.Contains(t, a.errors()[0], "Authentication failed")
			}
		})
	}
}

func TestQueryPagingFollowsNextPageURLWithTheSameBody(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t, atsim.WithHourlyLimit(0))
	s.AddCompany(1, "One")
	s.AddCompany(2, "Two")
	for i := range 1203 {
		s.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "F", LastName: fmt.Sprint(i), Email: fmt.Sprintf("u%d@one.test", i)})
	}
	s.SeedContact(atsim.SeedContact{CompanyID: 2, FirstName: "Other", LastName: "Company"})

	body := companyFilter(1)
	body["IncludeFields"] = []string{"id", "emailAddress"}
	seen := map[float64]bool{}
	last := -1.0
	next := api + "Contacts/query"
	pages := 0
	for next != "" {
		a := call(t, s, http.MethodPost, next, body)
		require.Equal(t, http.StatusOK, a.Status, a.Raw)
		pages++
		details := a.Body["pageDetails"].(map[string]any)
		items := a.Body["items"].([]any)
		require.Equal(t, float64(len(items)), details["count"])
		require.Equal(t, float64(500), details["requestCount"])
		for _, it := range items {
			m := it.(map[string]any)
			id := m["id"].(float64)
			require.Greater(t, id, last, "ordered by id")
			last = id
			require.False(t, seen[id])
			seen[id] = true
			require.NotContains(t, m, "firstName", "IncludeFields limits the fields")
			require.Contains(t, m, "userDefinedFields")
		}
		if pages > 1 {
			require.NotNil(t, details["prevPageUrl"])
		} else {
			require.Nil(t, details["prevPageUrl"])
		}
		next, _ = details["nextPageUrl"].(string)
		if next != "" {
			require.Contains(t, next, "/V1.0/Contacts/query/next?paging=")
			if pages == 1 {
				a := call(t, s, http.MethodGet, next, nil)
				require.Equal(t, http.StatusMethodNotAllowed, a.Status, "a POST query's paging link is POST only")
			}
		}
	}
	require.Equal(t, 3, pages)
	require.Len(t, seen, 1203)

	// A GET query carries its search in the links and pages with GET.
	a := call(t, s, http.MethodGet, api+"Contacts/query?search=%7B%22filter%22%3A%5B%5D%2C%22maxRecords%22%3A501%7D", nil)
	require.Equal(t, http.StatusBadRequest, a.Status, a.Raw)
	get := call(t, s, http.MethodGet, api+"Contacts/query?search=%7B%22filter%22%3A%5B%7B%22op%22%3A%22eq%22%2C%22field%22%3A%22companyid%22%2C%22value%22%3A%221%22%7D%5D%7D", nil)
	require.Equal(t, http.StatusOK, get.Status, get.Raw)
	link := get.Body["pageDetails"].(map[string]any)["nextPageUrl"].(string)
	require.Contains(t, link, "&search=")
	page2 := call(t, s, http.MethodGet, link, nil)
	require.Equal(t, http.StatusOK, page2.Status, page2.Raw)
	require.Len(t, page2.Body["items"], 500)
}

func TestQueryOperatorsAndErrors(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)
	s.AddCompany(1, "Acme Holdings")
	s.AddCompany(2, "Globex")
	ann := s.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "Ann", LastName: "A", Email: "Ann@Acme.test", Department: "Sales"})
	bob := s.SeedContact(atsim.SeedContact{CompanyID: 1, FirstName: "Bob", LastName: "B", Email: "bob@acme.test", Email2: "ann@acme.test", ExternalID: "oid-bob"})
	s.SeedContact(atsim.SeedContact{CompanyID: 2, FirstName: "Cy", LastName: "C", Email: "ann@acme.test", Inactive: true})

	ids := func(a answer) []int {
		var out []int
		for _, it := range a.Body["items"].([]any) {
			out = append(out, int(it.(map[string]any)["id"].(float64)))
		}
		return out
	}
	tests := []struct {
		name   string
		entity string
		filter []any
		want   []int
	}{
		{"email in any case, or over the three addresses", "Contacts", []any{
			map[string]any{"op": "eq", "field": "companyID", "value": 1},
			map[string]any{"op": "or", "items": []any{
				map[string]any{"op": "eq", "field": "emailAddress", "value": "ANN@acme.test"},
				map[string]any{"op": "eq", "field": "emailAddress2", "value": "ANN@acme.test"},
			}},
		}, []int{ann, bob}},
		{"externalID", "Contacts", []any{map[string]any{"op": "eq", "field": "externalid", "value": "oid-bob"}}, []int{bob}},
		{"id", "Contacts", []any{map[string]any{"op": "eq", "field": "id", "value": ann}}, []int{ann}},
		{"and group", "Contacts", []any{map[string]any{"op": "and", "items": []any{
			map[string]any{"op": "eq", "field": "isActive", "value": true},
			map[string]any{"op": "eq", "field": "emailAddress", "value": "ann@acme.test"},
		}}}, []int{ann}},
		{"udf", "Contacts", []any{map[string]any{"op": "eq", "field": "department", "udf": true, "value": "sales"}}, []int{ann}},
		{"company name contains", "Companies", []any{map[string]any{"op": "contains", "field": "companyName", "value": "acme"}}, []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := call(t, s, http.MethodPost, api+tc.entity+"/query", map[string]any{"filter": tc.filter})
			require.Equal(t, http.StatusOK, a.Status, a.Raw)
			require.ElementsMatch(t, tc.want, ids(a))
		})
	}

	bad := []struct {
		name string
		body any
	}{
		{"unknown field", map[string]any{"filter": []any{map[string]any{"op": "eq", "field": "email", "value": "x"}}}},
		{"unknown operator", map[string]any{"filter": []any{map[string]any{"op": "like", "field": "emailAddress", "value": "x"}}}},
		{"no filter", map[string]any{"MaxRecords": 10}},
		{"MaxRecords above 500", map[string]any{"MaxRecords": 501, "filter": []any{map[string]any{"op": "eq", "field": "id", "value": 1}}}},
		{"unknown include field", map[string]any{"IncludeFields": []string{"nope"}, "filter": []any{map[string]any{"op": "eq", "field": "id", "value": 1}}}},
		{"unknown top-level key", map[string]any{"filters": []any{}}},
		{"or without items", map[string]any{"filter": []any{map[string]any{"op": "or"}}}},
		{"undefined udf", map[string]any{"filter": []any{map[string]any{"op": "eq", "field": "Shoe Size", "udf": true, "value": "9"}}}},
		{"not json", "{"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := call(t, s, http.MethodPost, api+"Contacts/query", tc.body)
			require.Equal(t, http.StatusBadRequest, a.Status, a.Raw)
			require.NotEmpty(t, a.errors())
		})
	}

	t.Run("id must be included when a result spans pages", func(t *testing.T) {
		t.Parallel()
		a := call(t, s, http.MethodPost, api+"Contacts/query", map[string]any{
			"MaxRecords": 1, "IncludeFields": []string{"firstName"},
			"filter": []any{map[string]any{"op": "gte", "field": "id", "value": 0}},
		})
		require.Equal(t, http.StatusBadRequest, a.Status, a.Raw)
	})
	t.Run("count", func(t *testing.T) {
		t.Parallel()
		a := call(t, s, http.MethodPost, api+"Contacts/query/count", companyFilter(1))
		require.Equal(t, http.StatusOK, a.Status, a.Raw)
		require.Equal(t, float64(2), a.Body["queryCount"])
	})
}

func TestGetByID(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)
	s.AddCompany(7, "Seven")
	id := s.SeedContact(atsim.SeedContact{CompanyID: 7, FirstName: "Ann", LastName: "A", Email: "ann@seven.test", Department: "Ops", Inactive: true})

	a := call(t, s, http.MethodGet, fmt.Sprintf("%sContacts/%d", api, id), nil)
	require.Equal(t, http.StatusOK, a.Status)
	item := a.Body["item"].(map[string]any)
	require.Equal(t, float64(0), item["isActive"], "isActive is an integer")
	require.Equal(t, "ann@seven.test", item["emailAddress"])
	require.Contains(t, item["userDefinedFields"], map[string]any{"name": atsim.DefaultDepartmentUDF, "value": "Ops"})
	require.Contains(t, item["userDefinedFields"], map[string]any{"name": atsim.DefaultContactTypeUDF, "value": nil})

	a = call(t, s, http.MethodGet, api+"Contacts/999", nil)
	require.Equal(t, http.StatusOK, a.Status, "Autotask answers an unknown id with item null")
	require.Contains(t, a.Body, "item")
	require.Nil(t, a.Body["item"])

	a = call(t, s, http.MethodGet, api+"companies/7", nil)
	require.Equal(t, http.StatusOK, a.Status, "routes are case-insensitive")
	require.Equal(t, true, a.Body["item"].(map[string]any)["isActive"], "companies use a boolean")

	a = call(t, s, http.MethodDelete, fmt.Sprintf("%sContacts/%d", api, id), nil)
	require.Equal(t, http.StatusMethodNotAllowed, a.Status)
	a = call(t, s, http.MethodGet, api+"Tickets/1", nil)
	require.Equal(t, http.StatusNotFound, a.Status)
}

func TestCreateAndPatchThroughTheCompanyChildURL(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t, atsim.WithContactUDF("M365 Object ID"))
	s.AddCompany(1, "One")
	s.AddCompany(2, "Two")
	other := s.SeedContact(atsim.SeedContact{CompanyID: 2, FirstName: "O", LastName: "T", Email: "o@two.test"})
	s.SeedContact(atsim.SeedContact{CompanyID: 2, FirstName: "P", LastName: "T", Email: "p@two.test"})

	a := call(t, s, http.MethodPost, api+"Companies/1/Contacts", map[string]any{
		"companyID": 1, "firstName": "Ann", "lastName": "Lee", "emailAddress": "ann@one.test",
		"title": "CFO", "isActive": 1, "externalID": "oid-1",
		"userDefinedFields": []any{map[string]any{"name": "department", "value": "Finance"}, map[string]any{"name": "M365 Object ID", "value": "oid-1"}},
	})
	require.Equal(t, http.StatusOK, a.Status, a.Raw)
	id := int(a.Body["itemId"].(float64))
	got, ok := s.Contact(id)
	require.True(t, ok)
	require.Equal(t, atsim.SeedContact{ID: id, CompanyID: 1, FirstName: "Ann", LastName: "Lee", Email: "ann@one.test",
		Title: "CFO", ExternalID: "oid-1", Department: "Finance", UDFs: map[string]string{"M365 Object ID": "oid-1"}}, got)

	a = call(t, s, http.MethodPatch, api+"Companies/1/Contacts", map[string]any{"id": id, "isActive": 0, "mobilePhone": "+1 555"})
	require.Equal(t, http.StatusOK, a.Status, a.Raw)
	got, _ = s.Contact(id)
	require.True(t, got.Inactive)
	require.Equal(t, "+1 555", got.MobilePhone)
	require.Equal(t, "Ann", got.FirstName, "fields not sent stay")

	failures := []struct {
		name, method, path string
		body               any
		status             int
		text               string
	}{
		{"duplicate email in the company", http.MethodPost, "Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B", "emailAddress": "ANN@one.test", "isActive": 1}, 500, "Duplicate email address"},
		{"duplicate email in other casing", http.MethodPost, "Companies/2/Contacts", map[string]any{"firstName": "A", "lastName": "B", "emailAddress": "O@TWO.test", "isActive": 1}, 500, "Duplicate email address"},
		{"duplicate email by update", http.MethodPatch, "Companies/2/Contacts", map[string]any{"id": other, "emailAddress": "p@two.test"}, 500, "Duplicate email address"},
		{"isActive as a boolean", http.MethodPost, "Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B", "isActive": true}, 500, "isActive must be an integer"},
		{"isActive missing", http.MethodPost, "Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B"}, 500, "isActive is required"},
		{"unknown field", http.MethodPost, "Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B", "isActive": 1, "email": "x@y.z"}, 500, "not a field"},
		{"first name too long", http.MethodPost, "Companies/1/Contacts", map[string]any{"firstName": strings.Repeat("a", 51), "lastName": "B", "isActive": 1}, 500, "maximum length"},
		{"last name required", http.MethodPost, "Companies/1/Contacts", map[string]any{"firstName": "A", "isActive": 1}, 500, "lastName is required"},
		{"undefined udf", http.MethodPost, "Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B", "isActive": 1, "userDefinedFields": []any{map[string]any{"name": "Shoe", "value": "9"}}}, 500, "does not exist"},
		{"companyID differs from the URL", http.MethodPost, "Companies/1/Contacts", map[string]any{"companyID": 2, "firstName": "A", "lastName": "B", "isActive": 1}, 500, "must match"},
		{"read-only field", http.MethodPatch, "Companies/1/Contacts", map[string]any{"id": id, "createDate": "2024-01-01T00:00:00Z"}, 500, "read-only"},
		{"missing company", http.MethodPost, "Companies/99/Contacts", map[string]any{"firstName": "A", "lastName": "B", "isActive": 1}, 404, "was not found"},
		{"patch without id", http.MethodPatch, "Companies/1/Contacts", map[string]any{"firstName": "X"}, 500, "id is required"},
		{"patch of a missing contact", http.MethodPatch, "Companies/1/Contacts", map[string]any{"id": 424242, "firstName": "X"}, 404, "was not found"},
		{"patch under another company", http.MethodPatch, "Companies/1/Contacts", map[string]any{"id": other, "firstName": "X"}, 500, "does not belong to company 1"},
		{"patch keeping its own email", http.MethodPatch, "Companies/2/Contacts", map[string]any{"id": other, "emailAddress": "O@two.test", "firstName": "O"}, 200, ""},
		{"body not an object", http.MethodPost, "Companies/1/Contacts", "[1]", 400, "JSON object"},
	}
	t.Run("refusals", func(t *testing.T) {
		for _, tc := range failures {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				a := call(t, s, tc.method, api+tc.path, tc.body)
				require.Equal(t, tc.status, a.Status, a.Raw)
				if tc.text != "" {
					require.Contains(t, strings.Join(a.errors(), " "), tc.text)
				}
			})
		}
	})
	got, _ = s.Contact(other)
	require.Equal(t, atsim.SeedContact{ID: other, CompanyID: 2, FirstName: "O", LastName: "T", Email: "O@two.test"}, got,
		"refused writes change nothing")
}

func TestThreadLimitRefusesTheFourthConcurrentRequest(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)
	s.AddCompany(1, "One")
	s.InjectFault(atsim.Fault{PathContains: "/Contacts/query", Latency: 300 * time.Millisecond})

	var wg sync.WaitGroup
	var refused, ok atomic.Int32
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := call(t, s, http.MethodPost, api+"Contacts/query", companyFilter(1))
			switch a.Status {
			case http.StatusOK:
				ok.Add(1)
			case http.StatusTooManyRequests:
				refused.Add(1)
				require.Equal(t, []string{atsim.ThreadLimitError}, a.errors())
			default:
				t.Errorf("unexpected %d %s", a.Status, a.Raw)
			}
		}()
	}
	// Other endpoints and the zone lookup have their own budget meanwhile.
	time.Sleep(100 * time.Millisecond)
	require.Equal(t, http.StatusOK, call(t, s, http.MethodGet, api+"Companies/1", nil).Status)
	require.Equal(t, http.StatusOK, call(t, s, http.MethodGet, "/atservicesrest/v1.0/zoneInformation?user="+atsim.DefaultUsername, nil).Status)
	wg.Wait()
	require.Equal(t, int32(3), ok.Load())
	require.Equal(t, int32(1), refused.Load())
	st := s.Stats()
	require.Equal(t, 1, st.ThreadLimited)
	require.Equal(t, 1, st.Throttled)

	// Once the three finish the endpoint accepts requests again.
	s.ClearFaults()
	require.Equal(t, http.StatusOK, call(t, s, http.MethodPost, api+"Contacts/query", companyFilter(1)).Status)
}

func TestHourlyThresholdWithAFakeClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	s := atsim.NewServer(t, atsim.WithHourlyLimit(8), atsim.WithClock(clock), atsim.WithLatencyScale(0.001))

	for i := range 8 {
		a := call(t, s, http.MethodGet, api+"ThresholdInformation", nil)
		require.Equal(t, http.StatusOK, a.Status)
		require.Equal(t, float64(i+1), a.Body["currentTimeframeRequestCount"], "the call counts itself")
		require.Equal(t, float64(8), a.Body["externalRequestThreshold"])
		require.Equal(t, float64(60), a.Body["requestThresholdTimeframe"])
		advance(time.Minute)
	}
	st := s.Stats()
	require.Equal(t, 8, st.QuotaUsed)
	require.Equal(t, 4, st.Delayed, "requests 5-8 ran past half of the threshold")

	a := call(t, s, http.MethodGet, api+"ThresholdInformation", nil)
	require.Equal(t, http.StatusTooManyRequests, a.Status)
	require.Equal(t, []string{atsim.QuotaExceededError}, a.errors())
	require.Empty(t, a.Header.Get("Retry-After"), "Autotask documents no Retry-After")

	advance(52 * time.Minute) // 10:00: the 09:00 request has left the rolling hour
	a = call(t, s, http.MethodGet, api+"ThresholdInformation", nil)
	require.Equal(t, http.StatusOK, a.Status, a.Raw)
	require.Equal(t, float64(8), a.Body["currentTimeframeRequestCount"])
	st = s.Stats()
	require.Equal(t, 1, st.Throttled)
	require.Equal(t, 0, st.ThreadLimited)

	s.ResetQuota()
	require.Equal(t, 0, s.Stats().QuotaUsed)
}

func TestFaults(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)
	s.AddCompany(1, "One")

	s.InjectFault(atsim.Fault{Method: "get", PathContains: "/companies/", Status: http.StatusTooManyRequests, RetryAfter: "7", Count: 2})
	for range 2 {
		a := call(t, s, http.MethodGet, api+"Companies/1", nil)
		require.Equal(t, http.StatusTooManyRequests, a.Status)
		require.Equal(t, "7", a.Header.Get("Retry-After"))
	}
	require.Equal(t, http.StatusOK, call(t, s, http.MethodGet, api+"Companies/1", nil).Status, "count used up")

	s.InjectFault(atsim.Fault{Status: http.StatusOK})
	a := call(t, s, http.MethodGet, api+"Companies/1", nil)
	require.Equal(t, http.StatusOK, a.Status)
	require.NotEmpty(t, a.errors(), "errors inside a 200")
	s.ClearFaults()

	s.InjectFault(atsim.Fault{Status: http.StatusInternalServerError})
	zone := call(t, s, http.MethodGet, "/atservicesrest/v1.0/zoneInformation?user="+atsim.DefaultUsername, nil)
	require.Equal(t, http.StatusOK, zone.Status, "a fault without a path leaves the zone host alone")
	a = call(t, s, http.MethodGet, api+"Companies/1", nil)
	require.Equal(t, http.StatusInternalServerError, a.Status)
	require.Empty(t, a.errors(), "a server failure page has no errors array")
	require.NotEmpty(t, a.Body["message"])
	s.ClearFaults()

	s.InjectFault(atsim.Fault{PathContains: "zoneInformation", Status: http.StatusServiceUnavailable, Body: `{"errors":["down"]}`, Count: 1})
	a = call(t, s, http.MethodGet, "/atservicesrest/v1.0/zoneInformation?user="+atsim.DefaultUsername, nil)
	require.Equal(t, http.StatusServiceUnavailable, a.Status)
	require.Equal(t, []string{"down"}, a.errors())
}

func TestControlEndpoints(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t)
	s.AddCompany(1, "One")

	a := call(t, s, http.MethodPost, "/_sim/faults", map[string]any{"method": "POST", "path_contains": "/Contacts", "status": 403, "count": 1, "latency_ms": 1})
	require.Equal(t, http.StatusNoContent, a.Status, a.Raw)
	a = call(t, s, http.MethodPost, api+"Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B", "isActive": 1})
	require.Equal(t, http.StatusForbidden, a.Status)
	require.Contains(t, a.errors()[0], "permission")
	require.Equal(t, http.StatusOK, call(t, s, http.MethodPost, api+"Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B", "isActive": 1}).Status)

	require.Equal(t, http.StatusBadRequest, call(t, s, http.MethodPost, "/_sim/faults", map[string]any{"status": 1000}).Status)
	require.Equal(t, http.StatusBadRequest, call(t, s, http.MethodPost, "/_sim/faults", map[string]any{"unknown": 1}).Status)
	require.Equal(t, http.StatusNoContent, call(t, s, http.MethodPost, "/_sim/faults", map[string]any{"status": 500}).Status)
	require.Equal(t, http.StatusNoContent, call(t, s, http.MethodDelete, "/_sim/faults", nil).Status)
	require.Equal(t, http.StatusOK, call(t, s, http.MethodGet, api+"Companies/1", nil).Status)

	a = call(t, s, http.MethodGet, "/_sim/stats", nil)
	require.Equal(t, http.StatusOK, a.Status)
	require.Equal(t, map[string]any{"reads": 1.0, "writes": 2.0, "requests": 3.0, "throttled": 0.0, "errors": 1.0,
		"thread_limited": 0.0, "quota_used": 3.0, "delayed": 0.0}, a.Body)
	require.Len(t, s.Requests(), 3, "control requests are not recorded")

	require.Equal(t, http.StatusNoContent, call(t, s, http.MethodDelete, "/_sim/stats", nil).Status)
	require.Equal(t, 0, s.Stats().Requests)
	require.Equal(t, http.StatusNotFound, call(t, s, http.MethodGet, "/_sim/nope", nil).Status)
}

func TestRecording(t *testing.T) {
	t.Parallel()
	s := atsim.NewServer(t, atsim.WithRecordLimit(2))
	s.AddCompany(1, "One")
	call(t, s, http.MethodGet, api+"Companies/1", nil)
	call(t, s, http.MethodPost, api+"Companies/1/Contacts", map[string]any{"firstName": "A", "lastName": "B", "isActive": 1})
	call(t, s, http.MethodGet, api+"ThresholdInformation?x=1", nil)

	recs := s.Requests()
	require.Len(t, recs, 2, "only the most recent are kept")
	require.Equal(t, http.MethodPost, recs[0].Method)
	require.Equal(t, "/ATServicesRest/V1.0/Companies/1/Contacts", recs[0].Path)
	require.JSONEq(t, `{"firstName":"A","lastName":"B","isActive":1}`, string(recs[0].Body))
	require.Contains(t, string(recs[0].ResponseBody), `"itemId":`)
	require.Equal(t, atsim.DefaultUsername, recs[0].Header.Get("UserName"))
	require.Equal(t, "x=1", recs[1].RawQuery)
	require.Equal(t, http.StatusOK, recs[1].Status)
	require.Contains(t, recs[1].ResponseHeader.Get("Content-Type"), "application/json")
	s.ClearRequests()
	require.Empty(t, s.Requests())
}

func TestStandaloneURLFromTheRequestHost(t *testing.T) {
	t.Parallel()
	s := atsim.New(atsim.WithCredentials("u@example.com", "pw", "CODE"), atsim.WithThreadLimit(0))
	req := httptest.NewRequest(http.MethodGet, "http://psasim.local:8080/atservicesrest/v1.0/zoneInformation?user=u@example.com", nil)
	rr := &captureWriter{header: http.Header{}}
	s.ServeHTTP(rr, req)
	require.Equal(t, http.StatusOK, rr.status)
	require.Contains(t, rr.body.String(), `"url":"http://psasim.local:8080/ATServicesRest/"`)
}

type captureWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *captureWriter) Header() http.Header { return c.header }
func (c *captureWriter) WriteHeader(s int)   { c.status = s }
func (c *captureWriter) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
