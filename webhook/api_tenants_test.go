package webhook

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeTenants records the onboarding calls and answers with err when set.
type fakeTenants struct {
	mu      sync.Mutex
	calls   []string
	accepts []AcceptTenantRequest
	err     error
}

func (f *fakeTenants) record(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}

func (f *fakeTenants) ListTenants(_ context.Context, status string) (any, error) {
	return map[string]any{"tenants": []string{}, "status": status}, f.record("list " + status)
}

func (f *fakeTenants) DiscoverTenants(_ context.Context, dry bool) (any, error) {
	if dry {
		return map[string]any{"dry": true}, f.record("discover dry")
	}
	return map[string]any{"dry": false}, f.record("discover")
}

func (f *fakeTenants) AcceptTenant(_ context.Context, tenant string, req AcceptTenantRequest) (any, error) {
	f.mu.Lock()
	f.accepts = append(f.accepts, req)
	f.mu.Unlock()
	return map[string]any{"tenant_id": tenant, "status": "accepted"}, f.record("accept " + tenant)
}

func (f *fakeTenants) RejectTenant(_ context.Context, tenant, reason string) (any, error) {
	return map[string]any{"tenant_id": tenant}, f.record("reject " + tenant + " " + reason)
}

func (f *fakeTenants) ExportTenants(_ context.Context, format string) (string, []byte, error) {
	return "text/csv", []byte("tenant_id\n"), f.record("export " + format)
}

func (f *fakeTenants) recorded() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.calls...)
}

func setupTenants(t *testing.T, err error) (*testBundle, *fakeTenants) {
	t.Helper()
	ft := &fakeTenants{err: err}
	return setup(t, func(c *Config) { c.Tenants = ft }), ft
}

func TestTenantsAPIRoutes(t *testing.T) {
	t.Parallel()
	b, ft := setupTenants(t, nil)
	for _, tc := range []struct {
		method, path, body string
		want               string
	}{
		{http.MethodGet, "/api/v1/tenants/discovered?status=needs_review", "", "list needs_review"},
		{http.MethodPost, "/api/v1/tenants/discover", "", "discover"},
		{http.MethodPost, "/api/v1/tenants/discover?dry_run=true", "", "discover dry"},
		{http.MethodPost, "/api/v1/tenants/" + tenantA + "/accept", `{"company_id":"12","write_back":true}`, "accept " + tenantA},
		{http.MethodPost, "/api/v1/tenants/" + tenantA + "/accept", "", "accept " + tenantA},
		{http.MethodPost, "/api/v1/tenants/" + tenantB + "/reject", `{"reason":"not ours"}`, "reject " + tenantB + " not ours"},
		{http.MethodGet, "/api/v1/tenants/export?format=csv", "", "export csv"},
	} {
		ct := ""
		if tc.body != "" {
			ct = "application/json"
		}
		resp, body := b.do(t, tc.method, tc.path, ct, strings.NewReader(tc.body), bearer(testToken))
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", tc.method, tc.path, body)
		calls := ft.recorded()
		require.Equal(t, tc.want, calls[len(calls)-1])
	}
	require.Equal(t, []AcceptTenantRequest{{CompanyID: "12", WriteBack: true}, {}}, ft.accepts)
}

func TestTenantsAPIBadRequests(t *testing.T) {
	t.Parallel()
	b, ft := setupTenants(t, nil)
	for _, tc := range []struct {
		method, path, body string
		msg                string
	}{
		{http.MethodPost, "/api/v1/tenants/" + tenantA + "/accept", `{"company":"12"}`, `unknown field "company" (want company_id, write_back)`},
		{http.MethodPost, "/api/v1/tenants/" + tenantA + "/accept", `{"write_back":"yes"}`, `field "write_back" must be bool, got string`},
		{http.MethodPost, "/api/v1/tenants/" + tenantA + "/accept", `[1]`, "request body must be a JSON object"},
		{http.MethodPost, "/api/v1/tenants/" + tenantA + "/accept", `{} {}`, "unexpected data after the JSON object"},
		{http.MethodPost, "/api/v1/tenants/" + strings.Repeat("x", 80) + "/accept", "", "is not a tenant id"},
		{http.MethodPost, "/api/v1/tenants/discover?dry_run=maybe", "", `query parameter "dry_run" must be true or false`},
		{http.MethodGet, "/api/v1/tenants/export?format=xml", "", `query parameter "format" must be json, csv or yaml`},
	} {
		ct := ""
		if tc.body != "" {
			ct = "application/json"
		}
		resp, body := b.do(t, tc.method, tc.path, ct, strings.NewReader(tc.body), bearer(testToken))
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s: %s", tc.path, body)
		require.Contains(t, requireErrorEnvelope(t, body, codeInvalidRequest).Message, tc.msg)
	}
	require.Empty(t, ft.recorded(), "refused before reaching Tenants")

	resp, body := b.do(t, http.MethodPost, "/api/v1/tenants/discover", "", nil, nil)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, string(body))
}

func TestTenantsAPIRefusals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err    error
		status int
		code   string
		msg    string
	}{
		{Conflict("tenant %s is already accepted", tenantA), http.StatusConflict, codeConflict, "is already accepted"},
		{NotFound("tenant %s is not a discovered tenant", tenantA), http.StatusNotFound, codeNotFound, "not a discovered tenant"},
		{BadRequest(`company "9" is not an active PSA company`), http.StatusBadRequest, codeInvalidRequest, `company "9"`},
		{errors.New("redis: connection refused at 10.0.0.7"), http.StatusInternalServerError, codeInternal, "internal error"},
	} {
		b, _ := setupTenants(t, tc.err)
		resp, body := b.do(t, http.MethodPost, "/api/v1/tenants/"+tenantA+"/accept", "", nil, bearer(testToken))
		require.Equal(t, tc.status, resp.StatusCode, string(body))
		got := requireErrorEnvelope(t, body, tc.code)
		require.Contains(t, got.Message, tc.msg)
		require.NotContains(t, got.Message, "10.0.0.7", "internal details stay in the logs")
	}
}

func TestTenantsAPIUnmounted(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, _ := b.do(t, http.MethodGet, "/api/v1/tenants/discovered", "", nil, bearer(testToken))
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}
