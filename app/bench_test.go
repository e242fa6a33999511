package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// benchWorld starts a tenant of n users against a PSA simulator without
// vendor quotas (the quota tests measure those separately).
func benchWorld(b *testing.B, psaType string, n int, tune ...func(*worker.Config)) *testBundle {
	b.Helper()
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: psaType, Users: n, Unlimited: true,
		GraphOptions: nil})
	require.NoError(b, err)
	b.Cleanup(env.Close)
	cfg := env.Config
	// A real Redis when there is one: the change log's scripts run in
	// Redis, and miniredis's Lua says little about their cost.
	if target := benchRedis(b); target.kind != "miniredis" {
		cfg.Redis.Addr = target.addr
		cfg.Redis.KeyPrefix = fmt.Sprintf("psasync-bench:%s:%d:", strings.ReplaceAll(b.Name(), "/", "_"), time.Now().UnixNano())
		cfg.Redis.QueuePrefix = cfg.Redis.KeyPrefix
		b.Cleanup(func() {
			cleanTestRedis(b, cfg.Redis.Addr, cfg.Redis.DB, cfg.Redis.KeyPrefix, worker.PrefixedQueues(cfg.Redis.QueuePrefix))
		})
	} else {
		b.Log("no real Redis: the embedded one's figures say little about a deployment")
	}
	cfg.Sync.Concurrency = 8
	cfg.PSA.Quota = &quota.Config{} // unlimited: these benchmarks measure psasync, not the budget
	o := app.Options{Logger: quietLogger(), HTTPClient: env.HTTPClient}
	if len(tune) > 0 {
		o.TuneEngine = tune[0]
	}
	a, err := app.New(context.Background(), cfg, o)
	require.NoError(b, err)
	b.Cleanup(a.Close)
	return &testBundle{env: env, stack: a, tenant: env.Tenants[0], company: simenv.DefaultCompanyID}
}

func (tb *testBundle) benchRun(b *testing.B, mode string) *worker.Report {
	in := worker.DefaultRunInputs(tb.tenant)
	in.SyncMode = mode
	rep, err := tb.stack.Engine().Run(context.Background(), "bench", in)
	require.NoError(b, err)
	require.True(b, rep.Success, "%+v", rep.Errors)
	return rep
}

// BenchmarkFullReconcile10k is a nightly reconcile of 10,000 users with no
// change in Microsoft 365: PSA reads must equal the page count
// (ceil(contacts/page size)) and writes must be 0.
func BenchmarkFullReconcile10k(b *testing.B) {
	for _, p := range []string{config.PSAConnectWise, config.PSAAutotask, config.PSAHaloPSA} {
		b.Run(p, func(b *testing.B) {
			w := benchWorld(b, p, 10000)
			first := w.benchRun(b, worker.ModeFull)
			contacts := len(w.env.PSA.Contacts(w.company))
			require.Equal(b, first.Statistics.ContactsCreated, contacts)
			b.ReportAllocs()
			b.ResetTimer()
			var reads, writes, graphReqs int
			for i := 0; i < b.N; i++ {
				ps, gs := w.env.PSA.Stats(), w.env.Graph.Stats()
				rep := w.benchRun(b, worker.ModeFull)
				ps2, gs2 := w.env.PSA.Stats(), w.env.Graph.Stats()
				reads, writes, graphReqs = ps2.Reads-ps.Reads, ps2.Writes-ps.Writes, gs2.Requests-gs.Requests
				require.Equal(b, rep.Statistics.UsersProcessed, rep.Statistics.ContactsSkipped)
			}
			b.StopTimer()
			pageSize := map[string]int{config.PSAConnectWise: 1000, config.PSAAutotask: 500, config.PSAHaloPSA: 100}[p]
			pages := (contacts + pageSize - 1) / pageSize
			require.Zero(b, writes, "no change, no write")
			require.Equal(b, pages, reads, "one read per page of %d contacts", contacts)
			b.ReportMetric(float64(reads), "psa-reads/op")
			b.ReportMetric(float64(writes), "psa-writes/op")
			b.ReportMetric(float64(graphReqs), "graph-requests/op")
			b.ReportMetric(float64(contacts), "contacts")
		})
	}
}

// BenchmarkInitialSync10k is the first full run of 10,000 users into an
// empty PSA company: one write per created contact.
//
// The sub-benchmarks compare the change log's cost in one run: changelog=on
// is production (every write recorded, in batches beside the writes),
// changelog=off records nothing. The bound is on ≤ 1.05 × off.
func BenchmarkInitialSync10k(b *testing.B) {
	for _, tc := range []struct {
		name string
		off  bool
	}{{"changelog=on", false}, {"changelog=off", true}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				w := benchWorld(b, config.PSAConnectWise, 10000, func(c *worker.Config) { c.ChangeLogOff = tc.off })
				b.StartTimer()
				ps, gs := w.env.PSA.Stats(), w.env.Graph.Stats()
				rep := w.benchRun(b, worker.ModeFull)
				ps2, gs2 := w.env.PSA.Stats(), w.env.Graph.Stats()
				b.ReportMetric(float64(ps2.Reads-ps.Reads), "psa-reads/op")
				b.ReportMetric(float64(ps2.Writes-ps.Writes), "psa-writes/op")
				b.ReportMetric(float64(gs2.Requests-gs.Requests), "graph-requests/op")
				b.ReportMetric(float64(rep.Statistics.ContactsCreated), "created")
				if !tc.off {
					page, err := w.stack.Ledger().Changes(context.Background(), ledger.Query{Tenant: w.tenant, Limit: 1})
					require.NoError(b, err)
					require.Len(b, page.Entries, 1, "the writes were recorded")
				}
			}
		})
	}
}
