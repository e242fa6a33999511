package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// ErrUserLocked is returned when another job of the same user is running;
// the job is retried shortly without counting as a failure.
var ErrUserLocked = errors.New("another job of this user is running")

// ErrTenantBusy is returned when a run of the same tenant is in progress:
// one writer per tenant at a time keeps a run's snapshot and a user job from
// both creating the same contact. The job is retried without counting as a
// failure.
var ErrTenantBusy = errors.New("a sync run of this tenant is in progress")

func (s *Store) tenantLockKey(tenant string) string { return s.prefix + "lock:tenant:" + tenant }

// renewLock extends the lock only if it is still ours.
// KEYS[1] lock key; ARGV[1] token; ARGV[2] ttl (ms). Returns 1 when renewed.
var renewLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// lockTenant takes the tenant's run lock, kept while the run runs, or
// returns ErrTenantBusy.
func (s *Store) lockTenant(ctx context.Context, tenant string, ttl time.Duration) (func(), error) {
	key, token := s.tenantLockKey(tenant), randomSuffix()
	ok, err := s.rdb.SetNX(ctx, key, token, ttl).Result()
	if err != nil {
		return nil, fmt.Errorf("lock tenant %s: %w", tenant, err)
	}
	if !ok {
		return nil, ErrTenantBusy
	}
	return s.keepLock(key, token, ttl), nil
}

// lockUser takes a user's lock, waiting up to wait (polling) while another
// holder has it; waited says the lock was contended, so the caller's view
// of the user may be stale. ErrUserLocked when it stayed taken.
func (s *Store) lockUser(ctx context.Context, tenant, user string, ttl, wait time.Duration) (func(), bool, error) {
	key := s.prefix + "lock:user:" + tenant + ":" + user
	token := randomSuffix()
	deadline := time.Now().Add(wait)
	waited := false
	for {
		ok, err := s.rdb.SetNX(ctx, key, token, ttl).Result()
		if err != nil {
			return nil, waited, fmt.Errorf("lock user %s: %w", user, err)
		}
		if ok {
			return s.keepLock(key, token, ttl), waited, nil
		}
		if !time.Now().Before(deadline) {
			return nil, waited, ErrUserLocked
		}
		waited = true
		t := time.NewTimer(100 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, waited, ctx.Err()
		case <-t.C:
		}
	}
}

// keepLock renews a held lock every third of its TTL until the returned
// release is called, which then deletes it if it is still ours. A holder
// that dies stops renewing, so its lock frees itself within one TTL.
func (s *Store) keepLock(key, token string, ttl time.Duration) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				renewLock.Run(context.Background(), s.rdb, []string{key}, token, ttl.Milliseconds())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			releaseLock.Run(context.Background(), s.rdb, []string{key}, token)
		})
	}
}

// tenantBusy reports whether a run holds the tenant's lock.
func (s *Store) tenantBusy(ctx context.Context, tenant string) (bool, error) {
	n, err := s.rdb.Exists(ctx, s.tenantLockKey(tenant)).Result()
	if err != nil {
		return false, fmt.Errorf("check tenant %s lock: %w", tenant, err)
	}
	return n > 0, nil
}

// UserSyncHandler runs user:sync jobs.
type UserSyncHandler struct {
	Engine *Engine
	Log    logrus.FieldLogger
	// LockTTL bounds how long a crashed worker's lock blocks the user; the
	// lock is renewed while the job runs (default 30 s).
	LockTTL time.Duration
	// Observe, when set, sees every outcome (metrics).
	Observe func(UserOutcome)
}

// releaseLock deletes the lock only if it is still ours.
// KEYS[1] lock key; ARGV[1] token. Returns 1 when deleted.
var releaseLock = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// ProcessTask syncs one user under a per-user lock.
func (h *UserSyncHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p UserSyncPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Tenant == "" || p.User == "" {
		return fmt.Errorf("user:sync payload %q: want tenant and user: %w", t.Payload(), asynq.SkipRetry)
	}
	s := h.Engine.store
	if busy, err := s.tenantBusy(ctx, p.Tenant); err != nil {
		return err
	} else if busy {
		return ErrTenantBusy
	}
	ttl := h.LockTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	release, _, err := s.lockUser(ctx, p.Tenant, p.User, ttl, 0)
	if err != nil {
		return err
	}
	defer release()

	out, err := h.Engine.SyncUser(ctx, p.Tenant, p.User)
	log := h.logger().WithFields(logrus.Fields{"tenant": p.Tenant, "user": p.User, "action": out.Action})
	if id, ok := asynq.GetTaskID(ctx); ok {
		log = log.WithField("task_id", id)
	}
	if b, merr := json.Marshal(out); merr == nil {
		s.rdb.Set(ctx, s.prefix+"outcome:"+p.Tenant+":"+p.User, b, s.RunTTL)
	}
	if h.Observe != nil {
		h.Observe(out)
	}
	var perm *PermanentError
	switch {
	case errors.As(err, &perm):
		log.WithField("code", out.Code).Warn(out.Message)
		return fmt.Errorf("%s %s (tenant %s): %w: %w", out.Code, out.UserPrincipalName, p.Tenant, err, asynq.SkipRetry)
	case err != nil:
		log.WithError(err).WithField("code", out.Code).Warn("user sync failed; will retry")
		return fmt.Errorf("%s %s (tenant %s): %w", out.Code, out.UserPrincipalName, p.Tenant, err)
	}
	log.WithField("changed_fields", out.ChangedFields).Info("user synced")
	return nil
}

