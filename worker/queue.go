package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Queue enqueues psasync's jobs. Per-user jobs coalesce: the first
// notification after a quiet spell runs at once (leading edge); the rest of
// that window collapse into one job at the window's end (trailing edge). The
// trailing job reads the user when it runs, so it carries every change of
// the window, and a notification that arrives while a job runs always gets
// a job after it: none is lost, and a burst costs at most two PSA writes per
// window.
//
// Keys (prefix P): P coalesce:{tenant}:{user} holds the window's start (unix
// ms) and expires with the window.
type Queue struct {
	client *asynq.Client
	rdb    redis.UniversalClient
	prefix string
	window time.Duration
	now    func() time.Time
	queues Queues
}

// WithQueues makes the queue enqueue into names (a prefixed set) instead of
// the default queues; call it right after NewQueue.
func (q *Queue) WithQueues(names Queues) *Queue {
	q.queues = names
	return q
}

// Queues are the queue names this Queue enqueues into.
func (q *Queue) Queues() Queues { return q.queues }

// NewQueue wraps an asynq client and the Redis used for coalescing windows;
// window 0 means one second.
func NewQueue(client *asynq.Client, rdb redis.UniversalClient, prefix string, window time.Duration) *Queue {
	if prefix == "" {
		prefix = "psasync:"
	}
	if window <= 0 {
		window = time.Second
	}
	return &Queue{client: client, rdb: rdb, prefix: prefix, window: window, now: time.Now, queues: DefaultQueues}
}

// openWindow starts a window for the user or returns the open one's start.
// KEYS[1] coalesce key; ARGV[1] now (unix ms); ARGV[2] window (ms).
// Returns {1, now} when this call opened the window, {0, start} otherwise.
var openWindow = redis.NewScript(`
local ok = redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
if ok then return {1, ARGV[1]} end
local start = redis.call('GET', KEYS[1])
if not start then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, ARGV[1]}
end
return {0, start}
`)

// EnqueueUserSync durably enqueues a sync of one user; nil means the job is
// in Redis (a duplicate of an already scheduled trailing job counts).
func (q *Queue) EnqueueUserSync(ctx context.Context, tenant, user string) error {
	now := q.now()
	key := q.prefix + "coalesce:" + tenant + ":" + user
	res, err := openWindow.Run(ctx, q.rdb, []string{key}, now.UnixMilli(), q.window.Milliseconds()).Slice()
	if err != nil {
		return fmt.Errorf("coalesce user %s: %w", user, err)
	}
	opened, _ := res[0].(int64)
	startMS, _ := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	var opts []asynq.Option
	var id string
	if opened == 1 {
		id = fmt.Sprintf("user:%s:%s:lead:%d:%s", tenant, user, startMS, randomSuffix())
	} else {
		end := time.UnixMilli(startMS).Add(q.window)
		// asynq schedules in whole seconds: round up so the job runs after the window.
		at := end.Truncate(time.Second)
		if at.Before(end) {
			at = at.Add(time.Second)
		}
		id = fmt.Sprintf("user:%s:%s:trail:%d", tenant, user, startMS)
		opts = append(opts, asynq.ProcessAt(at))
	}
	t, err := NewUserSyncTask(tenant, user, append(opts, asynq.TaskID(id), asynq.Retention(0), asynq.Queue(q.queues.Default))...)
	if err != nil {
		return err
	}
	_, err = q.client.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil // the window's trailing job is already waiting
	}
	if err != nil {
		return fmt.Errorf("enqueue sync of user %s: %w", user, err)
	}
	return nil
}

// EnqueueRun records a queued run and enqueues it; the run id is returned
// for the runs API. id may be "" for a fresh random one; a scheduled run
// passes an id per tenant and period so replicas cannot double it.
func (q *Queue) EnqueueRun(ctx context.Context, store *Store, id string, in RunInputs, opts ...asynq.Option) (string, error) {
	if err := in.Validate(); err != nil {
		return "", err
	}
	if id == "" {
		id = "run-" + q.now().UTC().Format("20060102T150405") + "-" + randomSuffix()
	}
	t, err := NewTenantSyncTask(id, in, append([]asynq.Option{asynq.TaskID(id), asynq.Queue(q.queues.Low)}, opts...)...)
	if err != nil {
		return "", err
	}
	// The record goes first, and only if the id is new: a worker that
	// finishes the run quickly must not find its report overwritten by
	// "queued", and a second replica's run of the same period is refused.
	created, err := store.createRun(ctx, RunRecord{ID: id, State: RunQueued, Inputs: in, CreatedAt: q.now().UTC()})
	if err != nil {
		return "", err
	}
	if !created {
		return id, fmt.Errorf("run %s exists: %w", id, asynq.ErrTaskIDConflict)
	}
	if _, err := q.client.EnqueueContext(ctx, t); err != nil {
		if errors.Is(err, asynq.ErrTaskIDConflict) {
			return id, err
		}
		store.deleteRun(context.WithoutCancel(ctx), id)
		return "", fmt.Errorf("enqueue run %s: %w", id, err)
	}
	return id, nil
}

// EnqueueSubscription enqueues a subscription job.
func (q *Queue) EnqueueSubscription(ctx context.Context, typ string, p SubscriptionPayload, opts ...asynq.Option) error {
	t, err := NewSubscriptionTask(typ, p, append([]asynq.Option{asynq.Queue(q.queues.Critical)}, opts...)...)
	if err != nil {
		return err
	}
	_, err = q.client.EnqueueContext(ctx, t)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enqueue %s for tenant %s: %w", typ, p.Tenant, err)
	}
	return nil
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
