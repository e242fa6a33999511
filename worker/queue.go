package worker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Queue enqueues psasync's jobs: per-user syncs (coalesced, see
// EnqueueUserSync in ingest.go), runs and subscription jobs.
type Queue struct {
	client    *asynq.Client
	inspector *asynq.Inspector
	store     *Store
	window    time.Duration
	now       func() time.Time
	queues    Queues
}

// WithQueues makes the queue enqueue into names (a prefixed set) instead of
// the default queues; call it right after NewQueue.
func (q *Queue) WithQueues(names Queues) *Queue {
	q.queues = names
	return q
}

// Queues are the queue names this Queue enqueues into.
func (q *Queue) Queues() Queues { return q.queues }

// NewQueue wraps an asynq client; store holds the coalescing windows and
// run records. window 0 means one second.
func NewQueue(client *asynq.Client, store *Store, window time.Duration) *Queue {
	if window <= 0 {
		window = time.Second
	}
	return &Queue{client: client, inspector: asynq.NewInspectorFromRedisClient(store.rdb), store: store, window: window, now: time.Now, queues: DefaultQueues}
}

// EnqueueRun records a queued run and enqueues it; the run id is returned
// for the runs API. id may be "" for a fresh random one; a scheduled run
// passes an id per tenant and period so replicas cannot double it.
func (q *Queue) EnqueueRun(ctx context.Context, id string, in RunInputs, opts ...asynq.Option) (string, error) {
	store := q.store
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
