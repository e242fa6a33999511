package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// quotaCase is a vendor budget, scaled: the simulator's quota clock runs
// scale times faster, and psasync's own budget period is divided by the
// same factor, so an hour of Autotask is measured in 36 seconds.
type quotaCase struct {
	psa    string
	scale  float64
	budget quota.Config // psasync's default budget for the PSA, period unscaled
}

func quotaCases() []quotaCase {
	return []quotaCase{
		{config.PSAAutotask, 100, quota.Defaults(quota.Autotask)},
		{config.PSAHaloPSA, 300, quota.Defaults(quota.HaloPSA)},
	}
}

// BenchmarkQuotaInitialSync2000 runs the initial sync of a 2,000-user tenant
// under each vendor's enforced limits (Autotask: 10,000 requests per rolling
// hour and 3 concurrent requests per endpoint; hosted Halo: 300 requests per
// rolling 5 minutes) with psasync's default budgets (half the vendor's),
// two ways: four worker processes sharing one Redis working through 2,000
// per-user jobs, and one full run with four concurrent writers. It fails if
// the simulator ever refused a request for the thread limit or the rate
// limit. Wall times are of the scaled clock; multiply by the scale for real
// time.
func BenchmarkQuotaInitialSync2000(b *testing.B) {
	for _, qc := range quotaCases() {
		for _, mode := range []string{"jobs-4-workers", "full-run"} {
			b.Run(qc.psa+"/"+mode, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					runQuotaCase(b, qc, mode)
				}
			})
		}
	}
}

func runQuotaCase(b *testing.B, qc quotaCase, mode string) {
	b.StopTimer()
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: qc.psa, Users: 2000, TimeScale: qc.scale})
	require.NoError(b, err)
	defer env.Close()
	redisAddr := miniredis.RunT(b).Addr()
	budget := qc.budget
	budget.Period = time.Duration(float64(budget.Period) / qc.scale)
	prefix := fmt.Sprintf("psasync-bench:%d:", time.Now().UnixNano())
	mkcfg := func() *config.Config {
		c := *env.Config
		c.Redis.Addr, c.Redis.KeyPrefix = redisAddr, prefix
		q := budget
		q.Key = prefix + "quota"
		c.PSA.Quota = &q
		c.Sync.Concurrency = 4
		c.Sync.MaxWait = 10 * time.Minute
		return &c
	}
	in := 0
	for _, u := range env.Graph.Users(env.Tenants[0]) {
		if syncable(u) {
			in++
		}
	}
	b.StartTimer()
	start := time.Now()
	var waits quota.Stats
	switch mode {
	case "jobs-4-workers":
		var nodes []*nodeBundle
		for w := 0; w < 4; w++ {
			nodes = append(nodes, startNodeWith(b, env, mkcfg(), nodeOpts{roles: app.RoleWorker}))
		}
		q := nodes[0].n.Queue()
		for _, u := range env.Graph.Users(env.Tenants[0]) {
			require.NoError(b, q.EnqueueUserSync(context.Background(), env.Tenants[0], u.ID))
		}
		require.Eventually(b, func() bool { return len(env.PSA.Contacts(simenv.DefaultCompanyID)) >= in }, 30*time.Minute, 100*time.Millisecond)
		nodes[0].waitIdle(b)
		for _, nb := range nodes {
			if qcl, ok := nb.n.App().PSA().(*quota.Client); ok {
				s := qcl.Stats()
				waits.Calls += s.Calls
				waits.Limited += s.Limited
				waits.ConcurrencyWaits += s.ConcurrencyWaits
				waits.Waited += s.Waited
			}
			nb.stop()
		}
	case "full-run":
		a, err := app.New(context.Background(), mkcfg(), app.Options{Logger: quietLogger(), HTTPClient: env.HTTPClient})
		require.NoError(b, err)
		rep, err := a.Engine().Run(context.Background(), "bench", worker.RunInputs{Tenant: env.Tenants[0], SyncMode: worker.ModeFull, SkipDisabledUsers: true, UpdateExisting: true})
		require.NoError(b, err)
		if !rep.Success {
			codes := map[string]int{}
			for _, e := range rep.Errors {
				codes[e.Code]++
			}
			b.Fatalf("run failed: %d errors by code %v; first: %+v", len(rep.Errors), codes, rep.Errors[0])
		}
		b.ReportMetric(float64(rep.Throttling.WaitedMS)/1000, "run-waited-s")
		if qcl, ok := a.PSA().(*quota.Client); ok {
			waits = qcl.Stats()
		}
		a.Close()
	}
	wall := time.Since(start)
	b.StopTimer()
	st := env.PSA.Stats()
	require.Zero(b, st.Throttled, "the PSA never refused a request (thread limit or rate limit)")
	contacts := env.PSA.Contacts(simenv.DefaultCompanyID)
	require.Len(b, contacts, in, "one contact per in-scope user, no duplicate")
	b.ReportMetric(float64(in), "users")
	b.ReportMetric(float64(st.Requests), "psa-requests")
	b.ReportMetric(float64(st.Reads), "psa-reads")
	b.ReportMetric(float64(st.Writes), "psa-writes")
	b.ReportMetric(float64(st.Throttled), "psa-429s")
	b.ReportMetric(float64(waits.Limited), "quota-refusals")
	b.ReportMetric(float64(waits.ConcurrencyWaits), "slot-waits")
	b.ReportMetric(wall.Seconds(), "wall-s")
	b.ReportMetric(wall.Seconds()*qc.scale, "real-equivalent-s")
	if at, ok := env.PSA.(interface{ QuotaUsed() int }); ok {
		b.ReportMetric(float64(at.QuotaUsed()), "vendor-quota-used")
	}
	b.ReportMetric(float64(budget.Requests), "budget")
	b.StartTimer()
}
