package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/psasync/psasync/internal/redislock"
	"github.com/psasync/psasync/ledger"
)

// Store keeps the worker's state in Redis and owns every worker key. Redis
// is a cache here: losing it costs time (matching falls back to the PSA),
// never a duplicate.
//
// Keys (prefix P as configured; config.DefaultKeyPrefix when unset):
//
//	P link:{tenant}              hash   user id -> JSON link {contact_id, company_id}
//	P delta:{tenant}             string the tenant's Graph delta link
//	P outcome:{tenant}:{user}    string JSON UserOutcome of the user's last job, expires after RunTTL
//
// Run records live in the ledger (runs.go), which keeps the newest ones of
// each tenant.
//
//	P lock:user:{tenant}:{user}  string per-user lock token (internal/redislock)
//	P lock:tenant:{tenant}       string per-tenant run lock token, renewed while a run runs
//	P coalesce:{tenant}:{user}   string start (unix ms) of the user's open coalescing window; expires with it
//	P pending:{tenant}:{user}    string task id of the user's job that has not started yet (see EnqueueUserSync)
//	P ingest                     stream accepted notifications, consumer group "dispatch" (see Ingest)
//
// Scripts: openWindow and clearPending (below); the lock scripts live in
// internal/redislock.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	// RunTTL is how long job outcomes are kept.
	RunTTL time.Duration
	// ledger keeps the run records (and, for the engine, the change log).
	ledger *ledger.Ledger
}

// NewStore wraps a Redis client; every key starts with prefix, as given.
// Run records go to a ledger with default options until the engine gives
// the store its own (Config.Ledger).
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix, RunTTL: 30 * 24 * time.Hour, ledger: ledger.New(rdb, prefix, ledger.Options{})}
}

func (s *Store) linkKey(tenant string) string  { return s.prefix + "link:" + tenant }
func (s *Store) deltaKey(tenant string) string { return s.prefix + "delta:" + tenant }
func (s *Store) outcomeKey(tenant, user string) string {
	return s.prefix + "outcome:" + tenant + ":" + user
}
func (s *Store) userLockKey(tenant, user string) string {
	return s.prefix + "lock:user:" + tenant + ":" + user
}
func (s *Store) tenantLockKey(tenant string) string { return s.prefix + "lock:tenant:" + tenant }
func (s *Store) coalesceKey(tenant, user string) string {
	return s.prefix + "coalesce:" + tenant + ":" + user
}
func (s *Store) pendingKey(tenant, user string) string {
	return s.prefix + "pending:" + tenant + ":" + user
}

// IngestKey is the ingest stream's key (tests and metrics read it).
func (s *Store) IngestKey() string { return s.prefix + "ingest" }

// Link is the stored association of a Microsoft 365 user with a PSA contact.
type Link struct {
	ContactID string `json:"contact_id"`
	CompanyID string `json:"company_id"`
}

// Links returns every stored link of a tenant, by user id.
func (s *Store) Links(ctx context.Context, tenant string) (map[string]Link, error) {
	raw, err := s.rdb.HGetAll(ctx, s.linkKey(tenant)).Result()
	if err != nil {
		return nil, fmt.Errorf("read links of tenant %s: %w", tenant, err)
	}
	out := make(map[string]Link, len(raw))
	for user, v := range raw {
		var l Link
		if err := json.Unmarshal([]byte(v), &l); err != nil {
			continue // a corrupt cache entry only costs a lookup in the PSA
		}
		out[user] = l
	}
	return out, nil
}

// GetLink returns the stored link of one user.
func (s *Store) GetLink(ctx context.Context, tenant, user string) (Link, bool, error) {
	v, err := s.rdb.HGet(ctx, s.linkKey(tenant), user).Result()
	if errors.Is(err, redis.Nil) {
		return Link{}, false, nil
	}
	if err != nil {
		return Link{}, false, fmt.Errorf("read link of user %s: %w", user, err)
	}
	var l Link
	if err := json.Unmarshal([]byte(v), &l); err != nil {
		return Link{}, false, nil
	}
	return l, true, nil
}

// SetLink stores the link of one user.
func (s *Store) SetLink(ctx context.Context, tenant, user string, l Link) error {
	b, _ := json.Marshal(l)
	if err := s.rdb.HSet(ctx, s.linkKey(tenant), user, b).Err(); err != nil {
		return fmt.Errorf("store link of user %s: %w", user, err)
	}
	return nil
}

// DeltaLink returns the tenant's stored delta link ("" when none).
func (s *Store) DeltaLink(ctx context.Context, tenant string) (string, error) {
	v, err := s.rdb.Get(ctx, s.deltaKey(tenant)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read delta link of tenant %s: %w", tenant, err)
	}
	return v, nil
}

// SetDeltaLink stores the tenant's delta link ("" deletes it).
func (s *Store) SetDeltaLink(ctx context.Context, tenant, link string) error {
	key := s.deltaKey(tenant)
	var err error
	if link == "" {
		err = s.rdb.Del(ctx, key).Err()
	} else {
		err = s.rdb.Set(ctx, key, link, 0).Err()
	}
	if err != nil {
		return fmt.Errorf("store delta link of tenant %s: %w", tenant, err)
	}
	return nil
}

