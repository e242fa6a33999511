package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func bearer(tok string) http.Header {
	return http.Header{"Authorization": {"Bearer " + tok}}
}

func TestAPIAuth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header http.Header
		status int
	}{
		{"no header", nil, http.StatusUnauthorized},
		{"wrong token", bearer("wrong-token-0123456789abcdef"), http.StatusUnauthorized},
		{"token prefix", bearer(testToken[:len(testToken)-1]), http.StatusUnauthorized},
		{"token plus suffix", bearer(testToken + "x"), http.StatusUnauthorized},
		{"basic scheme", http.Header{"Authorization": {"Basic " + testToken}}, http.StatusUnauthorized},
		{"empty bearer", http.Header{"Authorization": {"Bearer "}}, http.StatusUnauthorized},
		{"token without scheme", http.Header{"Authorization": {testToken}}, http.StatusUnauthorized},
		{"good", bearer(testToken), http.StatusOK},
		{"scheme case-insensitive", http.Header{"Authorization": {"bearer " + testToken}}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.runs.list = json.RawMessage(`[]`)
			resp, body := b.do(t, http.MethodGet, "/api/v1/runs", "", nil, tt.header)
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			if tt.status == http.StatusUnauthorized {
				requireErrorEnvelope(t, body, codeUnauthorized)
				require.Equal(t, bearerChallenge, resp.Header.Get("WWW-Authenticate"))
				require.Zero(t, b.runs.lastLimit, "Runs is not reached")
			}
		})
	}
}

func TestAPIDisabled(t *testing.T) {
	t.Parallel()
	t.Run("no token", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.APIToken = "" })
		for _, h := range []http.Header{nil, bearer(""), bearer("anything-at-all-123456")} {
			resp, body := b.do(t, http.MethodPost, "/api/v1/sync", "application/json", strings.NewReader(`{}`), h)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
			requireErrorEnvelope(t, body, codeNotFound)
		}
		require.Empty(t, b.runs.startedRequests())
	})
	t.Run("no Runs", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.Runs = nil })
		resp, _ := b.do(t, http.MethodGet, "/api/v1/runs", "", nil, bearer(testToken))
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}

func TestStartSync(t *testing.T) {
	t.Parallel()
	// Absent and null values stay absent: the workflow's defaults are the
	// Runs implementation's to apply (worker.DefaultRunInputs).
	defaults := SyncRequest{}
	yes, no := true, false
	tests := []struct {
		name string
		body string
		want SyncRequest
	}{
		{"empty body", "", defaults},
		{"empty object", "{}", defaults},
		{"nulls keep defaults", `{"sync_mode":null,"dry_run":null,"skip_disabled_users":null,"company_id":null}`, defaults},
		{"company_id as number", `{"company_id": 250}`, withCompany(defaults, "250")},
		{"company_id as string", `{"company_id": "250"}`, withCompany(defaults, "250")},
		{"company_id as identifier", `{"company_id": " ACME "}`, withCompany(defaults, "ACME")},
		{"everything", `{
			"tenant": "contoso", "sync_mode": "full", "company_id": 19297,
			"department_filter": ["Sales","IT"], "office_location_filter": ["Oslo"],
			"user_principal_names": ["a@contoso.com"],
			"skip_disabled_users": false, "update_existing": false, "dry_run": true}`,
			SyncRequest{
				Tenant: "contoso", SyncMode: "full", CompanyID: "19297",
				DepartmentFilter: []string{"Sales", "IT"}, OfficeLocationFilter: []string{"Oslo"},
				UserPrincipalNames: []string{"a@contoso.com"},
				SkipDisabledUsers:  &no, UpdateExisting: &no, DryRun: &yes,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			ct := "application/json"
			if tt.body == "" {
				ct = ""
			}
			resp, body := b.do(t, http.MethodPost, "/api/v1/sync", ct, strings.NewReader(tt.body), bearer(testToken))
			require.Equal(t, http.StatusAccepted, resp.StatusCode, "body: %s", body)
			require.JSONEq(t, `{"run_id":"run-1"}`, string(body))
			require.Equal(t, "/api/v1/runs/run-1", resp.Header.Get("Location"))
			require.Equal(t, []SyncRequest{tt.want}, b.runs.startedRequests())
		})
	}
}

func withCompany(r SyncRequest, id string) SyncRequest {
	r.CompanyID = id
	return r
}

