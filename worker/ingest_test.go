package worker_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

// ingestBundle is an Ingest over a Queue with queue names of the test's
// own, and an Inspector to see what the dispatcher enqueued.
type ingestBundle struct {
	r      testRedis
	queues worker.Queues
	insp   *asynq.Inspector
	q      *worker.Queue
	ing    *worker.Ingest
}

func newIngestBundle(t *testing.T) *ingestBundle {
	t.Helper()
	r := newRedisDB(t, queueDB)
	b := &ingestBundle{r: r, queues: worker.PrefixedQueues(r.prefix), insp: asynq.NewInspectorFromRedisClient(r.rdb)}
	b.q = worker.NewQueue(asynq.NewClientFromRedisClient(r.rdb), worker.NewStore(r.rdb, r.prefix), time.Minute).WithQueues(b.queues)
	b.ing = worker.NewIngest(worker.NewStore(r.rdb, r.prefix), b.q, nil)
	t.Cleanup(func() {
		for _, q := range b.queues.All() {
			_ = b.insp.DeleteQueue(q, true)
		}
	})
	return b
}

// run starts a dispatcher and stops it when the test ends.
func (b *ingestBundle) run(t *testing.T, ing *worker.Ingest, consumer string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ing.Run(ctx, consumer) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
}

// tasks lists the user syncs in the default queue as "tenant/user",
// sorted, in one state.
func (b *ingestBundle) tasks(t *testing.T, state asynq.TaskState) []string {
	t.Helper()
	var (
		infos []*asynq.TaskInfo
		err   error
	)
	switch state {
	case asynq.TaskStatePending:
		infos, err = b.insp.ListPendingTasks(b.queues.Default, asynq.PageSize(1000))
	case asynq.TaskStateScheduled:
		infos, err = b.insp.ListScheduledTasks(b.queues.Default, asynq.PageSize(1000))
	default:
		t.Fatalf("tasks: state %v", state)
	}
	if errors.Is(err, asynq.ErrQueueNotFound) {
		return nil
	}
	require.NoError(t, err)
	out := []string{}
	for _, ti := range infos {
		require.Equal(t, worker.TypeUserSync, ti.Type)
		var p worker.UserSyncPayload
		require.NoError(t, json.Unmarshal(ti.Payload, &p))
		out = append(out, p.Tenant+"/"+p.User)
	}
	sort.Strings(out)
	return out
}

// eventuallyPending waits until the pending user syncs are want.
func (b *ingestBundle) eventuallyPending(t *testing.T, want ...string) {
	t.Helper()
	sort.Strings(want)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Equal(c, want, b.tasks(t, asynq.TaskStatePending))
	}, 5*time.Second, 20*time.Millisecond)
}

// pendingEntries is how many entries the group has delivered but not acked.
func (b *ingestBundle) pendingEntries(t *testing.T) int64 {
	t.Helper()
	p, err := b.r.rdb.XPending(context.Background(), b.ing.Key(), "dispatch").Result()
	require.NoError(t, err)
	return p.Count
}

func TestIngestAddThenRunEnqueuesEachUser(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx := context.Background()
	// Added before any dispatcher exists: the group must start at the
	// stream's beginning.
	require.NoError(t, b.ing.Add(ctx, []worker.UserChange{{Tenant: "t1", User: "u1"}, {Tenant: "t1", User: "u2"}, {Tenant: "t2", User: "u3"}}))
	b.run(t, b.ing, "c1")
	b.eventuallyPending(t, "t1/u1", "t1/u2", "t2/u3")

	// An entry added while the dispatcher runs.
	require.NoError(t, b.ing.Add(ctx, []worker.UserChange{{Tenant: "t2", User: "u4"}}))
	b.eventuallyPending(t, "t1/u1", "t1/u2", "t2/u3", "t2/u4")

	require.Eventually(t, func() bool { return b.ing.Stats().Dispatched == 2 }, 5*time.Second, 10*time.Millisecond)
	st := b.ing.Stats()
	require.Equal(t, worker.IngestStats{Added: 2, Changes: 4, Dispatched: 2, Enqueued: 4}, st)
	backlog, err := b.ing.Backlog(ctx)
	require.NoError(t, err)
	require.Zero(t, backlog, "dispatched entries are deleted")
	require.Zero(t, b.pendingEntries(t))
}