// getJSON reads and decodes the JSON value at key; what names it in errors.
func getJSON[T any](ctx context.Context, rdb redis.UniversalClient, key, what string) (T, bool, error) {
	var v T
	b, err := rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return v, false, nil
	}
	if err != nil {
		return v, false, fmt.Errorf("read %s: %w", what, err)
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("decode %s: %w", what, err)
	}
	return v, true, nil
}

// ErrUserLocked is returned when another job of the same user is running;
// the job is retried shortly without counting as a failure.
var ErrUserLocked = errors.New("another job of this user is running")

// ErrTenantBusy is returned when a run of the same tenant is in progress:
// one writer per tenant at a time keeps a run's snapshot and a user job from
// both creating the same contact. The job is retried without counting as a
// failure.
var ErrTenantBusy = errors.New("a sync run of this tenant is in progress")

// lockTenant takes the tenant's run lock, kept while the run runs, or
// returns ErrTenantBusy.
func (s *Store) lockTenant(ctx context.Context, tenant string, ttl time.Duration) (*redislock.Lock, error) {
	l, err := redislock.Acquire(ctx, s.rdb, s.tenantLockKey(tenant), ttl, redislock.Options{})
	if errors.Is(err, redislock.ErrHeld) {
		return nil, ErrTenantBusy
	}
	return l, err
}

// tenantBusy reports whether a run holds the tenant's lock.
func (s *Store) tenantBusy(ctx context.Context, tenant string) (bool, error) {
	return redislock.Held(ctx, s.rdb, s.tenantLockKey(tenant))
}

// lockUser takes a user's lock, waiting up to wait while another holder has
// it; the lock's Contended says the caller's view of the user may be stale.
// ErrUserLocked when it stayed taken.
func (s *Store) lockUser(ctx context.Context, tenant, user string, ttl, wait time.Duration) (*redislock.Lock, error) {
	l, err := redislock.Acquire(ctx, s.rdb, s.userLockKey(tenant, user), ttl, redislock.Options{Wait: wait})
	if errors.Is(err, redislock.ErrHeld) {
		return nil, ErrUserLocked
	}
	return l, err
}

// SaveUserOutcome keeps a job's outcome as the user's last one.
func (s *Store) SaveUserOutcome(ctx context.Context, o UserOutcome) error {
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("encode outcome of user %s: %w", o.UserID, err)
	}
	if err := s.rdb.Set(ctx, s.outcomeKey(o.TenantID, o.UserID), b, s.RunTTL).Err(); err != nil {
		return fmt.Errorf("store outcome of user %s: %w", o.UserID, err)
	}
	return nil
}

// UserOutcome returns the last recorded outcome of a user's job.
func (s *Store) UserOutcome(ctx context.Context, tenant, user string) (UserOutcome, bool, error) {
	return getJSON[UserOutcome](ctx, s.rdb, s.outcomeKey(tenant, user), "outcome of user "+user)
}

// openWindow starts a coalescing window for the user or returns the open
// one's start.
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

// openWindow opens the user's coalescing window at now, or reports the
// start of the one already open.
func (s *Store) openWindow(ctx context.Context, tenant, user string, now time.Time, window time.Duration) (opened bool, start time.Time, err error) {
	res, err := openWindow.Run(ctx, s.rdb, []string{s.coalesceKey(tenant, user)}, now.UnixMilli(), window.Milliseconds()).Slice()
	if err != nil {
		return false, time.Time{}, fmt.Errorf("coalesce user %s: %w", user, err)
	}
	flag, _ := res[0].(int64)
	ms, _ := strconv.ParseInt(fmt.Sprint(res[1]), 10, 64)
	return flag == 1, time.UnixMilli(ms), nil
}

// pendingTTL only collects markers nobody cleared; correctness comes from
// checking the named task's state, not from the expiry.
const pendingTTL = 24 * time.Hour

// pendingJob returns the task id of the user's job that has not started
// yet ("" when none is recorded).
func (s *Store) pendingJob(ctx context.Context, tenant, user string) (string, error) {
	id, err := s.rdb.Get(ctx, s.pendingKey(tenant, user)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read pending job of user %s: %w", user, err)
	}
	return id, nil
}

// setPendingJob records id as the user's job that has not started yet.
func (s *Store) setPendingJob(ctx context.Context, tenant, user, id string) error {
	if err := s.rdb.Set(ctx, s.pendingKey(tenant, user), id, pendingTTL).Err(); err != nil {
		return fmt.Errorf("record pending job of user %s: %w", user, err)
	}
	return nil
}

// clearPending deletes the user's pending marker only if it still names id.
// KEYS[1] pending key; ARGV[1] task id. Returns 1 when deleted.
var clearPending = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// jobStarted clears the pending marker of a job that is about to read the
// user, so a change from now on gets a job of its own.
func (s *Store) jobStarted(ctx context.Context, tenant, user, id string) error {
	if err := clearPending.Run(ctx, s.rdb, []string{s.pendingKey(tenant, user)}, id).Err(); err != nil {
		return fmt.Errorf("clear pending job of user %s: %w", user, err)
	}
	return nil
}
