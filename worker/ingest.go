package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
)

// UserChange is one accepted notification: which user of which tenant
// changed. The job reads the user when it runs, so nothing else is needed.
type UserChange struct {
	Tenant, User string
}

// Ingest defaults; the With methods change the ones tests and operators
// need to tune.
const (
	// DefaultIngestMaxLen is the stream bound WithMaxLen suggests for a
	// Redis with little room (approximately, in entries); the default is
	// unbounded (see Ingest).
	DefaultIngestMaxLen = 1_000_000
	// DefaultReclaimIdle is how long an entry may sit read but unacked by
	// a consumer before another dispatcher takes it over.
	DefaultReclaimIdle = 15 * time.Second
	// DefaultReclaimEvery is how often a dispatcher looks for such entries.
	DefaultReclaimEvery = 5 * time.Second

	ingestGroup     = "dispatch"
	ingestReadCount = 100
	// ingestPoll is how long an idle dispatcher waits before reading again.
	// It polls instead of blocking in XREADGROUP: a blocked read can hang on
	// a connection whose server restarted (seen with the embedded Redis),
	// and polling costs an idle dispatcher only a few calls a second.
	ingestPoll         = 25 * time.Millisecond
	ingestParallelism  = 16
	ingestBackoffMin   = 100 * time.Millisecond
	ingestBackoffMax   = 5 * time.Second
	ingestFinishBatch  = 10 * time.Second
	ingestReclaimPages = 50
)

// Ingest takes accepted notifications with ONE Redis write per webhook
// request and hands them to the queue in the background, so the webhook's
// answer costs one round trip however many notifications a POST carries.
//
// The stream's key is Store.IngestKey, with consumer group "dispatch".
// Each entry is one Add call; its fields are tenant ids and each value is a
// JSON array of that tenant's user ids (de-duplicated). Dispatchers
// (Run) read entries with XREADGROUP, enqueue a user sync per (tenant, user)
// through Queue.EnqueueUserSync, then XACK and XDEL the entry, so the
// stream only holds what is not yet dispatched. An entry whose enqueue
// failed stays pending and is taken over (XAUTOCLAIM) once idle, by this or
// any other dispatcher: delivery is at least once, and Queue's coalescing
// absorbs the duplicates.
//
// Bound: none by default. If every dispatcher is down the stream grows
// (about 100 bytes per single-change entry plus about 40 per further
// user) until Redis, which must run with maxmemory-policy noeviction,
// refuses the XADD: the webhook then answers 503 and Graph delivers again,
// so nothing is dropped. WithMaxLen trims with MAXLEN ~ instead, at the
// price of dropping the oldest entries (read or not); their users then only
// catch up at the next tenant sync.
type Ingest struct {
	rdb          redis.UniversalClient
	q            *Queue
	key          string
	log          logrus.FieldLogger
	maxLen       int64
	reclaimIdle  time.Duration
	reclaimEvery time.Duration
	// replicaAcks and replicaWait make Add wait for replicas (WithReplicaAcks).
	replicaAcks int
	replicaWait time.Duration

	added, changes, dispatched, enqueued, failures, reclaimed, dropped atomic.Int64
}

// IngestStats counts what one Ingest did since it was built, for metrics
// and tests.
type IngestStats struct {
	// Added is the number of entries (Add calls) Redis acknowledged.
	Added int64
	// Changes is the number of (tenant, user) pairs those entries hold.
	Changes int64
	// Dispatched is the number of entries enqueued and acknowledged.
	Dispatched int64
	// Enqueued is the number of user syncs enqueued.
	Enqueued int64
	// EnqueueFailures is the number of user syncs that failed to enqueue
	// (their entries are retried).
	EnqueueFailures int64
	// Reclaimed is the number of entries taken over from idle consumers.
	Reclaimed int64
	// Dropped is the number of unreadable entries discarded.
	Dropped int64
}

// NewIngest builds the ingest stream in store's Redis, dispatching into q.
// The logger reports dispatch failures.
func NewIngest(store *Store, q *Queue, log logrus.FieldLogger) *Ingest {
	if log == nil {
		l := logrus.New()
		l.Out = io.Discard
		log = l
	}
	return &Ingest{rdb: store.rdb, q: q, key: store.IngestKey(), log: log, maxLen: 0,
		reclaimIdle: DefaultReclaimIdle, reclaimEvery: DefaultReclaimEvery}
}