func TestIngestDuplicatesEnqueueOncePerUser(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx := context.Background()
	// With a one-minute window, a second enqueue of a user would leave a
	// scheduled trailing job: none may appear.
	require.NoError(t, b.ing.Add(ctx, []worker.UserChange{
		{Tenant: "t", User: "u1"}, {Tenant: "t", User: "u1"}, {Tenant: "t", User: "u2"}, {Tenant: "t", User: "u1"},
		{Tenant: "other", User: "u1"},
	}))
	// A second entry with the same users, read in the same batch.
	require.NoError(t, b.ing.Add(ctx, []worker.UserChange{{Tenant: "t", User: "u2"}, {Tenant: "t", User: "u1"}}))
	b.run(t, b.ing, "c1")
	b.eventuallyPending(t, "other/u1", "t/u1", "t/u2")
	require.Eventually(t, func() bool { return b.ing.Stats().Dispatched == 2 }, 5*time.Second, 10*time.Millisecond)
	st := b.ing.Stats()
	require.Equal(t, int64(3+2), st.Changes, "Add drops repeats within an entry")
	require.Equal(t, int64(3), st.Enqueued)
	require.Empty(t, b.tasks(t, asynq.TaskStateScheduled))
}

func TestIngestAddWithNoChangesWritesNothing(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	require.NoError(t, b.ing.Add(context.Background(), nil))
	n, err := b.r.rdb.Exists(context.Background(), b.ing.Key()).Result()
	require.NoError(t, err)
	require.Zero(t, n)
	require.Zero(t, b.ing.Stats().Added)
}

func TestIngestAddFailsWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	dead := deadRedis(t)
	q := worker.NewQueue(asynq.NewClientFromRedisClient(dead), worker.NewStore(dead, ""), time.Second)
	ing := worker.NewIngest(worker.NewStore(dead, ""), q, nil)
	err := ing.Add(context.Background(), []worker.UserChange{{Tenant: "t", User: "u"}})
	require.Error(t, err)
	require.Contains(t, err.Error(), "ingest add 1 changes")
	require.Zero(t, ing.Stats().Added)
}

func TestIngestReclaimsEntriesOfACrashedDispatcher(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx := context.Background()
	require.NoError(t, b.ing.Add(ctx, []worker.UserChange{{Tenant: "t", User: "orphan"}}))
	// Consumer A reads the entry and dies before enqueueing or acking.
	require.NoError(t, b.r.rdb.XGroupCreateMkStream(ctx, b.ing.Key(), "dispatch", "0").Err())
	read, err := b.r.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: "dispatch", Consumer: "A",
		Streams: []string{b.ing.Key(), ">"}, Count: 10, Block: -1}).Result()
	require.NoError(t, err)
	require.Len(t, read[0].Messages, 1)
	require.Equal(t, int64(1), b.pendingEntries(t))

	b.run(t, b.ing.WithReclaim(50*time.Millisecond, 200*time.Millisecond), "B")
	b.eventuallyPending(t, "t/orphan")
	require.Eventually(t, func() bool { return b.pendingEntries(t) == 0 }, 5*time.Second, 10*time.Millisecond)
	st := b.ing.Stats()
	require.Equal(t, int64(1), st.Reclaimed)
	require.Equal(t, int64(1), st.Dispatched)
}

func TestIngestRetriesEntriesWhoseEnqueueFailed(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx := context.Background()
	// Dispatcher A's queue cannot reach Redis: its entry stays pending.
	dead := deadRedis(t)
	broken := worker.NewQueue(asynq.NewClientFromRedisClient(dead), worker.NewStore(dead, b.r.prefix), time.Minute).WithQueues(b.queues)
	a := worker.NewIngest(worker.NewStore(b.r.rdb, b.r.prefix), broken, nil)
	require.NoError(t, a.Add(ctx, []worker.UserChange{{Tenant: "t", User: "u1"}, {Tenant: "t", User: "u2"}}))
	b.run(t, a, "A")
	require.Eventually(t, func() bool { return a.Stats().EnqueueFailures >= 2 }, 5*time.Second, 10*time.Millisecond)
	require.Zero(t, a.Stats().Dispatched)
	require.Equal(t, int64(1), b.pendingEntries(t))
	backlog, err := a.Backlog(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), backlog)

	// A healthy dispatcher takes the entry over once it has been idle.
	b.run(t, b.ing.WithReclaim(50*time.Millisecond, 300*time.Millisecond), "B")
	b.eventuallyPending(t, "t/u1", "t/u2")
	require.Eventually(t, func() bool { return b.pendingEntries(t) == 0 }, 5*time.Second, 10*time.Millisecond)
	require.GreaterOrEqual(t, b.ing.Stats().Reclaimed, int64(1))
}

func TestIngestDropsUnreadableEntries(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx := context.Background()
	require.NoError(t, b.r.rdb.XAdd(ctx, &redis.XAddArgs{Stream: b.ing.Key(), Values: []string{"t", "not json"}}).Err())
	require.NoError(t, b.ing.Add(ctx, []worker.UserChange{{Tenant: "t", User: "u"}}))
	b.run(t, b.ing, "c1")
	b.eventuallyPending(t, "t/u")
	require.Eventually(t, func() bool { return b.ing.Stats().Dropped == 1 }, 5*time.Second, 10*time.Millisecond)
	require.Eventually(t, func() bool {
		n, err := b.ing.Backlog(ctx)
		return err == nil && n == 0
	}, 5*time.Second, 10*time.Millisecond)
	require.Zero(t, b.pendingEntries(t))
}

