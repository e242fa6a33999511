package worker_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/worker"
)

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	task := asynq.NewTask(worker.TypeUserSync, nil)
	rateLimited := func(d time.Duration) error {
		return &psa.Error{Op: "connectwise: get contact", Kind: psa.ErrRateLimited, StatusCode: 429, RetryAfter: d}
	}
	tests := []struct {
		name string
		err  error
		want time.Duration // 0: asynq's default backoff
	}{
		{"user locked", fmt.Errorf("job: %w", worker.ErrUserLocked), 300 * time.Millisecond},
		{"tenant busy", worker.ErrTenantBusy, 2 * time.Second},
		{"psa rate limit with Retry-After", fmt.Errorf("create: %w", rateLimited(7*time.Second)), 7*time.Second + 100*time.Millisecond},
		{"psa fractional Retry-After", rateLimited(2128 * time.Millisecond), 2228 * time.Millisecond},
		{"psa rate limit without Retry-After", rateLimited(0), 1100 * time.Millisecond},
		{"psa 503 with Retry-After", &psa.Error{Op: "op", Kind: psa.ErrConnection, StatusCode: 503, RetryAfter: 4 * time.Second}, 4100 * time.Millisecond},
		{"graph throttled", fmt.Errorf("read user: %w", &directory.ThrottledError{RetryAfter: 30 * time.Second, Kind: directory.ErrThrottled}), 30*time.Second + 100*time.Millisecond},
		{"graph throttled without Retry-After", &directory.ThrottledError{Kind: directory.ErrThrottled}, 1100 * time.Millisecond},
		{"graph 503 with Retry-After", &directory.ThrottledError{RetryAfter: 3 * time.Second, Kind: directory.ErrUnavailable}, 3100 * time.Millisecond},
		{"plain error", errors.New("boom"), 0},
		{"psa 5xx without Retry-After", &psa.Error{Op: "op", Kind: psa.ErrConnection, StatusCode: 502}, 0},
		{"psa invalid", &psa.Error{Op: "op", Kind: psa.ErrInvalid, StatusCode: 400}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, n := range []int{1, 3} {
				got := worker.RetryDelay(n, tt.err, task)
				if tt.want != 0 {
					require.Equal(t, tt.want, got, "retry %d", n)
					continue
				}
				// asynq's default: n^4 + 15 + rand(30)*(n+1) seconds.
				low := time.Duration(n*n*n*n+15) * time.Second
				require.GreaterOrEqual(t, got, low, "retry %d", n)
				require.LessOrEqual(t, got, low+time.Duration(29*(n+1))*time.Second, "retry %d", n)
			}
		})
	}
}

func TestIsFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"user locked", fmt.Errorf("job: %w", worker.ErrUserLocked), false},
		{"tenant busy", worker.ErrTenantBusy, false},
		{"psa rate limited", fmt.Errorf("update: %w", &psa.Error{Op: "op", Kind: psa.ErrRateLimited, RetryAfter: time.Second}), false},
		{"graph throttled", &directory.ThrottledError{RetryAfter: time.Second, Kind: directory.ErrThrottled}, false},
		{"graph unavailable", &directory.ThrottledError{RetryAfter: time.Second, Kind: directory.ErrUnavailable}, true},
		{"psa unreachable", &psa.Error{Op: "op", Kind: psa.ErrConnection}, true},
		{"permanent", fmt.Errorf("x: %w", asynq.SkipRetry), true},
		{"plain", errors.New("boom"), true},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, worker.IsFailure(tt.err), tt.name)
	}
}

func TestServerConfig(t *testing.T) {
	t.Parallel()
	cfg := worker.ServerConfig(7, nil)
	require.Equal(t, 7, cfg.Concurrency)
	require.Equal(t, map[string]int{worker.QueueCritical: 6, worker.QueueDefault: 3, worker.QueueLow: 1}, cfg.Queues)
	require.NotNil(t, cfg.RetryDelayFunc)
	require.NotNil(t, cfg.IsFailure)
	require.Equal(t, 300*time.Millisecond, cfg.RetryDelayFunc(1, worker.ErrUserLocked, nil))
	require.False(t, cfg.IsFailure(worker.ErrTenantBusy))
}

// handlerBundle is a world with a UserSyncHandler over its engine.
type handlerBundle struct {
	*world
	h        *worker.UserSyncHandler
	mu       sync.Mutex
	observed []worker.UserOutcome
	jane     graphsim.User
}

