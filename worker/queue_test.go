package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

// queueBundle is a Queue over real asynq on Redis, with an Inspector to see
// what it enqueued. On a real Redis the tests share a database, so each
// uses a tenant of its own and only looks at (and deletes) its tasks.
type queueBundle struct {
	r      testRedis
	client *asynq.Client
	insp   *asynq.Inspector
	q      *worker.Queue
	store  *worker.Store
	tenant string
}

func newQueueBundle(t *testing.T, window time.Duration) *queueBundle {
	t.Helper()
	r := newRedisDB(t, queueDB)
	b := &queueBundle{r: r, client: asynq.NewClientFromRedisClient(r.rdb), insp: asynq.NewInspectorFromRedisClient(r.rdb),
		tenant: "tenant-" + randomID()}
	b.q = worker.NewQueue(b.client, worker.NewStore(r.rdb, r.prefix), window)
	b.store = worker.NewStore(r.rdb, r.prefix)
	t.Cleanup(func() {
		for _, q := range []string{worker.QueueCritical, worker.QueueDefault, worker.QueueLow} {
			for _, state := range []asynq.TaskState{asynq.TaskStatePending, asynq.TaskStateScheduled} {
				for _, ti := range b.list(t, q, state) {
					_ = b.insp.DeleteTask(q, ti.ID)
				}
			}
		}
	})
	return b
}

// list returns this test's tasks of a queue in a state: those of its
// tenant, or of a tenant whose id starts with it.
func (b *queueBundle) list(t *testing.T, queue string, state asynq.TaskState) []*asynq.TaskInfo {
	t.Helper()
	var (
		all []*asynq.TaskInfo
		err error
	)
	switch state {
	case asynq.TaskStatePending:
		all, err = b.insp.ListPendingTasks(queue, asynq.PageSize(10000))
	case asynq.TaskStateScheduled:
		all, err = b.insp.ListScheduledTasks(queue, asynq.PageSize(10000))
	default:
		t.Fatalf("list: state %v", state)
	}
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	require.NoError(t, err)
	var out []*asynq.TaskInfo
	for _, ti := range all {
		var p struct {
			Tenant string           `json:"tenant"`
			Inputs worker.RunInputs `json:"inputs"`
		}
		if json.Unmarshal(ti.Payload, &p) == nil && (strings.HasPrefix(p.Tenant, b.tenant) || strings.HasPrefix(p.Inputs.Tenant, b.tenant)) {
			out = append(out, ti)
		}
	}
	return out
}

// userTasks returns the jobs of one user of the test's tenant.
func (b *queueBundle) userTasks(t *testing.T, user string) (pending, scheduled []*asynq.TaskInfo) {
	t.Helper()
	return b.tenantUserTasks(t, b.tenant, user)
}

func (b *queueBundle) tenantUserTasks(t *testing.T, tenant, user string) (pending, scheduled []*asynq.TaskInfo) {
	t.Helper()
	keep := func(in []*asynq.TaskInfo) []*asynq.TaskInfo {
		var out []*asynq.TaskInfo
		for _, ti := range in {
			var p worker.UserSyncPayload
			require.NoError(t, json.Unmarshal(ti.Payload, &p))
			if p.Tenant == tenant && p.User == user {
				out = append(out, ti)
			}
		}
		return out
	}
	return keep(b.list(t, worker.QueueDefault, asynq.TaskStatePending)), keep(b.list(t, worker.QueueDefault, asynq.TaskStateScheduled))
}

// started takes a job out of the queue as a worker does when it starts it,
// so it no longer waits: the next notification needs a job of its own.
func (b *queueBundle) started(t *testing.T, ti *asynq.TaskInfo) {
	t.Helper()
	require.NoError(t, b.insp.DeleteTask(ti.Queue, ti.ID))
}

// leadStart reads the window start (unix ms) from a leading job's id,
// user:{tenant}:{user}:lead:{start}:{random}.
func leadStart(t *testing.T, b *queueBundle, user string, ti *asynq.TaskInfo) time.Time {
	t.Helper()
	prefix := fmt.Sprintf("user:%s:%s:lead:", b.tenant, user)
	require.True(t, strings.HasPrefix(ti.ID, prefix), "leading job id %q", ti.ID)
	ms, err := strconv.ParseInt(strings.SplitN(strings.TrimPrefix(ti.ID, prefix), ":", 2)[0], 10, 64)
	require.NoError(t, err)
	return time.UnixMilli(ms)
}

