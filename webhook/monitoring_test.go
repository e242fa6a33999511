package webhook

import (
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// monitoringProbe stands for asynqmon: it echoes the path it was given.
func monitoringProbe() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write([]byte(r.Method + " " + r.URL.Path))
	})
}

func basic(user, pass string) http.Header {
	r, _ := http.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth(user, pass)
	return r.Header
}

func TestMonitoringAuth(t *testing.T) {
	t.Parallel()
	withBasic := func(c *Config) {
		c.Monitoring = monitoringProbe()
		c.MonitoringBasicAuth = &BasicAuth{User: monUser, Password: monPassword}
	}
	tokenOnly := func(c *Config) { c.Monitoring = monitoringProbe() }
	basicOnly := func(c *Config) { withBasic(c); c.APIToken = "" }
	tests := []struct {
		name   string
		cfg    func(*Config)
		header http.Header
		status int
	}{
		{"no credentials", withBasic, nil, http.StatusUnauthorized},
		{"bearer token", withBasic, bearer(testToken), http.StatusOK},
		{"wrong bearer", withBasic, bearer("nope-nope-nope-nope"), http.StatusUnauthorized},
		{"basic pair", withBasic, basic(monUser, monPassword), http.StatusOK},
		{"basic wrong password", withBasic, basic(monUser, "wrong"), http.StatusUnauthorized},
		{"basic wrong user", withBasic, basic("root", monPassword), http.StatusUnauthorized},
		{"basic password swapped", withBasic, basic(monPassword, monUser), http.StatusUnauthorized},
		{"basic with token as password", withBasic, basic("anyone", testToken), http.StatusOK},
		{"token only: basic with token", tokenOnly, basic("", testToken), http.StatusOK},
		{"token only: bearer", tokenOnly, bearer(testToken), http.StatusOK},
		{"token only: empty basic", tokenOnly, basic("", ""), http.StatusUnauthorized},
		{"basic only: pair", basicOnly, basic(monUser, monPassword), http.StatusOK},
		{"basic only: old token", basicOnly, bearer(testToken), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, tt.cfg)
			resp, body := b.do(t, http.MethodGet, "/monitoring/api/queues", "", nil, tt.header)
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			if tt.status == http.StatusOK {
				require.Equal(t, "GET /monitoring/api/queues", string(body), "asynqmon sees the full path")
				return
			}
			requireErrorEnvelope(t, body, codeUnauthorized)
			require.Contains(t, resp.Header.Values("WWW-Authenticate"), basicChallenge, "browsers get a Basic prompt")
		})
	}
}

func TestMonitoringNotMounted(t *testing.T) {
	t.Parallel()
	t.Run("no handler", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		resp, _ := b.do(t, http.MethodGet, "/monitoring/", "", nil, bearer(testToken))
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
	t.Run("no credentials configured is never open", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.Monitoring = monitoringProbe(); c.APIToken = "" })
		for _, h := range []http.Header{nil, basic("", ""), bearer("")} {
			resp, _ := b.do(t, http.MethodGet, "/monitoring/", "", nil, h)
			require.Equal(t, http.StatusNotFound, resp.StatusCode)
		}
	})
}

func TestMonitoringMethodsAndOrigin(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Monitoring = monitoringProbe() })

	resp, body := b.do(t, http.MethodDelete, "/monitoring/api/queues/default", "", nil, bearer(testToken))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "DELETE /monitoring/api/queues/default", string(body))

	same := bearer(testToken)
	same.Set("Origin", b.ts.URL)
	same.Set("Sec-Fetch-Site", "same-origin")
	resp, _ = b.do(t, http.MethodPost, "/monitoring/api/queues/default:pause", "", strings.NewReader(""), same)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	cross := basic("x", testToken)
	cross.Set("Origin", "https://evil.example")
	cross.Set("Sec-Fetch-Site", "cross-site")
	resp, body = b.do(t, http.MethodPost, "/monitoring/api/queues/default:pause", "", strings.NewReader(""), cross)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
	requireErrorEnvelope(t, body, codeForbidden)

	crossGet := basic("x", testToken)
	crossGet.Set("Sec-Fetch-Site", "cross-site")
	resp, _ = b.do(t, http.MethodGet, "/monitoring/", "", nil, crossGet)
	require.Equal(t, http.StatusOK, resp.StatusCode, "safe methods load from anywhere")
}

func TestMonitoringRootRedirects(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) { c.Monitoring = monitoringProbe() })
	client := b.ts.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, b.ts.URL+"/monitoring", nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusMovedPermanently, resp.StatusCode)
	require.Equal(t, "/monitoring/", resp.Header.Get("Location"))
}