// WithReclaim sets how often Run looks for entries left pending by another
// consumer and how long they must have been idle; 0 keeps a default. Call
// it right after NewIngest.
func (i *Ingest) WithReclaim(every, idle time.Duration) *Ingest {
	if every > 0 {
		i.reclaimEvery = every
	}
	if idle > 0 {
		i.reclaimIdle = idle
	}
	return i
}

// WithMaxLen sets an approximate stream bound in entries (see Ingest);
// n <= 0 means unbounded. Call it right after NewIngest.
func (i *Ingest) WithMaxLen(n int64) *Ingest {
	i.maxLen = max(n, 0)
	return i
}

// WithReplicaAcks makes Add return only once n replicas hold the entry
// (Redis WAIT, bounded by timeout), and fail otherwise: with Sentinel, an
// entry the master acknowledged but had not yet sent to a replica is lost
// when the master dies and the replica takes over. n <= 0 turns it off.
// Call it right after NewIngest.
func (i *Ingest) WithReplicaAcks(n int, timeout time.Duration) *Ingest {
	i.replicaAcks, i.replicaWait = max(n, 0), timeout
	return i
}

// Key is the stream's Redis key.
func (i *Ingest) Key() string { return i.key }

// Stats returns the counters so far.
func (i *Ingest) Stats() IngestStats {
	return IngestStats{
		Added: i.added.Load(), Changes: i.changes.Load(), Dispatched: i.dispatched.Load(),
		Enqueued: i.enqueued.Load(), EnqueueFailures: i.failures.Load(), Reclaimed: i.reclaimed.Load(),
		Dropped: i.dropped.Load(),
	}
}

// Backlog is the number of entries not yet dispatched (read or not), for
// a queue-depth gauge.
func (i *Ingest) Backlog(ctx context.Context) (int64, error) {
	n, err := i.rdb.XLen(ctx, i.key).Result()
	if err != nil {
		return 0, fmt.Errorf("ingest backlog: %w", err)
	}
	return n, nil
}

// Add appends one stream entry holding all changes and returns once Redis
// acknowledged it; nil means the changes will be enqueued, an error means
// nothing is promised. No changes is a no-op.
func (i *Ingest) Add(ctx context.Context, changes []UserChange) error {
	if len(changes) == 0 {
		return nil
	}
	values, n, err := encodeChanges(changes)
	if err != nil {
		return err
	}
	args := &redis.XAddArgs{Stream: i.key, MaxLen: i.maxLen, Approx: true, Values: values}
	if i.replicaAcks > 0 {
		err = i.addReplicated(ctx, args)
	} else {
		err = i.rdb.XAdd(ctx, args).Err()
	}
	if err != nil {
		return fmt.Errorf("ingest add %d changes: %w", n, err)
	}
	i.added.Add(1)
	i.changes.Add(int64(n))
	return nil
}

// addReplicated sends XADD and WAIT in one pipeline: WAIT counts the
// replicas holding this connection's writes, so both must share it.
func (i *Ingest) addReplicated(ctx context.Context, args *redis.XAddArgs) error {
	var wait *redis.Cmd
	_, err := i.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.XAdd(ctx, args)
		wait = p.Do(ctx, "WAIT", i.replicaAcks, i.replicaWait.Milliseconds())
		return nil
	})
	if err != nil {
		return err
	}
	if got, _ := wait.Int64(); got < int64(i.replicaAcks) {
		return fmt.Errorf("%w: %d of %d replicas acknowledged within %s", ErrNotReplicated, got, i.replicaAcks, i.replicaWait)
	}
	return nil
}

// ErrNotReplicated is returned by Add when too few replicas acknowledged
// the entry in time: the entry is written but could be lost in a
// failover, so the caller must not promise it (the webhook answers 503 and
// Graph delivers again; a repeat costs only a coalesced job).
var ErrNotReplicated = errors.New("ingest entry not replicated")

// encodeChanges groups changes by tenant into field/value pairs (tenant,
// JSON array of users), dropping repeats; n is the number of distinct
// pairs.
func encodeChanges(changes []UserChange) (values []string, n int, err error) {
	var order []string
	byTenant := make(map[string][]string, 1)
	seen := make(map[UserChange]struct{}, len(changes))
	for _, c := range changes {
		if _, dup := seen[c]; dup {
			continue
		}
		seen[c] = struct{}{}
		if _, ok := byTenant[c.Tenant]; !ok {
			order = append(order, c.Tenant)
		}
		byTenant[c.Tenant] = append(byTenant[c.Tenant], c.User)
	}
	values = make([]string, 0, 2*len(order))
	for _, t := range order {
		b, err := json.Marshal(byTenant[t])
		if err != nil {
			return nil, 0, fmt.Errorf("ingest encode tenant %s: %w", t, err)
		}
		values = append(values, t, string(b))
	}
	return values, len(seen), nil
}