func TestEnqueueUserSyncFirstNotificationRunsNow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newQueueBundle(t, 2*time.Second)
	before := time.Now()
	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))

	pending, scheduled := b.userTasks(t, "u1")
	require.Len(t, pending, 1, "the leading edge runs at once")
	require.Empty(t, scheduled)
	ti := pending[0]
	require.Equal(t, worker.TypeUserSync, ti.Type)
	require.Equal(t, worker.QueueDefault, ti.Queue)
	require.JSONEq(t, fmt.Sprintf(`{"tenant":%q,"user":"u1"}`, b.tenant), string(ti.Payload), "the payload names the user only")
	require.Equal(t, 12, ti.MaxRetry)
	require.Equal(t, 2*time.Minute, ti.Timeout)
	require.Zero(t, ti.Retention, "finished per-user jobs free their id at once")
	start := leadStart(t, b, "u1", ti)
	require.WithinDuration(t, before, start, 5*time.Second)

	// The window is open in Redis until it ends.
	ttl, err := b.r.rdb.PTTL(ctx, b.r.prefix+"coalesce:"+b.tenant+":u1").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, 2*time.Second)
}

func TestEnqueueUserSyncBurstCollapsesIntoOneTrailingJob(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const window = 3 * time.Second
	b := newQueueBundle(t, window)
	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))
	pending, _ := b.userTasks(t, "u1")
	require.Len(t, pending, 1)
	lead := pending[0]
	b.started(t, lead) // a worker runs the leading job; the burst comes during it
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- b.q.EnqueueUserSync(ctx, b.tenant, "u1")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "a notification whose trailing job already waits is accepted")
	}

	pending, scheduled := b.userTasks(t, "u1")
	require.Empty(t, pending, "the leading job is running")
	require.Len(t, scheduled, 1, "the rest of the window collapses into one trailing job")
	start := leadStart(t, b, "u1", lead)
	trail := scheduled[0]
	require.Equal(t, fmt.Sprintf("user:%s:u1:trail:%d", b.tenant, start.UnixMilli()), trail.ID)
	require.Equal(t, worker.TypeUserSync, trail.Type)
	require.JSONEq(t, fmt.Sprintf(`{"tenant":%q,"user":"u1"}`, b.tenant), string(trail.Payload))

	end := start.Add(window)
	at := trail.NextProcessAt
	require.False(t, at.Before(end), "the trailing job %s runs after the window ends %s", at, end)
	require.Less(t, at.Sub(end), time.Second, "rounded up to the next whole second only")
	require.Zero(t, at.Nanosecond(), "asynq schedules whole seconds")
	require.Equal(t, end.Add(time.Second-time.Nanosecond).Truncate(time.Second).Unix(), at.Unix())
}

func TestEnqueueUserSyncAfterTheWindowLeadsAgain(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const window = time.Second
	b := newQueueBundle(t, window)
	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))
	pending, _ := b.userTasks(t, "u1")
	require.Len(t, pending, 1)
	first := pending[0]
	b.started(t, first)
	b.r.elapse(window + 100*time.Millisecond)

	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))
	pending, scheduled := b.userTasks(t, "u1")
	require.Len(t, pending, 1, "a notification after the window is a new leading edge")
	require.Empty(t, scheduled)
	require.NotEqual(t, leadStart(t, b, "u1", first), leadStart(t, b, "u1", pending[0]))

	b.started(t, pending[0])
	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))
	_, scheduled = b.userTasks(t, "u1")
	require.Len(t, scheduled, 1, "the new window gets its own trailing job")
}

// TestBacklogIsBoundedWhileNoWorkerRuns: while a user's job waits to start,
// notifications add no job (the waiting one reads the user when it starts),
// however many arrive over however many windows.
func TestBacklogIsBoundedWhileNoWorkerRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const window = 200 * time.Millisecond
	b := newQueueBundle(t, window)
	users := []string{"u1", "u2", "u3", "u4", "u5"}
	for round := 0; round < 5; round++ {
		var wg sync.WaitGroup
		for _, u := range users {
			for i := 0; i < 20; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, u))
				}()
			}
		}
		wg.Wait()
		b.r.elapse(window + 50*time.Millisecond) // a new window each round
	}
	for _, u := range users {
		pending, scheduled := b.userTasks(t, u)
		require.LessOrEqual(t, len(pending)+len(scheduled), 2, "user %s: %d pending and %d scheduled jobs after 100 notifications", u, len(pending), len(scheduled))
		require.NotEmpty(t, pending, "user %s still has its job", u)
	}

	// Once the waiting jobs are taken by workers, the next change gets a
	// job again.
	pending, scheduled := b.userTasks(t, "u1")
	for _, ti := range append(pending, scheduled...) {
		b.started(t, ti)
	}
	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))
	pending, scheduled = b.userTasks(t, "u1")
	require.Len(t, append(pending, scheduled...), 1, "a change after the job started is not lost")
}