func TestStartSyncBadRequests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, message string
	}{
		{"unknown field", `{"dryrun": true}`, `unknown field "dryrun"`},
		{"field names are exact", `{"Dry_Run": true}`, `unknown field "Dry_Run"`},
		{"long unknown field is clipped", `{"` + strings.Repeat("x", 200) + `": 1}`, `unknown field "` + strings.Repeat("x", maxFieldNameEcho) + `…"`},
		{"bool as string", `{"dry_run": "yes"}`, `field "dry_run" must be a boolean, got string`},
		{"bool as number", `{"update_existing": 1}`, `field "update_existing" must be a boolean, got number`},
		{"filter as string", `{"department_filter": "Sales"}`, `field "department_filter" must be an array of strings, got string`},
		{"filter with number", `{"office_location_filter": ["Oslo", 5]}`, `field "office_location_filter" must be an array of strings, got number`},
		{"filter with blank", `{"user_principal_names": ["a@b.c", " "]}`, `field "user_principal_names" must not contain empty strings`},
		{"tenant as object", `{"tenant": {}}`, `field "tenant" must be a string, got object`},
		{"sync_mode not a string", `{"sync_mode": 1}`, `field "sync_mode" must be a string, got number`},
		{"company_id float", `{"company_id": 12.5}`, `field "company_id" must be a positive integer or a string`},
		{"company_id negative", `{"company_id": -3}`, `field "company_id" must be a positive integer or a string`},
		{"company_id zero", `{"company_id": 0}`, `field "company_id" must be a positive integer or a string`},
		{"company_id bool", `{"company_id": true}`, `field "company_id" must be a positive integer or a string`},
		{"company_id too long", `{"company_id": "` + strings.Repeat("9", 65) + `"}`, `field "company_id" must be at most 64 printable characters`},
		{"company_id control char", `{"company_id": "a\u0000b"}`, `field "company_id" must be at most 64 printable characters`},
		{"not an object", `[1,2]`, `request body must be a JSON object`},
		{"null body", `null`, `request body must be a JSON object`},
		{"broken JSON", `{"dry_run": tru}`, `request body is not valid JSON (at byte 16)`},
		{"truncated JSON", `{"dry_run": true`, `request body is not valid JSON`},
		{"two objects", `{} {}`, `unexpected data after the JSON object`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			resp, body := b.do(t, http.MethodPost, "/api/v1/sync", "application/json", strings.NewReader(tt.body), bearer(testToken))
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "body: %s", body)
			env := requireErrorEnvelope(t, body, codeInvalidRequest)
			require.Equal(t, tt.message, env.Message)
			require.Empty(t, b.runs.startedRequests())
		})
	}
}

func TestStartSyncContentType(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.MaxBodyBytes = 32 })
	resp, _ := b.do(t, http.MethodPost, "/api/v1/sync", "text/plain", strings.NewReader(`{}`), bearer(testToken))
	require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
	resp, _ = b.do(t, http.MethodPost, "/api/v1/sync", "application/json", strings.NewReader(`{"tenant":"`+strings.Repeat("a", 40)+`"}`), bearer(testToken))
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Empty(t, b.runs.startedRequests())
}

func TestStartSyncRunsErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"RequestError", fmt.Errorf("runs: start: %w", BadRequest("unknown tenant %q", "fabrikam")), http.StatusBadRequest, codeInvalidRequest, `unknown tenant "fabrikam"`},
		{"wrapped ErrBadRequest", fmt.Errorf("unknown tenant %q: %w", "fabrikam", ErrBadRequest), http.StatusBadRequest, codeInvalidRequest, `unknown tenant "fabrikam": bad request`},
		{"other error", fmt.Errorf("runs: enqueue: %w", errRedisDown), http.StatusInternalServerError, codeInternal, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.runs.startErr = tt.err
			resp, body := b.do(t, http.MethodPost, "/api/v1/sync", "application/json", strings.NewReader(`{"tenant":"fabrikam"}`), bearer(testToken))
			require.Equal(t, tt.status, resp.StatusCode)
			env := requireErrorEnvelope(t, body, tt.code)
			require.Equal(t, tt.message, env.Message)
		})
	}
}

func TestGetRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	record := `{"run_id":"r1","state":"done","report":{"success":true,"sync_mode":"full","statistics":{"total_office365_users":3}}}`
	b.runs.records["r1"] = json.RawMessage(record)
	b.runs.records["broken"] = json.RawMessage(`{"state":`)

	resp, body := b.do(t, http.MethodGet, "/api/v1/runs/r1", "", nil, bearer(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, record, string(body), "the record passes through byte for byte")

	resp, body = b.do(t, http.MethodGet, "/api/v1/runs/nope", "", nil, bearer(testToken))
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	requireErrorEnvelope(t, body, codeNotFound)

	resp, _ = b.do(t, http.MethodGet, "/api/v1/runs/"+strings.Repeat("a", maxRunIDLength+1), "", nil, bearer(testToken))
	require.Equal(t, http.StatusNotFound, resp.StatusCode)

	resp, body = b.do(t, http.MethodGet, "/api/v1/runs/broken", "", nil, bearer(testToken))
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	requireErrorEnvelope(t, body, codeInternal)

	resp, _ = b.do(t, http.MethodGet, "/api/v1/runs/r1", "", nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestListRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		query     string
		status    int
		wantLimit int
	}{
		{"", http.StatusOK, defaultRunsLimit},
		{"?limit=5", http.StatusOK, 5},
		{"?limit=1000", http.StatusOK, maxRunsLimit},
		{"?limit=0", http.StatusBadRequest, 0},
		{"?limit=-1", http.StatusBadRequest, 0},
		{"?limit=ten", http.StatusBadRequest, 0},
		{"?limit=", http.StatusBadRequest, 0},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.runs.list = json.RawMessage(`[{"run_id":"r2"},{"run_id":"r1"}]`)
			resp, body := b.do(t, http.MethodGet, "/api/v1/runs"+tt.query, "", nil, bearer(testToken))
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			require.Equal(t, tt.wantLimit, b.runs.lastLimit)
			if tt.status == http.StatusOK {
				require.Equal(t, `[{"run_id":"r2"},{"run_id":"r1"}]`, string(body))
			} else {
				env := requireErrorEnvelope(t, body, codeInvalidRequest)
				require.Contains(t, env.Message, `"limit"`)
			}
		})
	}
}

func TestRunsReadError(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.runs.readErr = errors.New("redis: connection pool timeout")
	for _, path := range []string{"/api/v1/runs", "/api/v1/runs/r1"} {
		resp, body := b.do(t, http.MethodGet, path, "", nil, bearer(testToken))
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
		env := requireErrorEnvelope(t, body, codeInternal)
		require.NotContains(t, env.Message, "redis")
	}
}