func newHandlerBundle(t *testing.T, o worldOpts) *handlerBundle {
	t.Helper()
	jane := member(1, "jane", "Jane", "Doe")
	o.users = append(o.users, jane)
	b := &handlerBundle{world: newWorld(t, o), jane: jane}
	b.h = &worker.UserSyncHandler{Engine: b.engine, Observe: func(o worker.UserOutcome) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.observed = append(b.observed, o)
	}}
	return b
}

func (b *handlerBundle) process(user string) error {
	task, err := worker.NewUserSyncTask(tenantID, user)
	if err != nil {
		return err
	}
	return b.h.ProcessTask(context.Background(), task)
}

func (b *handlerBundle) userLock(user string) string {
	return b.redis.prefix + "lock:user:" + tenantID + ":" + user
}

// calls counts the requests that reached Graph (beyond the token) and the PSA.
func (b *handlerBundle) calls() int {
	_, _, psaRequests := b.psaStats()
	return psaRequests + b.graph.Stats().Reads
}

func TestUserSyncHandlerBadPayload(t *testing.T) {
	t.Parallel()
	b := newHandlerBundle(t, worldOpts{})
	for _, payload := range []string{``, `not json`, `{"tenant":"contoso"}`, `{"user":"u1"}`, `{"tenant":"","user":""}`, `[1,2]`} {
		err := b.h.ProcessTask(context.Background(), asynq.NewTask(worker.TypeUserSync, []byte(payload)))
		require.ErrorIs(t, err, asynq.SkipRetry, "payload %q is archived, not retried", payload)
		require.ErrorContains(t, err, "want tenant and user")
	}
	require.Zero(t, b.calls())
	require.Empty(t, b.observed)
}

func TestUserSyncHandlerUserLocked(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHandlerBundle(t, worldOpts{})
	require.NoError(t, b.redis.rdb.Set(ctx, b.userLock(b.jane.ID), "running-job", time.Minute).Err())

	err := b.process(b.jane.ID)
	require.ErrorIs(t, err, worker.ErrUserLocked)
	require.False(t, worker.IsFailure(err), "waiting for the lock uses up no retry")
	require.Zero(t, b.calls(), "the engine is not called")
	require.Empty(t, b.observed)
	v, err := b.redis.rdb.Get(ctx, b.userLock(b.jane.ID)).Result()
	require.NoError(t, err)
	require.Equal(t, "running-job", v, "the other job's lock is left alone")

	// Another user of the tenant is not blocked.
	u2 := member(2, "john", "John", "Doe")
	_, err = b.graph.CreateUser(tenantID, u2)
	require.NoError(t, err)
	require.NoError(t, b.process(u2.ID))
}

func TestUserSyncHandlerTenantBusy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHandlerBundle(t, worldOpts{})
	require.NoError(t, b.redis.rdb.Set(ctx, b.redis.prefix+"lock:tenant:"+tenantID, "run", time.Minute).Err())

	err := b.process(b.jane.ID)
	require.ErrorIs(t, err, worker.ErrTenantBusy)
	require.False(t, worker.IsFailure(err))
	require.Zero(t, b.calls())
	n, err := b.redis.rdb.Exists(ctx, b.userLock(b.jane.ID)).Result()
	require.NoError(t, err)
	require.Zero(t, n, "no user lock is taken while the tenant is busy")
}

func TestUserSyncHandlerSyncsAndReleasesTheLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHandlerBundle(t, worldOpts{})

	require.NoError(t, b.process(b.jane.ID))
	require.Len(t, b.withEmail(b.jane.Mail), 1)
	n, err := b.redis.rdb.Exists(ctx, b.userLock(b.jane.ID)).Result()
	require.NoError(t, err)
	require.Zero(t, n, "the lock is released after the job")

	out, ok, err := b.store.UserOutcome(ctx, tenantID, b.jane.ID)
	require.NoError(t, err)
	require.True(t, ok, "the outcome is kept for the runs API")
	require.Equal(t, "created", out.Action)
	require.Equal(t, b.jane.UserPrincipalName, out.UserPrincipalName)
	require.NotEmpty(t, out.ContactID)
	require.Len(t, b.observed, 1)
	require.Equal(t, out, b.observed[0])

	// The next job of the same user can run at once.
	b.updateUser(t, b.jane.ID, map[string]any{"jobTitle": "Lead", "businessPhones": []string{"+1 555 0199"}})
	require.NoError(t, b.process(b.jane.ID))
	out, _, err = b.store.UserOutcome(ctx, tenantID, b.jane.ID)
	require.NoError(t, err)
	require.Equal(t, "updated", out.Action)
	require.ElementsMatch(t, []string{"job_title", "phone"}, out.ChangedFields)

	require.NoError(t, b.process(b.jane.ID))
	out, _, err = b.store.UserOutcome(ctx, tenantID, b.jane.ID)
	require.NoError(t, err)
	require.Equal(t, "skipped", out.Action)
	require.Equal(t, "unchanged", out.Reason)
}

