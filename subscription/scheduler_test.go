package subscription_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the zones below, whatever the machine has

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

func mustZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func staticTenants(ts ...subscription.ScheduledTenant) subscription.TenantsFunc {
	return func(context.Context) ([]subscription.ScheduledTenant, error) { return ts, nil }
}

func TestScheduleValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    subscription.Schedule
		want string
	}{
		{"defaults", subscription.Schedule{}, ""},
		{"off", subscription.Schedule{IncrementalEvery: -1, ReconcileAt: "off"}, ""},
		{"bad clock", subscription.Schedule{ReconcileAt: "2am"}, "reconcile_at"},
		{"bad hour", subscription.Schedule{ReconcileAt: "25:00"}, "reconcile_at"},
		{"too often", subscription.Schedule{IncrementalEvery: time.Second}, "incremental_every"},
		{"window of a day", subscription.Schedule{ReconcileWindow: 24 * time.Hour}, "reconcile window"},
		{"spread past the window", subscription.Schedule{ReconcileSpread: 6 * time.Hour}, "reconcile spread 6h0m0s must be shorter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.s.WithDefaults().Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
	d := subscription.Schedule{}.WithDefaults()
	require.Equal(t, subscription.Schedule{IncrementalEvery: 15 * time.Minute, ReconcileAt: "02:00", ReconcileWindow: 6 * time.Hour,
		ReconcileSpread: 3 * time.Hour, Location: time.UTC, RenewEvery: time.Hour}, d)
}

// TestSchedulerReplicasProduceOneRunPerPeriod ticks two replicas, a few
// seconds apart, every minute for four days across a DST-free UTC, a
// non-UTC zone without DST (+05:30) and both DST changes, all sharing one
// queue that refuses duplicate ids.
func TestSchedulerReplicasProduceOneRunPerPeriod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		zone      string
		at        string
		start     time.Time
		firstDate string // local date of the first reconcile
		// firstAt is when the first reconcile must be enqueued (UTC).
		firstAt time.Time
	}{
		{"UTC", "UTC", "02:00", time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC), "2025-03-03", time.Date(2025, 3, 3, 2, 0, 0, 0, time.UTC)},
		{"Asia/Kolkata, +05:30 without DST", "Asia/Kolkata", "02:00", time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC), "2025-03-04", time.Date(2025, 3, 3, 20, 30, 0, 0, time.UTC)},
		{"America/New_York, spring forward skips 02:30", "America/New_York", "02:30", time.Date(2025, 3, 7, 17, 0, 0, 0, time.UTC), "2025-03-08", time.Date(2025, 3, 8, 7, 30, 0, 0, time.UTC)},
		{"Europe/Berlin, fall back repeats 02:30", "Europe/Berlin", "02:30", time.Date(2025, 10, 24, 12, 0, 0, 0, time.UTC), "2025-10-25", time.Date(2025, 10, 25, 0, 30, 0, 0, time.UTC)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			loc := mustZone(t, tc.zone)
			now := tc.start
			queue := newRuns()
			queue.clock = func() time.Time { return now }
			// No spread: the exact start of each night is checked.
			sch := subscription.Schedule{IncrementalEvery: 15 * time.Minute, ReconcileAt: tc.at, ReconcileSpread: -1, Location: loc}
			tenants := staticTenants(
				subscription.ScheduledTenant{ID: "contoso", Enabled: true, Schedule: sch},
				subscription.ScheduledTenant{ID: "fabrikam", Enabled: true, Schedule: sch},
				subscription.ScheduledTenant{ID: "disabled", Enabled: false, Schedule: sch},
			)
			a, err := subscription.NewScheduler(queue, queue, tenants, subscription.SchedulerConfig{})
			require.NoError(t, err)
			bRep, err := subscription.NewScheduler(queue, queue, tenants, subscription.SchedulerConfig{})
			require.NoError(t, err)

			end := tc.start.Add(4 * 24 * time.Hour)
			for ; now.Before(end); now = now.Add(time.Minute) {
				require.NoError(t, a.Tick(ctx, now))
				now = now.Add(7 * time.Second)
				require.NoError(t, bRep.Tick(ctx, now))
				now = now.Add(-7 * time.Second)
			}

			for _, tenant := range []string{"contoso", "fabrikam"} {
				rec := queue.matching("reconcile:" + tenant + ":")
				dates := map[string]bool{}
				for _, r := range rec {
					date := strings.TrimPrefix(r.ID, "reconcile:"+tenant+":")
					require.False(t, dates[date], "one reconcile per local date")
					dates[date] = true
					require.Equal(t, worker.ModeFull, r.Mode)
					require.Equal(t, date, r.At.In(loc).Format(time.DateOnly), "enqueued on its own local date")
				}
				require.Len(t, rec, 4, "four local days, four reconciles: %v", rec)
				require.Equal(t, "reconcile:"+tenant+":"+tc.firstDate, rec[0].ID)
				require.True(t, tc.firstAt.Equal(rec[0].At), "first reconcile at %s, want %s", rec[0].At, tc.firstAt)

				inc := queue.matching("incremental:" + tenant + ":")
				require.Len(t, inc, 4*24*4, "one incremental per 15-minute period")
				for _, r := range inc {
					require.Equal(t, worker.ModeIncremental, r.Mode)
					start, err := time.Parse(time.RFC3339, strings.TrimPrefix(r.ID, "incremental:"+tenant+":"))
					require.NoError(t, err)
					require.Zero(t, start.Minute()%15)
					require.True(t, !r.At.Before(start) && r.At.Before(start.Add(15*time.Minute)))
				}
				require.Len(t, queue.matching("ensure:"+tenant+":"), 4*24, "one subscription check per hour")
			}
			require.Empty(t, queue.matching("reconcile:disabled"))
			require.Empty(t, queue.matching("incremental:disabled"))
			require.Empty(t, queue.matching("ensure:disabled"))
			// Each replica asked the queue once per id; the queue took one.
			require.Equal(t, 2*len(queue.all()), queue.calls)

			// A replica restarted mid-period (no memory) adds nothing.
			fresh, err := subscription.NewScheduler(queue, queue, tenants, subscription.SchedulerConfig{})
			require.NoError(t, err)
			before := len(queue.all())
			require.NoError(t, fresh.Tick(ctx, end.Add(-time.Minute)))
			require.Len(t, queue.all(), before)
		})
	}
}