func (h *UserSyncHandler) logger() logrus.FieldLogger {
	if h.Log != nil {
		return h.Log
	}
	return h.Engine.log
}

// Outcome returns the last recorded outcome of a user's job.
func (s *Store) Outcome(ctx context.Context, tenant, user string) (UserOutcome, bool, error) {
	b, err := s.rdb.Get(ctx, s.prefix+"outcome:"+tenant+":"+user).Bytes()
	if errors.Is(err, redis.Nil) {
		return UserOutcome{}, false, nil
	}
	if err != nil {
		return UserOutcome{}, false, fmt.Errorf("read outcome of user %s: %w", user, err)
	}
	var o UserOutcome
	if err := json.Unmarshal(b, &o); err != nil {
		return UserOutcome{}, false, fmt.Errorf("decode outcome of user %s: %w", user, err)
	}
	return o, true, nil
}

// TenantSyncHandler runs tenant:sync jobs and keeps their run records.
type TenantSyncHandler struct {
	Engine *Engine
	Log    logrus.FieldLogger
	// Observe, when set, sees every finished report (metrics).
	Observe func(*Report)
}

// ProcessTask performs the run and stores its record for the runs API.
func (h *TenantSyncHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p TenantSyncPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.RunID == "" {
		return fmt.Errorf("tenant:sync payload: want run_id and inputs: %w", asynq.SkipRetry)
	}
	s := h.Engine.store
	if busy, err := s.tenantBusy(ctx, p.Inputs.Tenant); err != nil {
		return err
	} else if busy {
		return ErrTenantBusy
	}
	rec, ok, err := s.Run(ctx, p.RunID)
	if err != nil {
		return err
	}
	if !ok {
		rec = RunRecord{ID: p.RunID, Inputs: p.Inputs, CreatedAt: h.Engine.cfg.Now().UTC()}
	}
	started := h.Engine.cfg.Now().UTC()
	rec.State, rec.StartedAt = RunRunning, &started
	if err := s.SaveRun(ctx, rec); err != nil {
		return err
	}
	rep, err := h.Engine.Run(ctx, p.RunID, p.Inputs)
	if errors.Is(err, ErrTenantBusy) {
		rec.State, rec.StartedAt = RunQueued, nil
		_ = s.SaveRun(context.WithoutCancel(ctx), rec)
		return err
	}
	finished := h.Engine.cfg.Now().UTC()
	rec.FinishedAt = &finished
	if err != nil {
		rec.State, rec.Error = RunFailed, err.Error()
		if serr := s.SaveRun(context.WithoutCancel(ctx), rec); serr != nil {
			return serr
		}
		return fmt.Errorf("run %s: %w: %w", p.RunID, err, asynq.SkipRetry)
	}
	rec.Report = rep
	rec.State = RunSucceeded
	if !rep.Success {
		rec.State = RunFailed
	}
	if h.Observe != nil {
		h.Observe(rep)
	}
	if err := s.SaveRun(context.WithoutCancel(ctx), rec); err != nil {
		return err
	}
	// A run's failures are per user and in its report; re-running the whole
	// run would not fix them, and the next scheduled run retries them.
	return nil
}

// RetryDelay is asynq's RetryDelayFunc: it honours the Retry-After a PSA or
// Graph sent, retries a locked user quickly, and backs off otherwise.
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if errors.Is(err, ErrUserLocked) {
		return 300 * time.Millisecond
	}
	if errors.Is(err, ErrTenantBusy) {
		return 2 * time.Second
	}
	if errors.Is(err, asynq.ErrLeaseExpired) {
		// The worker that had the job died: run it again at once.
		return time.Second
	}
	if d, ok := retryDelay(err); ok && d > 0 {
		return d + 100*time.Millisecond
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// IsFailure is asynq's IsFailure: waiting for a lock or a rate limit is not a
// failure, so it does not use up the job's retries.
func IsFailure(err error) bool {
	if errors.Is(err, ErrUserLocked) || errors.Is(err, ErrTenantBusy) || errors.Is(err, psa.ErrRateLimited) || errors.Is(err, directory.ErrThrottled) {
		return false
	}
	return true
}

// ServerConfig is the asynq server configuration psasync's workers use.
func ServerConfig(concurrency int, log asynq.Logger) asynq.Config {
	return ServerConfigFor(concurrency, log, DefaultQueues)
}

// ServerConfigFor is ServerConfig for queues with a prefix.
func ServerConfigFor(concurrency int, log asynq.Logger, queues Queues) asynq.Config {
	return asynq.Config{
		Concurrency:              concurrency,
		Queues:                   queues.Weights(),
		RetryDelayFunc:           RetryDelay,
		IsFailure:                IsFailure,
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		// An idle worker looks for new jobs ten times a second (asynq's
		// default is once a second), so a notification reaches the PSA
		// within about a second; the cost is a few Redis calls a second.
		TaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout:   25 * time.Second,
		Logger:            log,
	}
}