func TestUserSyncHandlerPermanentFailure(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHandlerBundle(t, worldOpts{tenant: func(tn *worker.Tenant) { tn.DefaultCompanyID = "" }})

	err := b.process(b.jane.ID)
	require.ErrorIs(t, err, asynq.SkipRetry, "archived with a readable message")
	require.ErrorContains(t, err, worker.CodeMissingCompanyID)
	require.ErrorContains(t, err, b.jane.UserPrincipalName)
	n, err := b.redis.rdb.Exists(ctx, b.userLock(b.jane.ID)).Result()
	require.NoError(t, err)
	require.Zero(t, n, "the lock is released after a failure too")
	out, ok, err := b.store.UserOutcome(ctx, tenantID, b.jane.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "failed", out.Action)
	require.Equal(t, worker.CodeMissingCompanyID, out.Code)
	require.Zero(t, b.writes())
}

func TestUserSyncHandlerGraphThrottled(t *testing.T) {
	t.Parallel()
	b := newHandlerBundle(t, worldOpts{})
	b.graph.InjectFault(graphsim.Fault{Method: http.MethodGet, PathContains: "/users/", Status: http.StatusTooManyRequests, RetryAfter: "30", Count: 1})

	err := b.process(b.jane.ID)
	require.Error(t, err)
	require.NotErrorIs(t, err, asynq.SkipRetry)
	require.False(t, worker.IsFailure(err), "a rate limit uses up no retry")
	require.Equal(t, 30*time.Second+100*time.Millisecond, worker.RetryDelay(1, err, nil), "Graph's Retry-After is honoured")
	require.Zero(t, b.writes())
	require.NoError(t, b.process(b.jane.ID), "the retry succeeds")
}

func TestUserSyncHandlerPSARateLimitedWrite(t *testing.T) {
	t.Parallel()
	b := newHandlerBundle(t, worldOpts{})
	b.cw.InjectFault(cwsim.Fault{Method: http.MethodPost, PathContains: "/company/contacts", Status: http.StatusTooManyRequests, RetryAfter: "7", Count: 1})

	err := b.process(b.jane.ID)
	require.Error(t, err)
	require.NotErrorIs(t, err, asynq.SkipRetry)
	require.False(t, worker.IsFailure(err))
	require.Equal(t, 7*time.Second+100*time.Millisecond, worker.RetryDelay(1, err, nil))
	out, _, _ := b.store.UserOutcome(context.Background(), tenantID, b.jane.ID)
	require.Equal(t, worker.CodePSAConnectionError, out.Code)
	require.NoError(t, b.process(b.jane.ID))
	require.Len(t, b.withEmail(b.jane.Mail), 1)
}

// TestUserSyncHandlerPSARateLimitedLookup: most of a job's PSA calls are
// the reads that find the contact. A 429 there must reach asynq with its
// Retry-After and as no failure, like a 429 on the write.
func TestUserSyncHandlerPSARateLimitedLookup(t *testing.T) {
	t.Parallel()
	b := newHandlerBundle(t, worldOpts{})
	b.cw.InjectFault(cwsim.Fault{Method: http.MethodGet, PathContains: "/company/contacts", Status: http.StatusTooManyRequests, RetryAfter: "7", Count: 1})

	err := b.process(b.jane.ID)
	require.Error(t, err)
	require.NotErrorIs(t, err, asynq.SkipRetry)
	require.ErrorIs(t, err, psa.ErrRateLimited, "the PSA's error class reaches asynq")
	require.False(t, worker.IsFailure(err), "a rate limit uses up no retry")
	require.Equal(t, 7*time.Second+100*time.Millisecond, worker.RetryDelay(1, err, nil), "the PSA's Retry-After is honoured")
}

func TestUserSyncHandlerDeletedUserDeactivates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHandlerBundle(t, worldOpts{})
	for i := 2; i < 6; i++ {
		u := member(i, fmt.Sprintf("user%d", i), "User", itoa(i))
		_, err := b.graph.CreateUser(tenantID, u)
		require.NoError(t, err)
	}
	require.True(t, b.run(t, worker.ModeFull, nil).Success)
	require.NoError(t, b.graph.DeleteUser(tenantID, b.jane.ID))

	require.NoError(t, b.process(b.jane.ID))
	out, _, err := b.store.UserOutcome(ctx, tenantID, b.jane.ID)
	require.NoError(t, err)
	require.Equal(t, "deactivated", out.Action)
	cs := b.withEmail(b.jane.Mail)
	require.Len(t, cs, 1)
	require.True(t, cs[0].Inactive)
}