func TestSchedulerCatchesUpALateReconcileWithinItsWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		name  string
		start time.Time
		want  bool
	}{
		{"scheduler back at 04:00", time.Date(2025, 6, 2, 4, 0, 0, 0, time.UTC), true},
		{"just inside the window", time.Date(2025, 6, 2, 7, 59, 0, 0, time.UTC), true},
		{"scheduler back at 09:00: skipped until the next night", time.Date(2025, 6, 2, 9, 0, 0, 0, time.UTC), false},
		{"before 02:00: nothing yet", time.Date(2025, 6, 2, 1, 59, 0, 0, time.UTC), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			queue := newRuns()
			sched, err := subscription.NewScheduler(queue, queue, staticTenants(subscription.ScheduledTenant{ID: "contoso", Enabled: true}),
				subscription.SchedulerConfig{})
			require.NoError(t, err)
			require.NoError(t, sched.Tick(ctx, tc.start))
			got := queue.matching("reconcile:contoso:2025-06-02")
			if tc.want {
				require.Len(t, got, 1)
			} else {
				require.Empty(t, got)
			}
		})
	}
}

func TestSchedulerRetriesAFailedEnqueueAndMovesOn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	queue := newRuns()
	sched, err := subscription.NewScheduler(queue, queue, staticTenants(subscription.ScheduledTenant{
		ID: "contoso", Enabled: true, Schedule: subscription.Schedule{ReconcileAt: "off", RenewEvery: time.Hour},
	}), subscription.SchedulerConfig{})
	require.NoError(t, err)
	now := time.Date(2025, 6, 1, 10, 1, 0, 0, time.UTC)
	queue.failNext = errors.New("redis down")
	err = sched.Tick(ctx, now)
	require.ErrorContains(t, err, "redis down")
	require.ErrorContains(t, err, "incremental:contoso:2025-06-01T10:00:00Z")
	require.NoError(t, sched.Tick(ctx, now.Add(20*time.Second)))
	require.Len(t, queue.matching("incremental:contoso:2025-06-01T10:00:00Z"), 1, "the next tick enqueues it")
	// Whatever became of that run, the next period has its own id.
	require.NoError(t, sched.Tick(ctx, now.Add(15*time.Minute)))
	require.Len(t, queue.matching("incremental:contoso:2025-06-01T10:15:00Z"), 1)
	require.Empty(t, queue.matching("reconcile:"))

	broken, err := subscription.NewScheduler(queue, queue, func(context.Context) ([]subscription.ScheduledTenant, error) {
		return nil, errors.New("config unreadable")
	}, subscription.SchedulerConfig{})
	require.NoError(t, err)
	require.ErrorContains(t, broken.Tick(ctx, now), "config unreadable")

	bad, err := subscription.NewScheduler(queue, queue, staticTenants(
		subscription.ScheduledTenant{ID: "typo", Enabled: true, Schedule: subscription.Schedule{ReconcileAt: "2am"}},
		subscription.ScheduledTenant{ID: "fine", Enabled: true},
	), subscription.SchedulerConfig{})
	require.NoError(t, err)
	require.ErrorContains(t, bad.Tick(ctx, now), "tenant typo")
	require.Len(t, queue.matching("incremental:fine:"), 1, "one tenant's bad schedule does not stop the others")
}