func TestEnqueueUserSyncUsersDoNotCollapse(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newQueueBundle(t, 2*time.Second)
	for _, u := range []string{"u1", "u2", "U1"} {
		require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, u))
	}
	for _, u := range []string{"u1", "u2", "U1"} {
		pending, scheduled := b.userTasks(t, u)
		require.Len(t, pending, 1, "user %s has its own leading job", u)
		require.Empty(t, scheduled, "user %s has no trailing job", u)
	}

	// The same user id in another tenant is another window.
	other := b.tenant + "-fabrikam"
	require.NoError(t, b.q.EnqueueUserSync(ctx, other, "u1"))
	pending, scheduled := b.tenantUserTasks(t, other, "u1")
	require.Len(t, pending, 1)
	require.Empty(t, scheduled)
	pending, scheduled = b.userTasks(t, "u1")
	require.Len(t, pending, 1)
	require.Empty(t, scheduled)
}

func TestEnqueueUserSyncDefaults(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newQueueBundle(t, 0)
	b.q = worker.NewQueue(b.client, worker.NewStore(b.r.rdb, b.r.prefix), 0)
	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))
	pending, _ := b.userTasks(t, "u1")
	require.Len(t, pending, 1)
	lead := pending[0]
	b.started(t, lead)
	require.NoError(t, b.q.EnqueueUserSync(ctx, b.tenant, "u1"))

	ttl, err := b.r.rdb.PTTL(ctx, b.r.prefix+"coalesce:"+b.tenant+":u1").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0), "the window is under the store's prefix")
	require.LessOrEqual(t, ttl, time.Second, "window 0 means one second")

	pending, scheduled := b.userTasks(t, "u1")
	require.Empty(t, pending)
	require.Len(t, scheduled, 1)
	end := leadStart(t, b, "u1", lead).Add(time.Second)
	require.False(t, scheduled[0].NextProcessAt.Before(end))
	require.Less(t, scheduled[0].NextProcessAt.Sub(end), time.Second)
}

func TestEnqueueUserSyncRedisDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dead := deadRedis(t)
	q := worker.NewQueue(asynq.NewClientFromRedisClient(dead), worker.NewStore(dead, ""), time.Second)
	err := q.EnqueueUserSync(ctx, "contoso", "u1")
	require.ErrorContains(t, err, "user u1", "the webhook answers 503 on this error")

	// The window opened, but asynq cannot take the job: still an error.
	b := newQueueBundle(t, time.Second)
	q = worker.NewQueue(asynq.NewClientFromRedisClient(dead), worker.NewStore(b.r.rdb, b.r.prefix), time.Second)
	err = q.EnqueueUserSync(ctx, b.tenant, "u1")
	require.ErrorContains(t, err, "enqueue sync of user u1")
}

func TestEnqueueRun(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newQueueBundle(t, time.Second)
	in := worker.DefaultRunInputs(b.tenant)
	in.SyncMode, in.DryRun = worker.ModeFull, true

	before := time.Now().UTC().Add(-time.Second)
	id, err := b.q.EnqueueRun(ctx, "", in)
	require.NoError(t, err)
	require.Regexp(t, `^run-\d{8}T\d{6}-[0-9a-f]{12}$`, id)

	pending := b.list(t, worker.QueueLow, asynq.TaskStatePending)
	require.Len(t, pending, 1)
	require.Equal(t, id, pending[0].ID, "the run id is the task id")
	require.Equal(t, worker.TypeTenantSync, pending[0].Type)
	var p worker.TenantSyncPayload
	require.NoError(t, json.Unmarshal(pending[0].Payload, &p))
	require.Equal(t, worker.TenantSyncPayload{RunID: id, Inputs: in}, p)

	rec, ok, err := b.store.Run(ctx, id)
	require.NoError(t, err)
	require.True(t, ok, "the runs API can show the run at once")
	require.Equal(t, worker.RunQueued, rec.State)
	require.Equal(t, in, rec.Inputs)
	require.False(t, rec.CreatedAt.Before(before))
	require.Nil(t, rec.StartedAt)
	require.Nil(t, rec.Report)
}