func TestIngestStreamIsBounded(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx := context.Background()
	ing := worker.NewIngest(worker.NewStore(b.r.rdb, b.r.prefix), b.q, nil).WithMaxLen(10)
	for n := range 300 {
		require.NoError(t, ing.Add(ctx, []worker.UserChange{{Tenant: "t", User: fmt.Sprint(n)}}))
	}
	backlog, err := ing.Backlog(ctx)
	require.NoError(t, err)
	// Approximate trimming removes whole nodes (100 entries by default).
	require.LessOrEqual(t, backlog, int64(10+100))
	require.GreaterOrEqual(t, backlog, int64(10))
}

func TestIngestRunStopsPromptly(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- b.ing.Run(ctx, "c1") }()
	// Wait until it is blocked reading.
	require.Eventually(t, func() bool {
		n, err := b.r.rdb.Exists(context.Background(), b.ing.Key()).Result()
		return err == nil && n == 1
	}, 5*time.Second, 10*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-done:
		require.NoError(t, err)
		require.Less(t, time.Since(start), 2*time.Second)
	case <-time.After(3 * time.Second):
		t.Fatal("Run did not stop after cancel")
	}
}

func TestIngestRunNeedsAConsumerName(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	require.Error(t, b.ing.Run(context.Background(), ""))
}

// BenchmarkIngestAdd measures the webhook's side (one XADD per request)
// against the real Redis at TEST_REDIS_ADDR, from parallel callers.
func BenchmarkIngestAdd(b *testing.B) {
	addr := os.Getenv("TEST_REDIS_ADDR")
	if addr == "" {
		b.Skip("TEST_REDIS_ADDR not set")
	}
	for _, batch := range []int{1, 50} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			rdb := redis.NewClient(&redis.Options{Addr: addr, DB: queueDB, PoolSize: 64})
			prefix := "psasync-bench-" + randomID() + ":"
			ing := worker.NewIngest(worker.NewStore(rdb, prefix), nil, nil)
			b.Cleanup(func() {
				rdb.Del(context.Background(), ing.Key())
				_ = rdb.Close()
			})
			changes := make([]worker.UserChange, batch)
			for n := range changes {
				changes[n] = worker.UserChange{Tenant: "00000000-0000-4000-8000-000000000001", User: userID(n)}
			}
			b.SetParallelism(8)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := ing.Add(context.Background(), changes); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "notifications/s")
		})
	}
}

// BenchmarkIngestDispatch measures how fast one dispatcher drains the
// stream into the queue (real Redis at TEST_REDIS_ADDR).
func BenchmarkIngestDispatch(b *testing.B) {
	addr := os.Getenv("TEST_REDIS_ADDR")
	if addr == "" {
		b.Skip("TEST_REDIS_ADDR not set")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, DB: queueDB, PoolSize: 64})
	prefix := "psasync-bench-" + randomID() + ":"
	queues := worker.PrefixedQueues(prefix)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	q := worker.NewQueue(asynq.NewClientFromRedisClient(rdb), worker.NewStore(rdb, prefix), time.Minute).WithQueues(queues)
	ing := worker.NewIngest(worker.NewStore(rdb, prefix), q, nil)
	b.Cleanup(func() {
		for _, name := range queues.All() {
			_ = insp.DeleteQueue(name, true)
		}
		ctx := context.Background()
		keys, _ := rdb.Keys(ctx, prefix+"*").Result()
		if len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		_ = rdb.Close()
	})
	ctx := context.Background()
	for start := 0; start < b.N; start += 50 {
		changes := make([]worker.UserChange, 0, 50)
		for n := start; n < min(start+50, b.N); n++ {
			changes = append(changes, worker.UserChange{Tenant: "bench", User: userID(n)})
		}
		require.NoError(b, ing.Add(ctx, changes))
	}
	b.ResetTimer()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- ing.Run(runCtx, "bench") }()
	for ing.Stats().Enqueued < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	b.StopTimer()
	cancel()
	require.NoError(b, <-done)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "users/s")
}

func TestIngestRecreatesALostGroup(t *testing.T) {
	t.Parallel()
	b := newIngestBundle(t)
	ctx := context.Background()
	b.run(t, b.ing, "c1")
	require.Eventually(t, func() bool {
		n, err := b.r.rdb.Exists(ctx, b.ing.Key()).Result()
		return err == nil && n == 1
	}, 5*time.Second, 10*time.Millisecond)
	// The stream (and with it the group) vanishes, as after a flush.
	require.NoError(t, b.r.rdb.Del(ctx, b.ing.Key()).Err())
	require.NoError(t, b.ing.Add(ctx, []worker.UserChange{{Tenant: "t", User: "u"}}))
	b.eventuallyPending(t, "t/u")
}