func TestSchedulerRunTicksUntilCanceled(t *testing.T) {
	t.Parallel()
	queue := newRuns()
	ctx, cancel := context.WithCancel(context.Background())
	var ticks int
	clock := func() time.Time {
		ticks++
		return time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(ticks) * time.Hour)
	}
	sched, err := subscription.NewScheduler(queue, queue, staticTenants(subscription.ScheduledTenant{ID: "contoso", Enabled: true}),
		subscription.SchedulerConfig{Interval: 5 * time.Millisecond, Clock: clock})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- sched.Run(ctx) }()
	require.Eventually(t, func() bool { return len(queue.matching("ensure:contoso:")) >= 3 }, 10*time.Second, 5*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
}

// asynqRuns is the adapter the lead writes over worker.Queue, here to show
// that a real asynq queue refuses a second run with the same id.
type asynqRuns struct {
	q     *worker.Queue
	store *worker.Store
	queue string
}

func (a *asynqRuns) EnqueueRun(ctx context.Context, id, tenantID string, full bool, _ string) error {
	in := worker.DefaultRunInputs(tenantID)
	if full {
		in.SyncMode = worker.ModeFull
	}
	_, err := a.q.EnqueueRun(ctx, id, in, asynq.Queue(a.queue), asynq.Retention(subscription.ScheduledRetention))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	return err
}

func (a *asynqRuns) EnqueueEnsure(ctx context.Context, id, tenantID, reason string) error {
	return a.q.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Tenant: tenantID, Reason: reason},
		asynq.Queue(a.queue), asynq.TaskID(id), asynq.Retention(subscription.ScheduledRetention))
}

func TestSchedulerReplicasOverRealAsynq(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	queue := r.queue
	opt := asynq.RedisClientOpt{Addr: r.addr}
	replica := func() *subscription.Scheduler {
		client := asynq.NewClient(opt)
		t.Cleanup(func() { _ = client.Close() })
		rdb := redis.NewClient(&redis.Options{Addr: r.addr})
		t.Cleanup(func() { _ = rdb.Close() })
		ad := &asynqRuns{q: worker.NewQueue(client, worker.NewStore(rdb, r.prefix), time.Second), store: worker.NewStore(rdb, r.prefix), queue: queue}
		s, err := subscription.NewScheduler(ad, ad, staticTenants(
			subscription.ScheduledTenant{ID: "contoso", Enabled: true, Schedule: subscription.Schedule{Location: mustZone(t, "Asia/Kolkata"), ReconcileSpread: -1}},
			subscription.ScheduledTenant{ID: "fabrikam", Enabled: true, Schedule: subscription.Schedule{ReconcileAt: "23:30", ReconcileSpread: -1}},
		), subscription.SchedulerConfig{})
		require.NoError(t, err)
		return s
	}
	a, b := replica(), replica()
	now := time.Date(2025, 6, 1, 23, 50, 0, 0, time.UTC) // 05:20 in Kolkata
	for i := 0; i < 3; i++ {
		require.NoError(t, a.Tick(ctx, now))
		require.NoError(t, b.Tick(ctx, now.Add(time.Second)))
	}
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })
	tasks, err := insp.ListPendingTasks(queue, asynq.PageSize(100))
	require.NoError(t, err)
	var ids []string
	for _, ti := range tasks {
		ids = append(ids, ti.ID)
	}
	require.ElementsMatch(t, []string{
		"incremental:contoso:2025-06-01T23:45:00Z", "reconcile:contoso:2025-06-02", "ensure:contoso:2025-06-01T23:00:00Z",
		"incremental:fabrikam:2025-06-01T23:45:00Z", "reconcile:fabrikam:2025-06-01", "ensure:fabrikam:2025-06-01T23:00:00Z",
	}, ids)
	for _, ti := range tasks {
		require.Equal(t, subscription.ScheduledRetention, ti.Retention)
	}
}