func TestEnqueueRunIDConflict(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newQueueBundle(t, time.Second)
	in := worker.DefaultRunInputs(b.tenant)
	id := "incremental:" + b.tenant + ":2025-06-01T12:00:00Z"

	got, err := b.q.EnqueueRun(ctx, id, in, asynq.ProcessIn(time.Hour))
	require.NoError(t, err)
	require.Equal(t, id, got)
	first, ok, err := b.store.Run(ctx, id)
	require.NoError(t, err)
	require.True(t, ok)

	// A second replica scheduling the same period.
	in2 := in
	in2.DryRun = true
	got, err = b.q.EnqueueRun(ctx, id, in2)
	require.ErrorIs(t, err, asynq.ErrTaskIDConflict, "the caller learns the run exists")
	require.Equal(t, id, got, "and which run it is")

	require.Len(t, b.list(t, worker.QueueLow, asynq.TaskStateScheduled), 1, "options pass through (ProcessIn)")
	require.Empty(t, b.list(t, worker.QueueLow, asynq.TaskStatePending), "no second task")
	rec, ok, err := b.store.Run(ctx, id)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, first, rec, "the first run's record is kept")
	require.False(t, rec.Inputs.DryRun)
}

func TestEnqueueRunRejectsBadInputs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newQueueBundle(t, time.Second)
	in := worker.DefaultRunInputs(b.tenant)
	in.SyncMode = "sometimes"
	id, err := b.q.EnqueueRun(ctx, "run-bad-"+b.tenant, in)
	require.ErrorContains(t, err, "sync_mode")
	require.Empty(t, id)
	require.Empty(t, b.list(t, worker.QueueLow, asynq.TaskStatePending))
	_, ok, err := b.store.Run(ctx, "run-bad-"+b.tenant)
	require.NoError(t, err)
	require.False(t, ok, "nothing is recorded")
}

func TestEnqueueRunRedisDown(t *testing.T) {
	t.Parallel()
	dead := deadRedis(t)
	q := worker.NewQueue(asynq.NewClientFromRedisClient(dead), worker.NewStore(dead, ""), time.Second)
	id, err := q.EnqueueRun(context.Background(), "run-1", worker.DefaultRunInputs("contoso"))
	require.ErrorContains(t, err, "run run-1")
	require.Empty(t, id)
}

func TestEnqueueSubscription(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newQueueBundle(t, time.Second)

	err := b.q.EnqueueSubscription(ctx, worker.TypeUserSync, worker.SubscriptionPayload{Tenant: b.tenant})
	require.ErrorContains(t, err, `"user:sync" is not a subscription task`)
	require.Empty(t, b.list(t, worker.QueueCritical, asynq.TaskStatePending))
	require.Empty(t, b.list(t, worker.QueueDefault, asynq.TaskStatePending))

	p := worker.SubscriptionPayload{Tenant: b.tenant, SubscriptionID: "sub-1", Reason: "reauthorizationRequired"}
	require.NoError(t, b.q.EnqueueSubscription(ctx, worker.TypeSubscriptionReauthorize, p))
	id := "ensure:" + b.tenant
	require.NoError(t, b.q.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Tenant: b.tenant}, asynq.TaskID(id)))
	require.NoError(t, b.q.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Tenant: b.tenant}, asynq.TaskID(id)),
		"a job with the same id already waiting counts as enqueued")

	tasks := b.list(t, worker.QueueCritical, asynq.TaskStatePending)
	require.Len(t, tasks, 2)
	types := map[string]*asynq.TaskInfo{}
	for _, ti := range tasks {
		types[ti.Type] = ti
	}
	require.Contains(t, types, worker.TypeSubscriptionReauthorize)
	require.Contains(t, types, worker.TypeSubscriptionEnsure)
	require.Equal(t, id, types[worker.TypeSubscriptionEnsure].ID)
	require.Equal(t, 20, types[worker.TypeSubscriptionEnsure].MaxRetry)
	var got worker.SubscriptionPayload
	require.NoError(t, json.Unmarshal(types[worker.TypeSubscriptionReauthorize].Payload, &got))
	require.Equal(t, p, got)

	dead := deadRedis(t)
	q := worker.NewQueue(asynq.NewClientFromRedisClient(dead), worker.NewStore(dead, ""), time.Second)
	err = q.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Tenant: "contoso"})
	require.ErrorContains(t, err, "enqueue subscription:ensure for tenant contoso")
}
