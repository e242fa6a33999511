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
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/simkit/simenv"
)

// TestWorkerServesMetricsAndProbes: a worker process (no webhook role)
// serves /metrics, /healthz and /readyz on worker.metrics_listen, so a
// split deployment's workers are scraped and probed too, with what waits
// for an operator (quarantined users and tenants, open conflicts, held
// deactivations); without the setting it opens no port.
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
		if roles == app.RoleWorker {
			seedDecisions(t, n.App().Ledger(), env.Tenants[0])
		}
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
		// What waits for an operator, per tenant, as the shared ledger holds
		// it (every role reads the same).
		for _, want := range []string{
			`psasync_quarantined_users{tenant="` + env.Tenants[0] + `"} 1`,
			`psasync_tenant_quarantined{tenant="` + env.Tenants[0] + `"} 1`,
			`psasync_open_conflicts{tenant="` + env.Tenants[0] + `"} 1`,
			`psasync_held_deactivations{tenant="` + env.Tenants[0] + `"} 2`,
		} {
			require.Contains(t, body, want, "%s", roles)
		}
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

// seedDecisions puts one of each decision that waits for a person in the
// ledger: a quarantined user and tenant, an open conflict, a held batch of
// two contacts.
func seedDecisions(t *testing.T, l *ledger.Ledger, tenant string) {
	t.Helper()
	ctx := context.Background()
	for range 3 {
		_, _, err := l.RecordFailure(ctx, tenant, "u1", "u1@x.example", "UserDataIncomplete", "no email", "fp", 3)
		require.NoError(t, err)
		_, _, err = l.RecordTenantFailure(ctx, tenant, "PermissionDenied", "no consent", 3)
		require.NoError(t, err)
	}
	_, err := l.OpenConflict(ctx, ledger.Conflict{Tenant: tenant, UserID: "u2", Code: "DuplicateContact", Candidates: []ledger.Candidate{{ContactID: "1"}, {ContactID: "2"}}})
	require.NoError(t, err)
	_, _, err = l.Hold(ctx, tenant, "250", []ledger.HeldContact{{ContactID: "7", Reason: "disabled"}, {ContactID: "8", Reason: "disabled"}})
	require.NoError(t, err)
}