// decodeEntry reads an entry back into its distinct changes.
func decodeEntry(m redis.XMessage) ([]UserChange, error) {
	if len(m.Values) == 0 {
		return nil, errors.New("entry has no changes")
	}
	var out []UserChange
	for tenant, v := range m.Values {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("tenant %s: value is %T", tenant, v)
		}
		var users []string
		if err := json.Unmarshal([]byte(s), &users); err != nil {
			return nil, fmt.Errorf("tenant %s: %w", tenant, err)
		}
		for _, u := range users {
			out = append(out, UserChange{Tenant: tenant, User: u})
		}
	}
	return out, nil
}

// Run dispatches entries until ctx ends, then returns nil; consumer names
// this dispatcher in the group and must be unique per process (a stable
// name, such as the host name, lets a restart find its own leftovers at
// once). Redis errors are logged and retried with a bounded backoff.
func (i *Ingest) Run(ctx context.Context, consumer string) error {
	if consumer == "" {
		return errors.New("ingest run: empty consumer name")
	}
	log := i.log.WithField("consumer", consumer)
	var (
		backoff     time.Duration
		needGroup   = true
		nextReclaim time.Time
	)
	fail := func(what string, err error) {
		backoff = min(max(2*backoff, ingestBackoffMin), ingestBackoffMax)
		log.WithError(err).WithField("retry_in", backoff).Warn("ingest: " + what)
		sleepCtx(ctx, backoff)
	}
	for ctx.Err() == nil {
		if needGroup {
			if err := i.ensureGroup(ctx); err != nil {
				if ctx.Err() == nil {
					fail("create consumer group", err)
				}
				continue
			}
			needGroup = false
		}
		if now := time.Now(); !now.Before(nextReclaim) {
			nextReclaim = now.Add(i.reclaimEvery)
			if err := i.reclaim(ctx, consumer); err != nil {
				if ctx.Err() == nil {
					needGroup = redis.HasErrorPrefix(err, "NOGROUP")
					fail("reclaim", err)
				}
				continue
			}
		}
		streams, err := i.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: ingestGroup, Consumer: consumer,
			Streams: []string{i.key, ">"}, Count: ingestReadCount, Block: -1}).Result()
		if errors.Is(err, redis.Nil) || (err == nil && len(streams) == 0) {
			backoff = 0
			sleepCtx(ctx, ingestPoll)
			continue
		}
		if err != nil {
			if ctx.Err() == nil {
				needGroup = redis.HasErrorPrefix(err, "NOGROUP")
				fail("read", err)
			}
			continue
		}
		for _, s := range streams {
			if err := i.dispatch(ctx, s.Messages); err != nil {
				fail("dispatch", err)
				continue
			}
			backoff = 0
		}
	}
	return nil
}

// ensureGroup creates the stream and its group, starting at the stream's
// beginning so entries added before any dispatcher ran are delivered.
func (i *Ingest) ensureGroup(ctx context.Context) error {
	err := i.rdb.XGroupCreateMkStream(ctx, i.key, ingestGroup, "0").Err()
	if err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
		return fmt.Errorf("ingest create group on %s: %w", i.key, err)
	}
	return nil
}

// reclaim takes over and dispatches entries idle in any consumer's pending
// list (its own included: those whose enqueue failed), a bounded number of
// pages per call.
func (i *Ingest) reclaim(ctx context.Context, consumer string) error {
	start := "0-0"
	for range ingestReclaimPages {
		msgs, next, err := i.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: i.key, Group: ingestGroup,
			Consumer: consumer, MinIdle: i.reclaimIdle, Start: start, Count: ingestReadCount}).Result()
		if err != nil {
			return fmt.Errorf("ingest reclaim: %w", err)
		}
		if len(msgs) > 0 {
			i.reclaimed.Add(int64(len(msgs)))
			if err := i.dispatch(ctx, msgs); err != nil {
				return err
			}
		}
		if next == "0-0" || next == "" || ctx.Err() != nil {
			return nil
		}
		start = next
	}
	return nil
}

