package app_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
)

// TestWorkerServesMetricsAndProbes: a worker process (no webhook role)
// serves /metrics, /healthz and /readyz on worker.metrics_listen, so a
// split deployment's workers are scraped and probed too; without the
// setting it opens no port.
func TestWorkerServesMetricsAndProbes(t *testing.T) {
	t.Parallel()
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: 10})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	testRedis(t, cfg)
	cfg.Worker.MetricsListen = "127.0.0.1:0"

	for _, roles := range []app.Role{app.RoleWorker, app.RoleScheduler} {
		n, err := app.NewNode(context.Background(), cfg, app.NodeOptions{Roles: roles, World: env, Logger: quietLogger()})
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		base := n.StatusURL()
		require.NotEmpty(t, base, "%s has a status listener", roles)
		get := func(path string) (int, string) {
			resp, err := http.Get(base + path)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		require.Eventually(t, func() bool { code, _ := get("/readyz"); return code == http.StatusOK }, 10*time.Second, 20*time.Millisecond)
		code, _ := get("/healthz")
		require.Equal(t, http.StatusOK, code)
		code, body := get("/metrics")
		require.Equal(t, http.StatusOK, code)
		require.Contains(t, body, "psasync_subscription_tenants", "%s exports psasync's own metrics", roles)
		require.Contains(t, body, "go_goroutines")
		code, _ = get("/webhook/graph")
		require.Equal(t, http.StatusNotFound, code, "a worker serves no webhook")
		cancel()
		require.NoError(t, <-done, "%s stops cleanly", roles)
		n.Close()
	}

	cfg.Worker.MetricsListen = ""
	n, err := app.NewNode(context.Background(), cfg, app.NodeOptions{Roles: app.RoleWorker, World: env, Logger: quietLogger()})
	require.NoError(t, err)
	require.Empty(t, n.StatusURL(), "no setting, no port")
	n.Close()

	_, err = app.NewNode(context.Background(), cfg, app.NodeOptions{Roles: app.RoleWorker, World: env, Logger: quietLogger(), MetricsListen: "no-port"})
	require.ErrorIs(t, err, app.ErrBadConfig)
	require.ErrorContains(t, err, "worker.metrics_listen")
}
