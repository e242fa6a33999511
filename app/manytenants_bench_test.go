package app_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// nightQueue lets the scheduler enqueue runs on a node's queue (the
// subscription checks are not part of the night being measured).
type nightQueue struct{ n *app.Node }

func (q nightQueue) EnqueueRun(ctx context.Context, id, tenant string, full bool, _ string) error {
	in := worker.DefaultRunInputs(tenant)
	if full {
		in.SyncMode = worker.ModeFull
	}
	_, err := q.n.Queue().EnqueueRun(ctx, id, in, asynq.Retention(subscription.ScheduledRetention))
	return err
}

func (nightQueue) EnqueueEnsure(context.Context, string, string, string) error { return nil }

// nightResult is what one simulated night of nightly reconciles cost.
type nightResult struct {
	maxStartsPerMinute int           // reconciles enqueued by the busiest minute's tick
	peakRuns           int           // runs running at once (sampled)
	peakHeap           uint64        // largest HeapAlloc sampled
	wall               time.Duration // from the first tick until the last run finished
	failed             int           // runs that did not succeed
}

// night runs the scheduler over 01:59-05:05 (simulated, one minute per
// 20ms) and a worker process of 20 job slots and maxRuns run slots until
// every tenant's reconcile has run. spread off is the previous approach:
// every tenant is due at 02:00.
func night(b *testing.B, env *simenv.Env, spread bool, maxRuns int) nightResult {
	b.Helper()
	cfg := *env.Config
	testRedis(b, &cfg)
	cfg.PSA.Quota = &quota.Config{Requests: 10000000, Period: time.Hour, MaxConcurrent: 20}
	cfg.Worker.MaxTenantRuns = maxRuns
	require.NoError(b, cfg.Validate())
	n, err := app.NewNode(context.Background(), &cfg, app.NodeOptions{Roles: app.RoleWorker, Concurrency: 20,
		NoScheduler: true, World: env, Logger: quietLogger()})
	require.NoError(b, err)
	defer n.Close()
	sch := subscription.Schedule{IncrementalEvery: -1}
	if !spread {
		sch.ReconcileSpread = -1
	}
	var tenants []subscription.ScheduledTenant
	for _, t := range cfg.Tenants {
		tenants = append(tenants, subscription.ScheduledTenant{ID: t.ID, Enabled: true, Schedule: sch})
	}
	s, err := subscription.NewScheduler(nightQueue{n}, nightQueue{n}, func(context.Context) ([]subscription.ScheduledTenant, error) {
		return tenants, nil
	}, subscription.SchedulerConfig{})
	require.NoError(b, err)
	insp := asynq.NewInspector(n.RedisConnOpt())
	defer insp.Close()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	var res nightResult
	var mu sync.Mutex
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stopSampling:
				return
			case <-time.After(50 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			info, err := insp.GetQueueInfo(n.Queues().Low)
			mu.Lock()
			res.peakHeap = max(res.peakHeap, ms.HeapAlloc)
			if err == nil {
				res.peakRuns = max(res.peakRuns, info.Active)
			}
			mu.Unlock()
		}
	}()
	start := time.Now()
	night := time.Date(2026, 6, 2, 1, 59, 0, 0, time.UTC)
	enqueued := 0
	for now := night; now.Before(night.Add(3*time.Hour + 6*time.Minute)); now = now.Add(time.Minute) {
		require.NoError(b, s.Tick(ctx, now))
		info, err := insp.GetQueueInfo(n.Queues().Low)
		total := 0
		if err == nil {
			total = info.Size + info.Processed + info.Active
		}
		res.maxStartsPerMinute = max(res.maxStartsPerMinute, total-enqueued)
		enqueued = total
		time.Sleep(20 * time.Millisecond)
	}
	require.Eventually(b, func() bool {
		info, err := insp.GetQueueInfo(n.Queues().Low)
		return err == nil && info.Pending+info.Active+info.Scheduled+info.Retry == 0
	}, 30*time.Minute, 100*time.Millisecond, "the night's runs never finished")
	res.wall = time.Since(start)
	close(stopSampling)
	<-sampled
	cancel()
	<-done
	for _, t := range cfg.Tenants {
		rec, ok, err := n.Engine().Store().Run(context.Background(), subscription.ReconcileRunID(t.ID, "2026-06-02"))
		require.NoError(b, err)
		if !ok || rec.Report == nil || !rec.Report.Success {
			res.failed++
		}
	}
	return res
}

// BenchmarkNightly1000Tenants is issue 13's many-tenant row: 1,000 tenants
// of 100 users, each night's reconciles spread over 02:00-05:00 and run at
// most worker.max_tenant_runs (2) at once, beside the previous approach in
// the same run (all due at 02:00, runs taking any of the 20 job slots).
// The first night creates the contacts; both nights are measured.
func BenchmarkNightly1000Tenants(b *testing.B) {
	const tenants, users = 1000, 100
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: users, Tenants: tenants, Unlimited: true})
	require.NoError(b, err)
	b.Cleanup(env.Close)
	for b.Loop() {
		before := runtime.MemStats{}
		runtime.ReadMemStats(&before)
		spread := night(b, env, true, 0)
		require.Zero(b, spread.failed, "every tenant gets its run")
		runtime.GC()
		previous := night(b, env, false, 20)
		require.Zero(b, previous.failed)
		b.ReportMetric(float64(spread.maxStartsPerMinute), "spread-max-starts/min")
		b.ReportMetric(float64(previous.maxStartsPerMinute), "previous-max-starts/min")
		b.ReportMetric(float64(spread.peakRuns), "spread-peak-runs")
		b.ReportMetric(float64(previous.peakRuns), "previous-peak-runs")
		b.ReportMetric(float64(spread.peakHeap)/(1<<20), "spread-peak-heap-MB")
		b.ReportMetric(float64(previous.peakHeap)/(1<<20), "previous-peak-heap-MB")
		b.ReportMetric(spread.wall.Seconds(), "spread-wall-s")
		b.ReportMetric(previous.wall.Seconds(), "previous-wall-s")
	}
}
