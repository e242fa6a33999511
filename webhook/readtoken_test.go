package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const testReadToken = "read-only-token-0123456789"

// TestReadTokenReadsButCannotAct: the read-only token lists runs and opens
// the monitoring UI, and is refused (403, nothing started) for a POST.
func TestReadTokenReadsButCannotAct(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.ReadToken = testReadToken; c.Monitoring = monitoringProbe() })
	b.runs.list = json.RawMessage(`[]`)
	resp, body := b.do(t, http.MethodGet, "/api/v1/runs", "", nil, bearer(testReadToken))
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)

	resp, body = b.do(t, http.MethodPost, "/api/v1/sync", "application/json", strings.NewReader(`{}`), bearer(testReadToken))
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "body: %s", body)
	requireErrorEnvelope(t, body, codeForbidden)
	require.Empty(t, b.runs.startedRequests(), "no run started")

	resp, _ = b.do(t, http.MethodGet, "/monitoring/", "", nil, basic("anyone", testReadToken))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = b.do(t, http.MethodPost, "/monitoring/api/queues/default:pause", "", nil, bearer(testReadToken))
	require.Equal(t, http.StatusForbidden, resp.StatusCode, "a read-only credential cannot change queues")
}

// TestSessionOpensMonitoring: a console session opens the queues UI, a
// read-only one for GET only.
func TestSessionOpensMonitoring(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Monitoring = monitoringProbe()
		c.Session = func(r *http.Request) (bool, bool) {
			ck, err := r.Cookie("s")
			if err != nil {
				return false, false
			}
			return ck.Value == "admin" || ck.Value == "reader", ck.Value == "reader"
		}
	})
	cookie := func(v string) http.Header { return http.Header{"Cookie": {"s=" + v}} }
	resp, _ := b.do(t, http.MethodGet, "/monitoring/", "", nil, cookie("admin"))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = b.do(t, http.MethodGet, "/monitoring/", "", nil, cookie("forged"))
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	resp, _ = b.do(t, http.MethodPost, "/monitoring/api/x", "", nil, cookie("reader"))
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestReadTokenConfig(t *testing.T) {
	t.Parallel()
	_, err := New(Config{Lookup: &fakeLookup{}, Enqueuer: &fakeEnqueuer{}, APIToken: testToken, ReadToken: testToken})
	require.ErrorContains(t, err, "ReadToken must differ from APIToken")
	_, err = New(Config{Lookup: &fakeLookup{}, Enqueuer: &fakeEnqueuer{}, APIToken: testToken, ReadToken: "short"})
	require.ErrorContains(t, err, "ReadToken must be at least")
}
