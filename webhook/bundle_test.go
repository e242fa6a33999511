package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"
)

// Test identities. Two subscriptions in two tenants, one with a clientState
// and one created without.
const (
	testToken   = "test-api-token-0123456789abcdef"
	tenantA     = "aaaaaaaa-1111-4111-8111-aaaaaaaaaaaa"
	tenantB     = "bbbbbbbb-2222-4222-8222-bbbbbbbbbbbb"
	subA        = "11111111-aaaa-4aaa-8aaa-111111111111"
	subB        = "22222222-bbbb-4bbb-8bbb-222222222222"
	secretA     = "s3cret-client-state-A-0f9e8d7c6b5a"
	userOne     = "8ffff70c-1c63-4860-b963-e34ec660931d"
	userTwo     = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
	monUser     = "ops"
	monPassword = "monitoring-password"
)

// fakeLookup is an in-memory SubscriptionLookup.
type fakeLookup struct {
	mu    sync.Mutex
	subs  map[string]Subscription
	err   error
	calls int
}

func (f *fakeLookup) LookupSubscription(_ context.Context, id string) (Subscription, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return Subscription{}, false, f.err
	}
	s, ok := f.subs[id]
	return s, ok, nil
}

func (f *fakeLookup) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeLookup) callCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeEnqueuer records every call.
type fakeEnqueuer struct {
	mu        sync.Mutex
	users     [][]UserChange
	lifecycle [][]LifecycleEvent
	err       error
}

func (f *fakeEnqueuer) EnqueueUserChanges(_ context.Context, changes []UserChange) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.users = append(f.users, append([]UserChange(nil), changes...))
	return nil
}

func (f *fakeEnqueuer) EnqueueLifecycle(_ context.Context, events []LifecycleEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.lifecycle = append(f.lifecycle, append([]LifecycleEvent(nil), events...))
	return nil
}

func (f *fakeEnqueuer) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

func (f *fakeEnqueuer) userCalls() [][]UserChange {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]UserChange(nil), f.users...)
}

func (f *fakeEnqueuer) lifecycleCalls() [][]LifecycleEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]LifecycleEvent(nil), f.lifecycle...)
}

// fakeRuns is an in-memory Runs.
type fakeRuns struct {
	mu        sync.Mutex
	started   []SyncRequest
	records   map[string]json.RawMessage
	list      json.RawMessage
	startErr  error
	readErr   error
	lastLimit int
}

func (f *fakeRuns) StartRun(_ context.Context, req SyncRequest) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.startErr != nil {
		return "", f.startErr
	}
	f.started = append(f.started, req)
	return "run-" + string(rune('0'+len(f.started))), nil
}

func (f *fakeRuns) GetRun(_ context.Context, id string) (json.RawMessage, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.readErr != nil {
		return nil, false, f.readErr
	}
	r, ok := f.records[id]
	return r, ok, nil
}

func (f *fakeRuns) ListRuns(_ context.Context, limit int) (json.RawMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastLimit = limit
	if f.readErr != nil {
		return nil, f.readErr
	}
	return f.list, nil
}

func (f *fakeRuns) startedRequests() []SyncRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]SyncRequest(nil), f.started...)
}

// testBundle is one server with its fakes behind a real HTTP listener.
type testBundle struct {
	srv     *Server
	ts      *httptest.Server
	lookup  *fakeLookup
	enq     *fakeEnqueuer
	runs    *fakeRuns
	reg     *prometheus.Registry
	logHook *logtest.Hook
}

// setup builds a fresh bundle; opts adjust the Config before New.
func setup(t *testing.T, opts ...func(*Config)) *testBundle {
	t.Helper()
	b := &testBundle{
		lookup: &fakeLookup{subs: map[string]Subscription{
			subA: {ID: subA, TenantID: tenantA, ClientState: secretA},
			subB: {ID: subB, TenantID: tenantB, ClientState: ""},
		}},
		enq:  &fakeEnqueuer{},
		runs: &fakeRuns{records: map[string]json.RawMessage{}},
		reg:  prometheus.NewRegistry(),
	}
	logger, hook := logtest.NewNullLogger()
	logger.SetLevel(logrus.DebugLevel)
	b.logHook = hook
	cfg := Config{
		Lookup:     b.lookup,
		Enqueuer:   b.enq,
		Runs:       b.runs,
		APIToken:   testToken,
		Registerer: b.reg,
		Metrics:    b.reg,
		Logger:     logger,
	}
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := New(cfg)
	require.NoError(t, err)
	b.srv = srv
	b.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(b.ts.Close)
	return b
}

// do sends a request and returns the response with its body read.
func (b *testBundle) do(t *testing.T, method, path, contentType string, body io.Reader, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, b.ts.URL+path, body)
	require.NoError(t, err)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	resp, err := b.ts.Client().Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, data
}

// postJSON posts body as application/json.
func (b *testBundle) postJSON(t *testing.T, path, body string) (*http.Response, []byte) {
	t.Helper()
	return b.do(t, http.MethodPost, path, "application/json", strings.NewReader(body), nil)
}

// accepted reads psasync_webhook_notifications_accepted_total.
func (b *testBundle) accepted(e endpoint) float64 {
	return testutil.ToFloat64(b.srv.metrics.accepted[e])
}

// rejected reads psasync_webhook_notifications_rejected_total.
func (b *testBundle) rejected(e endpoint, r rejectReason) float64 {
	return testutil.ToFloat64(b.srv.metrics.rejected[e][r])
}

// requireErrorEnvelope checks the one error shape and returns its body.
func requireErrorEnvelope(t *testing.T, data []byte, code string) errorBody {
	t.Helper()
	var env errorEnvelope
	require.NoError(t, json.Unmarshal(data, &env), "body: %s", data)
	require.Equal(t, code, env.Error.Code, "body: %s", data)
	require.NotEmpty(t, env.Error.Message)
	return env.Error
}

// fixture reads a Graph payload from testdata/graph (copies of the shared
// fixtures, verbatim) and fills its placeholders.
func fixture(t testing.TB, name string, fill map[string]string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "graph", name))
	require.NoError(t, err)
	pairs := make([]string, 0, 2*len(fill))
	for k, v := range fill {
		pairs = append(pairs, k, v)
	}
	return strings.NewReplacer(pairs...).Replace(string(data))
}

// errRedisDown stands for a store or queue that cannot answer.
var errRedisDown = errors.New("dial tcp 10.0.0.7:6379: connect: connection refused")

// testutilValue reads a single counter.
func testutilValue(c prometheus.Collector) float64 { return testutil.ToFloat64(c) }
