package webhook

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

func TestHealthz(t *testing.T) {
	t.Parallel()
	b := setup(t, func(c *Config) {
		c.Ready = func(context.Context) error { return errRedisDown }
	})
	resp, body := b.do(t, http.MethodGet, "/healthz", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode, "healthz ignores dependencies")
	require.JSONEq(t, `{"status":"ok"}`, string(body))
}

func TestReadyz(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		ready   func(context.Context) error
		status  int
		message string
	}{
		{"no check", nil, http.StatusOK, ""},
		{"passing", func(context.Context) error { return nil }, http.StatusOK, ""},
		{"failing", func(context.Context) error { return errRedisDown }, http.StatusServiceUnavailable, "not ready: readiness check failed"},
		{"timing out", func(ctx context.Context) error {
			<-ctx.Done()
			return ctx.Err()
		}, http.StatusServiceUnavailable, "not ready: readiness check timed out"},
		{"slow and wrapped", func(ctx context.Context) error {
			<-ctx.Done()
			return errors.New("ping: i/o timeout")
		}, http.StatusServiceUnavailable, "not ready: readiness check timed out"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) {
				c.Ready = tt.ready
				c.ReadyTimeout = 50 * time.Millisecond
			})
			resp, body := b.do(t, http.MethodGet, "/readyz", "", nil, nil)
			require.Equal(t, tt.status, resp.StatusCode)
			if tt.status == http.StatusOK {
				require.JSONEq(t, `{"status":"ready"}`, string(body))
				return
			}
			env := requireErrorEnvelope(t, body, codeUnavailable)
			require.Equal(t, tt.message, env.Message, "the cause (an address) is not shown")
		})
	}
}

func TestMetricsEndpoint(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.postJSON(t, "/webhook/graph", collection(t, item(subA, tenantA, ptr("forged"), "updated", "Users/"+userOne)))
	resp, body := b.do(t, http.MethodGet, "/metrics", "", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	text := string(body)
	require.Contains(t, text, `psasync_webhook_notifications_rejected_total{endpoint="notifications",reason="client_state_mismatch"} 1`)
	require.Contains(t, text, `psasync_webhook_notifications_rejected_total{endpoint="lifecycle",reason="unknown_lifecycle_event"} 0`, "reasons are exported before they happen")
	require.Contains(t, text, `psasync_webhook_request_duration_seconds_count{code="202",method="POST",route="/webhook/graph"} 1`)
	require.NotContains(t, text, "forged")

	nb := setup(t, func(c *Config) { c.Metrics = nil })
	resp, _ = nb.do(t, http.MethodGet, "/metrics", "", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
}

// TestStatusHandlerServesOnlyStatus: a worker's status listener answers
// probes and Prometheus like the full server, and nothing else.
func TestStatusHandlerServesOnlyStatus(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "psasync_test_status_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	var ready atomic.Bool
	h := NewStatusHandler(StatusConfig{Metrics: reg, Ready: func(context.Context) error {
		if ready.Load() {
			return nil
		}
		return errRedisDown
	}})
	get := func(method, path string) (int, string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		return rec.Code, rec.Body.String()
	}
	code, _ := get(http.MethodGet, "/healthz")
	require.Equal(t, http.StatusOK, code)
	code, body := get(http.MethodGet, "/readyz")
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.NotContains(t, body, "10.0.0.7", "the cause stays in the logs")
	ready.Store(true)
	code, _ = get(http.MethodGet, "/readyz")
	require.Equal(t, http.StatusOK, code)
	code, body = get(http.MethodGet, "/metrics")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body, "psasync_test_status_total 1")
	code, _ = get(http.MethodPost, "/webhook/graph")
	require.Equal(t, http.StatusNotFound, code, "no webhook on a status listener")
	code, _ = get(http.MethodGet, "/api/v1/runs")
	require.Equal(t, http.StatusNotFound, code)
}
