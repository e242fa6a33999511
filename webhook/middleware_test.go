package webhook

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
)

func TestRequestID(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, _ := b.do(t, http.MethodGet, "/healthz", "", nil, http.Header{requestIDHeader: {"proxy-id_1.2"}})
	require.Equal(t, "proxy-id_1.2", resp.Header.Get(requestIDHeader), "a well-formed id is kept")

	resp, _ = b.do(t, http.MethodGet, "/healthz", "", nil, http.Header{requestIDHeader: {"bad id\" level=error"}})
	made := resp.Header.Get(requestIDHeader)
	require.True(t, strings.HasPrefix(made, b.srv.idPrefix+"-"), "a malformed id is replaced: %q", made)

	resp, _ = b.do(t, http.MethodGet, "/healthz", "", nil, nil)
	require.NotEqual(t, made, resp.Header.Get(requestIDHeader), "ids are unique")
}

func TestPanicRecovery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.engine.GET("/test-panic", func(*gin.Context) { panic("boom") })
	resp, body := b.do(t, http.MethodGet, "/test-panic", "", nil, nil)
	require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	requireErrorEnvelope(t, body, codeInternal)

	var found bool
	for _, e := range b.logHook.AllEntries() {
		if e.Level == logrus.ErrorLevel && strings.Contains(e.Message, "boom") {
			found = true
			require.Contains(t, e.Data["stack"], "TestPanicRecovery")
		}
	}
	require.True(t, found, "the panic is logged")

	resp, _ = b.do(t, http.MethodGet, "/healthz", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "the server keeps serving")
}

// TestLogsHoldNoSecrets drives every route that sees a secret at debug
// level and checks no log entry carries one.
func TestLogsHoldNoSecrets(t *testing.T) {
	t.Parallel()
	const handshakeToken = "handshake-token-value-7f3a"
	b := setup(t, func(c *Config) {
		c.Monitoring = monitoringProbe()
		c.MonitoringBasicAuth = &BasicAuth{User: monUser, Password: monPassword}
	})
	b.do(t, http.MethodPost, "/webhook/graph?validationToken="+url.QueryEscape(handshakeToken), "", nil, nil)
	b.postJSON(t, "/webhook/graph", collection(t, item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne)))
	b.postJSON(t, "/webhook/graph", collection(t, item(subA, tenantA, ptr(secretA+"x"), "updated", "Users/"+userOne)))
	b.enq.setErr(errRedisDown)
	b.postJSON(t, "/webhook/graph", collection(t, item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne)))
	b.do(t, http.MethodGet, "/api/v1/runs", "", nil, bearer(testToken+"x"))
	b.do(t, http.MethodGet, "/api/v1/runs", "", nil, bearer(testToken))
	b.do(t, http.MethodGet, "/monitoring/", "", nil, basic(monUser, monPassword+"x"))

	entries := b.logHook.AllEntries()
	require.NotEmpty(t, entries)
	var sawEnqueueFailure bool
	for _, e := range entries {
		line, err := e.String()
		require.NoError(t, err)
		for _, secret := range []string{secretA, testToken, monPassword, handshakeToken} {
			require.NotContains(t, line, secret)
		}
		if strings.Contains(line, "connection refused") {
			sawEnqueueFailure = true
			require.Equal(t, logrus.WarnLevel, e.Level)
		}
	}
	require.True(t, sawEnqueueFailure, "the wrapped cause of a 503 is logged")
}