// dispatch enqueues the distinct users of msgs (in parallel, each once) and
// acknowledges and deletes the entries whose users all made it. Unreadable
// entries (including ones trimmed away while pending) are dropped. A batch
// already read is finished even when ctx ends, within a bound, so a clean
// stop leaves nothing for others to reclaim.
func (i *Ingest) dispatch(ctx context.Context, msgs []redis.XMessage) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ingestFinishBatch)
	defer cancel()
	entries := make([][]UserChange, len(msgs))
	readable := make([]bool, len(msgs))
	failed := map[UserChange]bool{}
	var todo []UserChange
	var poison []string
	for n, m := range msgs {
		changes, err := decodeEntry(m)
		if err != nil {
			i.log.WithError(err).WithField("entry", m.ID).Error("ingest: dropping unreadable entry")
			i.dropped.Add(1)
			poison = append(poison, m.ID)
			continue
		}
		entries[n], readable[n] = changes, true
		for _, c := range changes {
			if _, ok := failed[c]; !ok {
				failed[c] = false
				todo = append(todo, c)
			}
		}
	}
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, ingestParallelism)
	for _, c := range todo {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			err := i.q.EnqueueUserSync(ctx, c.Tenant, c.User)
			if err == nil {
				i.enqueued.Add(1)
				return
			}
			i.failures.Add(1)
			mu.Lock()
			failed[c] = true
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	done := poison
	var ok int64
	for n, m := range msgs {
		if !readable[n] {
			continue
		}
		all := true
		for _, c := range entries[n] {
			all = all && !failed[c]
		}
		if all {
			done = append(done, m.ID)
			ok++
		}
	}
	if len(done) > 0 {
		_, err := i.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.XAck(ctx, i.key, ingestGroup, done...)
			p.XDel(ctx, i.key, done...)
			return nil
		})
		if err != nil {
			return fmt.Errorf("ingest ack %d entries: %w", len(done), err)
		}
		i.dispatched.Add(ok)
	}
	if firstErr != nil {
		return fmt.Errorf("ingest dispatch: %d of %d entries left for retry: %w", len(msgs)-len(done), len(msgs), firstErr)
	}
	return nil
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// EnqueueUserSync durably enqueues a sync of one user; nil means a job
// that will read the user's current state is in Redis.
//
// Per-user jobs coalesce: the first notification after a quiet spell runs
// at once (leading edge); the rest of that window collapse into one job at
// the window's end (trailing edge). The trailing job reads the user when it
// runs, so it carries every change of the window, and a notification that
// arrives while a job runs always gets a job after it: none is lost, and a
// burst costs at most two PSA writes per window.
//
// The backlog is bounded: while the user has a job that has not started yet
// (pending, scheduled or waiting to retry), a notification adds nothing,
// since that job reads the user when it starts. So however many
// notifications arrive while no worker runs, a user has at most two jobs
// waiting (two dispatchers may race past the check at once).
func (q *Queue) EnqueueUserSync(ctx context.Context, tenant, user string) error {
	if waiting, err := q.jobWaiting(ctx, tenant, user); err != nil || waiting {
		return err
	}
	opened, start, err := q.store.openWindow(ctx, tenant, user, q.now(), q.window)
	if err != nil {
		return err
	}
	var opts []asynq.Option
	var id string
	if opened {
		id = fmt.Sprintf("user:%s:%s:lead:%d:%s", tenant, user, start.UnixMilli(), randomSuffix())
	} else {
		end := start.Add(q.window)
		// asynq schedules in whole seconds: round up so the job runs after the window.
		at := end.Truncate(time.Second)
		if at.Before(end) {
			at = at.Add(time.Second)
		}
		id = fmt.Sprintf("user:%s:%s:trail:%d", tenant, user, start.UnixMilli())
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
	// The job is in Redis; failing to record it only costs a second job
	// later, so it is not the notification's error.
	_ = q.store.setPendingJob(ctx, tenant, user, id)
	return nil
}

// jobWaiting reports whether the user's recorded pending job still waits
// to start. A marker whose task is gone, running or finished (a worker took
// it, an operator deleted it) does not count.
func (q *Queue) jobWaiting(ctx context.Context, tenant, user string) (bool, error) {
	id, err := q.store.pendingJob(ctx, tenant, user)
	if err != nil || id == "" {
		return false, err
	}
	ti, err := q.inspector.GetTaskInfo(q.queues.Default, id)
	if errors.Is(err, asynq.ErrTaskNotFound) || errors.Is(err, asynq.ErrQueueNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check pending job of user %s: %w", user, err)
	}
	switch ti.State {
	case asynq.TaskStatePending, asynq.TaskStateScheduled, asynq.TaskStateRetry:
		return true, nil
	}
	return false, nil
}
