package webhook

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// fakeOperator records the actions it is asked for and answers with err.
type fakeOperator struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeOperator) did(call string) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	if f.err != nil {
		return nil, f.err
	}
	return json.RawMessage(`{"ok":true}`), nil
}

func (f *fakeOperator) ResolveConflict(_ context.Context, tenant, user, contact, actor string) (json.RawMessage, error) {
	return f.did("resolve " + tenant + " " + user + " " + contact + " by " + actor)
}
func (f *fakeOperator) IgnoreConflict(_ context.Context, tenant, user, actor string) (json.RawMessage, error) {
	return f.did("ignore " + tenant + " " + user + " by " + actor)
}
func (f *fakeOperator) ApproveHeld(_ context.Context, batch string, ids []string, actor string) (json.RawMessage, error) {
	return f.did("approve " + batch + " [" + strings.Join(ids, ",") + "] by " + actor)
}
func (f *fakeOperator) RejectHeld(_ context.Context, batch string, ids []string, actor string) (json.RawMessage, error) {
	return f.did("reject " + batch + " [" + strings.Join(ids, ",") + "] by " + actor)
}
func (f *fakeOperator) ReleaseUser(_ context.Context, tenant, user, actor string) (json.RawMessage, error) {
	return f.did("release " + tenant + " " + user + " by " + actor)
}
func (f *fakeOperator) ReleaseTenant(_ context.Context, tenant, actor string) (json.RawMessage, error) {
	return f.did("release " + tenant + " by " + actor)
}
func (f *fakeOperator) SyncUser(_ context.Context, tenant, user string, dryRun bool, actor string) (json.RawMessage, error) {
	if dryRun {
		return f.did("dry-sync " + tenant + " " + user + " by " + actor)
	}
	return f.did("sync " + tenant + " " + user + " by " + actor)
}

// TestOperatorRoutes: each action reaches the Operator with what the path
// and body name and who acted; bad bodies are 400 naming the field, the
// Operator's refusals keep their status and words, and the read-only token
// acts on nothing.
func TestOperatorRoutes(t *testing.T) {
	t.Parallel()
	op := &fakeOperator{}
	b := setup(t, func(c *Config) { c.Operator = op; c.ReadToken = testReadToken })
	auth := func(h http.Header) http.Header {
		out := bearer(testToken)
		for k, v := range h {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		path, body string
		header     http.Header
		status     int
		call       string
	}{
		{"/api/v1/conflicts/contoso/u1/resolve", `{"contact_id":"42"}`, http.Header{ActorHeader: {"alice"}}, 200, "resolve contoso u1 42 by api token (alice)"},
		{"/api/v1/conflicts/contoso/u1/resolve", `{}`, nil, 400, ""},
		{"/api/v1/conflicts/contoso/u1/resolve", `{"contactid":"42"}`, nil, 400, ""},
		{"/api/v1/conflicts/contoso/u1/ignore", ``, nil, 200, "ignore contoso u1 by api token"},
		{"/api/v1/held/b1/approve", `{"contact_ids":["7","8"]}`, nil, 200, "approve b1 [7,8] by api token"},
		{"/api/v1/held/b1/reject", ``, nil, 200, "reject b1 [] by api token"},
		{"/api/v1/quarantine/contoso/release", ``, nil, 200, "release contoso by api token"},
		{"/api/v1/quarantine/contoso/users/u1/release", ``, nil, 200, "release contoso u1 by api token"},
		{"/api/v1/tenants/contoso/users/alice@contoso.example/sync", `{"dry_run":true}`, nil, 200, "dry-sync contoso alice@contoso.example by api token"},
		{"/api/v1/tenants/contoso/users/u1/sync", `{"dry_run":"yes"}`, nil, 400, ""},
	}
	for _, tc := range tests {
		before := len(op.calls)
		h := http.Header{}
		if tc.body != "" {
			h.Set("Content-Type", "application/json")
		}
		for k, v := range tc.header {
			h[k] = v
		}
		resp, body := b.do(t, http.MethodPost, tc.path, h.Get("Content-Type"), strings.NewReader(tc.body), auth(h))
		require.Equal(t, tc.status, resp.StatusCode, "%s %s: %s", tc.path, tc.body, body)
		if tc.call == "" {
			require.Len(t, op.calls, before, "%s: nothing done", tc.path)
			continue
		}
		require.Equal(t, tc.call, op.calls[len(op.calls)-1])
	}

	resp, body := b.do(t, http.MethodPost, "/api/v1/held/b1/approve", "", nil, bearer(testReadToken))
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "the read-only token cannot act: %s", body)

	for _, tc := range []struct {
		err    error
		status int
		code   string
	}{
		{NotFound("conflict of user u1 in tenant contoso: not found"), http.StatusNotFound, codeNotFound},
		{Conflict("held batch b1 is no longer pending: stale batch"), http.StatusConflict, codeConflict},
		{BadRequest("contact 9 for user u1: not a candidate"), http.StatusBadRequest, codeInvalidRequest},
	} {
		op.err = tc.err
		resp, body := b.do(t, http.MethodPost, "/api/v1/conflicts/contoso/u1/ignore", "", nil, bearer(testToken))
		require.Equal(t, tc.status, resp.StatusCode)
		requireErrorEnvelope(t, body, tc.code)
		require.Contains(t, string(body), tc.err.Error(), "the refusal's words reach the caller")
	}
}
