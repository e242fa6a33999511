package app_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// consoleBenchTenants is the number of tenants the console benchmarks
// serve (the target: 1,000).
const consoleBenchTenants = 1000

// consoleBenchNode is a serving node configured with n tenants, each with a
// subscription record and a finished run, signed in as the admin.
func consoleBenchNode(b *testing.B, n int) (*nodeBundle, *uiBrowser) {
	b.Helper()
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: 10, Unlimited: true})
	require.NoError(b, err)
	b.Cleanup(env.Close)
	cfg := env.Config
	testRedis(b, cfg)
	cfg.PSA.Quota = &quota.Config{Requests: 100000, Period: time.Hour}
	cfg.Server.APIToken = testAPIToken
	first := cfg.Tenants[0]
	for i := 1; i < n; i++ {
		t := first
		t.ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		t.Name = "Customer " + strconv.Itoa(i)
		cfg.Tenants = append(cfg.Tenants, t)
	}
	nb := startNodeWith(b, env, cfg, nodeOpts{})
	ctx := context.Background()
	now := time.Now().UTC()
	store := nb.n.Engine().Store()
	for i, t := range cfg.Tenants {
		require.NoError(b, nb.n.Subscriptions().Save(ctx, subscription.Record{
			ID: fmt.Sprintf("sub-%d", i), TenantID: t.ID, ClientState: "state-" + strconv.Itoa(i),
			Expiry: now.Add(48 * time.Hour), Health: subscription.HealthHealthy, CreatedAt: now,
		}))
		in := worker.DefaultRunInputs(t.ID)
		fin := now
		require.NoError(b, store.SaveRun(ctx, worker.RunRecord{ID: fmt.Sprintf("bench-%d", i), State: worker.RunSucceeded, Inputs: in,
			CreatedAt: now.Add(-time.Minute), FinishedAt: &fin, Report: &worker.Report{Success: true, SyncMode: in.SyncMode,
				Statistics: worker.Statistics{UsersProcessed: 200, ContactsUpdated: 3}, DurationMS: 1500}}))
	}
	br := newUIBrowser(b, nb.n.BaseURL())
	resp, _ := br.signIn(testAPIToken)
	require.Equal(b, http.StatusSeeOther, resp.StatusCode)
	return nb, br
}

// BenchmarkConsoleOverview measures the overview's server time with 1,000
// tenants (each with a subscription and a run): one GET /ui/ per op.
func BenchmarkConsoleOverview(b *testing.B) {
	_, br := consoleBenchNode(b, consoleBenchTenants)
	for b.Loop() {
		resp, body := br.get("/ui/")
		if resp.StatusCode != http.StatusOK || len(body) < consoleBenchTenants*100 {
			b.Fatalf("overview: %d, %d bytes", resp.StatusCode, len(body))
		}
	}
}

// BenchmarkConsoleChanges measures the change-log page over a ledger of
// PSASYNC_BENCH_CHANGES entries (default 200,000; the target is
// 1,000,000, which takes minutes to seed) across 1,000 tenants: the newest
// page, one user's history and one tenant's page.
func BenchmarkConsoleChanges(b *testing.B) {
	total := 200_000
	if v := os.Getenv("PSASYNC_BENCH_CHANGES"); v != "" {
		var err error
		total, err = strconv.Atoi(v)
		require.NoError(b, err, "PSASYNC_BENCH_CHANGES")
	}
	nb, br := consoleBenchNode(b, consoleBenchTenants)
	cfg := nb.n.App().Config()
	led := ledger.New(nb.n.App().Redis(), cfg.Redis.Prefix(), ledger.Options{})
	ctx := context.Background()
	start := time.Now().Add(-30 * 24 * time.Hour)
	const batch = 1000
	entries := make([]ledger.Entry, 0, batch)
	for i := range total {
		t := i % consoleBenchTenants
		user := i % 50_000
		entries = append(entries, ledger.Entry{
			Time: start.Add(time.Duration(i) * (30 * 24 * time.Hour) / time.Duration(total)), Tenant: cfg.Tenants[t].ID, CompanyID: "250",
			UserID: fmt.Sprintf("00000000-0000-4000-9000-%012d", user), UPN: fmt.Sprintf("user%d@customer%d.example", user, t),
			ContactID: strconv.Itoa(1000 + user), Action: "updated",
			Changes: []ledger.FieldChange{{Field: "job_title", Old: "Engineer", New: "Senior engineer"}},
			Trigger: ledger.Trigger{Kind: ledger.TriggerRun, RunID: "bench", Mode: "full"}, Result: "written",
		})
		if len(entries) == batch {
			require.NoError(b, led.Append(ctx, entries...))
			entries = entries[:0]
		}
	}
	require.NoError(b, led.Append(ctx, entries...))
	// The log holds what was seeded: one user's history has all its entries.
	page, err := led.Changes(ctx, ledger.Query{User: "00000000-0000-4000-9000-000000000042", Limit: ledger.MaxLimit})
	require.NoError(b, err)
	require.Len(b, page.Entries, total/50_000)
	for _, bc := range []struct{ name, query, want string }{
		{"newest", "", "Older entries"},
		{"user", "?user=00000000-0000-4000-9000-000000000042", "user42@"},
		{"contact", "?contact=1042", "user42@"},
		{"tenant", "?tenant=" + cfg.Tenants[7].ID, "Older entries"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				resp, body := br.get("/ui/changes" + bc.query)
				if resp.StatusCode != http.StatusOK || !strings.Contains(body, bc.want) {
					b.Fatalf("changes%s: %d, %d bytes without %q", bc.query, resp.StatusCode, len(body), bc.want)
				}
			}
		})
	}
}
