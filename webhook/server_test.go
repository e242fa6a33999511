package webhook

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"
)

type nopEnqueuer struct{}

func (nopEnqueuer) EnqueueUserChanges(context.Context, []UserChange) error   { return nil }
func (nopEnqueuer) EnqueueLifecycle(context.Context, []LifecycleEvent) error { return nil }

func TestNewValidates(t *testing.T) {
	t.Parallel()
	valid := func() Config { return Config{Lookup: &fakeLookup{}, Enqueuer: nopEnqueuer{}} }
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"minimal", func(*Config) {}, ""},
		{"no lookup", func(c *Config) { c.Lookup = nil }, "Lookup is required"},
		{"no enqueuer", func(c *Config) { c.Enqueuer = nil }, "Enqueuer is required"},
		{"short token", func(c *Config) { c.APIToken = "short" }, "APIToken must be at least 16 characters"},
		{"negative body limit", func(c *Config) { c.MaxBodyBytes = -1 }, "MaxBodyBytes must be positive"},
		{"negative timeout", func(c *Config) { c.HandlerTimeout = -time.Second }, "HandlerTimeout must be positive"},
		{"negative ready timeout", func(c *Config) { c.ReadyTimeout = -time.Second }, "ReadyTimeout must be positive"},
		{"basic without password", func(c *Config) { c.MonitoringBasicAuth = &BasicAuth{User: "x"} }, "MonitoringBasicAuth needs both User and Password"},
		{"bad proxy", func(c *Config) { c.TrustedProxies = []string{"not-an-ip"} }, "trusted proxies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tt.mutate(&cfg)
			s, err := New(cfg)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.NotNil(t, s.Handler())
				return
			}
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestNewDefaults(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Lookup: &fakeLookup{}, Enqueuer: nopEnqueuer{}})
	require.NoError(t, err)
	require.Equal(t, DefaultMaxBodyBytes, s.cfg.MaxBodyBytes)
	require.Equal(t, DefaultHandlerTimeout, s.cfg.HandlerTimeout)
	require.Equal(t, DefaultReadyTimeout, s.cfg.ReadyTimeout)
	require.NotNil(t, s.log)
}

func TestNewRegistersOnce(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	_, err := New(Config{Lookup: &fakeLookup{}, Enqueuer: nopEnqueuer{}, Registerer: reg})
	require.NoError(t, err)
	_, err = New(Config{Lookup: &fakeLookup{}, Enqueuer: nopEnqueuer{}, Registerer: reg})
	require.ErrorContains(t, err, "one Registerer per Server")
}

func TestUnknownRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := b.do(t, http.MethodGet, "/nope", "", nil, nil)
	require.Equal(t, http.StatusNotFound, resp.StatusCode)
	requireErrorEnvelope(t, body, codeNotFound)
	require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
}
