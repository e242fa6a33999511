package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
)

// burstResult is what one burst of per-user jobs cost on the Graph side.
type burstResult struct {
	roundTrips int // Graph HTTP requests (token requests not counted)
	userReads  int // user reads, alone or inside a batch
	wall       time.Duration
}

// userBurst queues one user:sync job for each of the tenant's users while
// no worker runs (as a burst of notifications for distinct users leaves
// them), then starts a worker process of 20 and counts the Graph round
// trips until the queue is empty. linger is worker.graph_batch_linger
// (negative: every read on its own, the naive way).
func userBurst(tb testing.TB, env *simenv.Env, linger time.Duration) burstResult {
	tb.Helper()
	cfg := *env.Config
	testRedis(tb, &cfg)
	cfg.PSA.Quota = &quota.Config{Requests: 1000000, Period: time.Hour, MaxConcurrent: 20}
	cfg.Worker.GraphBatchLinger = linger
	require.NoError(tb, cfg.Validate())
	n, err := app.NewNode(context.Background(), &cfg, app.NodeOptions{Roles: app.RoleWorker, Concurrency: 20,
		NoScheduler: true, World: env, Logger: quietLogger()})
	require.NoError(tb, err)
	defer n.Close()
	tenant := env.Tenants[0]
	users := env.Graph.Users(tenant)
	ctx := context.Background()
	for _, u := range users {
		require.NoError(tb, n.Queue().EnqueueUserSync(ctx, tenant, u.ID))
	}
	insp := asynq.NewInspector(n.RedisConnOpt())
	defer insp.Close()
	info, err := insp.GetQueueInfo(n.Queues().Default)
	require.NoError(tb, err)
	require.Equal(tb, len(users), info.Pending, "one pending job per user")

	before := env.Graph.Stats()
	start := time.Now()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	require.Eventually(tb, func() bool {
		info, err := insp.GetQueueInfo(n.Queues().Default)
		return err == nil && info.Pending+info.Scheduled+info.Active+info.Retry == 0 && info.Processed >= len(users)
	}, 10*time.Minute, 20*time.Millisecond, "the burst was never worked off")
	wall := time.Since(start)
	after := env.Graph.Stats()
	cancel()
	<-done
	info, err = insp.GetQueueInfo(n.Queues().Default)
	require.NoError(tb, err)
	require.Zero(tb, info.Failed, "no job failed")
	return burstResult{
		roundTrips: (after.Requests - after.Tokens) - (before.Requests - before.Tokens),
		userReads:  after.Reads - before.Reads,
		wall:       wall,
	}
}

// TestBurstOfDistinctUsersSharesGraphRoundTrips is not parallel: its 20
// workers would load the machine under the suite's timing-sensitive
// parallel tests (TestBurstCollapsesIntoFewWrites posts within 1.5s).
func TestBurstOfDistinctUsersSharesGraphRoundTrips(t *testing.T) {
	const users = 400
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: users, Unlimited: true})
	require.NoError(t, err)
	t.Cleanup(env.Close)

	naive := userBurst(t, env, -1)
	require.Equal(t, users, naive.userReads)
	require.Equal(t, users, naive.roundTrips, "one GET per user without batching")

	batched := userBurst(t, env, 0)
	require.Equal(t, users, batched.userReads, "every user still read once")
	t.Logf("round trips: naive %d, batched %d", naive.roundTrips, batched.roundTrips)
	// Batches fill as far as the workers' reads fall within the linger of
	// each other: on a quiet machine 400 reads take 20-21 round trips
	// (BenchmarkUserBurst5000 measures the figure); under -race on a loaded
	// one still at least five times fewer than one GET per user.
	require.GreaterOrEqual(t, batched.roundTrips, users/graph.MaxBatchSize, "a batch carries at most 20 reads")
	require.LessOrEqual(t, batched.roundTrips, users/5, "the reads of 20 workers share batches")
}

// BenchmarkUserBurst5000 is issue 13's burst row: one job for each of 5,000
// distinct users, worked off by 20 workers, the naive way (one GET per user)
// and batched, in the same run.
func BenchmarkUserBurst5000(b *testing.B) {
	const users = 5000
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: users, Unlimited: true})
	require.NoError(b, err)
	b.Cleanup(env.Close)
	for b.Loop() {
		naive := userBurst(b, env, -1)
		batched := userBurst(b, env, 0)
		b.ReportMetric(float64(naive.roundTrips), "naive-round-trips")
		b.ReportMetric(float64(batched.roundTrips), "batched-round-trips")
		b.ReportMetric(float64(naive.roundTrips)/float64(batched.roundTrips), "ratio")
		b.ReportMetric(naive.wall.Seconds(), "naive-wall-s")
		b.ReportMetric(batched.wall.Seconds(), "batched-wall-s")
	}
}
