package app_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// BenchmarkBacklog5000 is issue 13's backlog row: notifications for 5,000
// users, one per user every 100ms for 16 rounds over eight coalescing
// windows of 200ms, while no worker runs. It reports the most jobs any user
// has waiting (pending or scheduled) beside the naive figure of one job per
// notification.
func BenchmarkBacklog5000(b *testing.B) {
	const users, rounds = 5000, 16
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: users, Unlimited: true})
	require.NoError(b, err)
	b.Cleanup(env.Close)
	tenant := env.Tenants[0]
	var ids []string
	for _, u := range env.Graph.Users(tenant) {
		ids = append(ids, u.ID)
	}
	for b.Loop() {
		cfg := *env.Config
		testRedis(b, &cfg)
		cfg.Worker.CoalesceWindow = 200 * time.Millisecond
		n, err := app.NewNode(context.Background(), &cfg, app.NodeOptions{Roles: app.RoleWorker, NoScheduler: true, World: env, Logger: quietLogger()})
		require.NoError(b, err)
		ctx := context.Background()
		for range rounds {
			next := time.Now().Add(100 * time.Millisecond)
			var wg sync.WaitGroup
			for w := range 16 {
				wg.Go(func() {
					for i := w; i < len(ids); i += 16 {
						require.NoError(b, n.Queue().EnqueueUserSync(ctx, tenant, ids[i]))
					}
				})
			}
			wg.Wait()
			time.Sleep(time.Until(next))
		}
		perUser := map[string]int{}
		insp := asynq.NewInspector(n.RedisConnOpt())
		for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){insp.ListPendingTasks, insp.ListScheduledTasks} {
			for page := 1; ; page++ {
				tasks, err := list(n.Queues().Default, asynq.PageSize(1000), asynq.Page(page))
				require.NoError(b, err)
				for _, ti := range tasks {
					var p worker.UserSyncPayload
					require.NoError(b, json.Unmarshal(ti.Payload, &p))
					perUser[p.User]++
				}
				if len(tasks) < 1000 {
					break
				}
			}
		}
		_ = insp.Close()
		n.Close()
		most, total := 0, 0
		for _, c := range perUser {
			most = max(most, c)
			total += c
		}
		require.Len(b, perUser, users, "every user has its job")
		b.ReportMetric(float64(most), "max-jobs/user")
		b.ReportMetric(float64(total), "jobs-waiting")
		b.ReportMetric(float64(rounds), "naive-jobs/user")
		b.ReportMetric(float64(rounds*users), "naive-jobs-waiting")
	}
}