func TestTenantSyncHandler(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := newHandlerBundle(t, worldOpts{})
	var reports []*worker.Report
	th := &worker.TenantSyncHandler{Engine: b.engine, Observe: func(r *worker.Report) { reports = append(reports, r) }}

	for _, payload := range []string{``, `{}`, `{"inputs":{"tenant":"contoso"}}`, `nope`} {
		err := th.ProcessTask(ctx, asynq.NewTask(worker.TypeTenantSync, []byte(payload)))
		require.ErrorIs(t, err, asynq.SkipRetry, "payload %q", payload)
	}

	in := worker.DefaultRunInputs(tenantID)
	in.SyncMode = worker.ModeFull
	created := time.Now().UTC().Add(-time.Minute).Truncate(time.Millisecond)
	require.NoError(t, b.store.SaveRun(ctx, worker.RunRecord{ID: "run-1", State: worker.RunQueued, Inputs: in, CreatedAt: created}))
	task, err := worker.NewTenantSyncTask("run-1", in)
	require.NoError(t, err)

	// A run already in progress: the job waits, the record stays queued.
	lock := b.redis.prefix + "lock:tenant:" + tenantID
	require.NoError(t, b.redis.rdb.Set(ctx, lock, "other", time.Minute).Err())
	err = th.ProcessTask(ctx, task)
	require.ErrorIs(t, err, worker.ErrTenantBusy)
	require.False(t, worker.IsFailure(err))
	rec, _, err := b.store.Run(ctx, "run-1")
	require.NoError(t, err)
	require.Equal(t, worker.RunQueued, rec.State)
	require.NoError(t, b.redis.rdb.Del(ctx, lock).Err())

	require.NoError(t, th.ProcessTask(ctx, task))
	rec, ok, err := b.store.Run(ctx, "run-1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, worker.RunSucceeded, rec.State)
	require.True(t, rec.CreatedAt.Equal(created), "the queued record is updated, not replaced")
	require.NotNil(t, rec.StartedAt)
	require.NotNil(t, rec.FinishedAt)
	require.False(t, rec.FinishedAt.Before(*rec.StartedAt))
	require.NotNil(t, rec.Report)
	require.True(t, rec.Report.Success)
	require.Equal(t, "run-1", rec.Report.RunID)
	require.Equal(t, 1, rec.Report.Statistics.ContactsCreated)
	require.Len(t, reports, 1)

	// A run scheduled without a queued record gets one.
	task, err = worker.NewTenantSyncTask("run-2", in)
	require.NoError(t, err)
	require.NoError(t, th.ProcessTask(ctx, task))
	rec, ok, err = b.store.Run(ctx, "run-2")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, worker.RunSucceeded, rec.State)
	require.Equal(t, in, rec.Inputs)
	runs, err := b.store.Runs(ctx, ledger.RunQuery{}, 10)
	require.NoError(t, err)
	require.Len(t, runs, 2)
}

func TestTenantSyncHandlerFailures(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	// A run that cannot start is recorded as failed and not retried.
	b := newHandlerBundle(t, worldOpts{tenant: func(tn *worker.Tenant) { tn.SyncEnabled = false }})
	th := &worker.TenantSyncHandler{Engine: b.engine}
	task, err := worker.NewTenantSyncTask("run-1", worker.DefaultRunInputs(tenantID))
	require.NoError(t, err)
	err = th.ProcessTask(ctx, task)
	require.ErrorIs(t, err, asynq.SkipRetry)
	require.ErrorIs(t, err, worker.ErrTenantDisabled)
	rec, _, err := b.store.Run(ctx, "run-1")
	require.NoError(t, err)
	require.Equal(t, worker.RunFailed, rec.State)
	require.Contains(t, rec.Error, "office365_sync_enabled")
	require.Nil(t, rec.Report)

	// A run whose users failed has a report, is failed, and is not re-run.
	b = newHandlerBundle(t, worldOpts{tenant: func(tn *worker.Tenant) { tn.DefaultCompanyID = "" }})
	th = &worker.TenantSyncHandler{Engine: b.engine}
	require.NoError(t, th.ProcessTask(ctx, task))
	rec, _, err = b.store.Run(ctx, "run-1")
	require.NoError(t, err)
	require.Equal(t, worker.RunFailed, rec.State)
	require.NotNil(t, rec.Report)
	require.Equal(t, map[string]string{b.jane.UserPrincipalName: worker.CodeMissingCompanyID}, errorCodes(rec.Report))
}
