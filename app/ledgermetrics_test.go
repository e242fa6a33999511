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

// TestMetricsShowWhatWaitsForAnOperator: /metrics reports, per tenant,
// quarantined users, a quarantined tenant, open conflicts and held
// deactivations, as the ledger holds them.
func TestMetricsShowWhatWaitsForAnOperator(t *testing.T) {
	t.Parallel()
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: 10})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	testRedis(t, cfg)
	cfg.Worker.MetricsListen = "127.0.0.1:0"
	n, err := app.NewNode(context.Background(), cfg, app.NodeOptions{Roles: app.RoleWorker, World: env, Logger: quietLogger()})
	require.NoError(t, err)
	t.Cleanup(n.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	l := n.App().Ledger()
	tenant := env.Tenants[0]
	for range 3 {
		_, _, err := l.RecordFailure(ctx, tenant, "u1", "u1@x.example", "UserDataIncomplete", "no email", "fp", 3)
		require.NoError(t, err)
		_, _, err = l.RecordTenantFailure(ctx, tenant, "PermissionDenied", "no consent", 3)
		require.NoError(t, err)
	}
	_, err = l.OpenConflict(ctx, ledger.Conflict{Tenant: tenant, UserID: "u2", Code: "DuplicateContact", Candidates: []ledger.Candidate{{ContactID: "1"}, {ContactID: "2"}}})
	require.NoError(t, err)
	_, _, err = l.Hold(ctx, tenant, "250", []ledger.HeldContact{{ContactID: "7", Reason: "disabled"}, {ContactID: "8", Reason: "disabled"}})
	require.NoError(t, err)

	var body string
	require.Eventually(t, func() bool {
		resp, err := http.Get(n.StatusURL() + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		body = string(b)
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond)
	for _, want := range []string{
		`psasync_quarantined_users{tenant="` + tenant + `"} 1`,
		`psasync_tenant_quarantined{tenant="` + tenant + `"} 1`,
		`psasync_open_conflicts{tenant="` + tenant + `"} 1`,
		`psasync_held_deactivations{tenant="` + tenant + `"} 2`,
	} {
		require.Contains(t, body, want)
	}
}
