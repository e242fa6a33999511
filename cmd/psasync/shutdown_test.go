package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/simkit"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// workerGrace is how long a worker process may take to stop after SIGTERM:
// asynq's ShutdownTimeout (worker.ServerConfigFor) plus a little for the
// dispatcher and Redis to close, within Kubernetes' default 30 s.
const workerGrace = 30 * time.Second

// TestWorkerSIGTERMMidJobsCompletesEveryJobOnce starts `psasync worker`,
// gives it brand-new users to create while every PSA call is slowed down,
// and sends SIGTERM while jobs are running. The process must stop taking
// jobs, finish the ones it holds, and exit 0 within its grace period; a
// second worker process (the same worker restarted) then finishes the
// rest. Every user ends with exactly one contact and the PSA saw exactly
// one write per user: no job lost, none done twice.
func TestWorkerSIGTERMMidJobsCompletesEveryJobOnce(t *testing.T) {
	t.Parallel()
	const users = 12
	const concurrency = 3
	const latency = 700 * time.Millisecond
	var cfg config.Config
	path, env := writeSimConfig(t, func(c *config.Config) {
		testRedis(t, c)
		cfg = *c
	})
	ctx := context.Background()
	tenant := env.Tenants[0]
	queues := worker.PrefixedQueues(cfg.Redis.QueuePrefix)
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr, DB: cfg.Redis.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	aopt := asynq.RedisClientOpt{Addr: cfg.Redis.Addr, DB: cfg.Redis.DB}
	ac := asynq.NewClient(aopt)
	t.Cleanup(func() { _ = ac.Close() })
	insp := asynq.NewInspector(aopt)
	t.Cleanup(func() { _ = insp.Close() })
	store := worker.NewStore(rdb, cfg.Redis.KeyPrefix)
	queue := worker.NewQueue(ac, store, 0).WithQueues(queues)

	var created []graphsim.User
	for i := range users {
		created = append(created, newUser(t, env, fmt.Sprintf("sigterm.%d.%d", time.Now().UnixNano(), i)))
	}
	env.PSA.ResetStats()
	env.PSA.InjectFault(simkit.Fault{Latency: latency}) // every PSA call, so each job takes a few seconds

	first := start(t, "worker", "--config", path, "--concurrency", fmt.Sprint(concurrency))
	require.Eventually(t, func() bool { return strings.Contains(first.errOut(), "psasync started") }, 30*time.Second, 20*time.Millisecond)
	for _, u := range created {
		require.NoError(t, queue.EnqueueUserSync(ctx, tenant, u.ID))
	}
	// SIGTERM while the first jobs are between their PSA reads and their
	// create: they hold work that is not done.
	require.Eventually(t, func() bool {
		info, err := insp.GetQueueInfo(queues.Default)
		return err == nil && info.Active == concurrency && env.PSA.Stats().Requests >= 1
	}, 60*time.Second, 5*time.Millisecond, "the worker never got going")
	done := func() int {
		n := 0
		for _, u := range created {
			if _, ok, err := store.UserOutcome(ctx, tenant, u.ID); err == nil && ok {
				n++
			}
		}
		return n
	}
	doneAtTerm, writesAtTerm := done(), env.PSA.Stats().Writes
	termAt := time.Now()
	code := first.stop(t)
	stopped := time.Since(termAt)
	info, err := insp.GetQueueInfo(queues.Default)
	require.NoError(t, err)
	doneAtExit := done()
	t.Logf("SIGTERM with %d jobs done and %d PSA writes; exit %d after %s with %d jobs done and %d writes, %d left in the queue",
		doneAtTerm, writesAtTerm, code, stopped.Round(time.Millisecond), doneAtExit, env.PSA.Stats().Writes, info.Pending+info.Scheduled+info.Retry)
	require.Equal(t, exitOK, code, first.errOut())
	require.Less(t, stopped, workerGrace, "the worker stopped within its grace period")
	require.Greater(t, doneAtExit, doneAtTerm, "the jobs it held were finished after SIGTERM, not dropped")
	require.Zero(t, info.Active, "the stopped worker holds no job")
	left := info.Pending + info.Scheduled + info.Retry
	require.Equal(t, users-doneAtExit, left, "every job is done or back in the queue")
	require.Positive(t, left, "the stopped worker took no new job after SIGTERM (and left some for the next one)")

	restartAt := time.Now()
	second := start(t, "worker", "--config", path, "--concurrency", fmt.Sprint(concurrency))
	require.Eventually(t, func() bool {
		info, err := insp.GetQueueInfo(queues.Default)
		return err == nil && info.Pending+info.Scheduled+info.Active+info.Retry == 0 && env.PSA.Stats().Writes >= users
	}, 2*time.Minute, 50*time.Millisecond, "the restarted worker never finished the rest")
	t.Logf("the restarted worker finished the %d jobs left in %s", left, time.Since(restartAt).Round(time.Millisecond))
	termAt = time.Now()
	require.Equal(t, exitOK, second.stop(t), second.errOut())
	t.Logf("the idle restarted worker exited 0 after %s", time.Since(termAt).Round(time.Millisecond))

	for _, u := range created {
		n := 0
		for _, c := range env.PSA.Contacts(simenv.DefaultCompanyID) {
			if strings.EqualFold(c.Email, u.Mail) {
				n++
			}
		}
		require.Equal(t, 1, n, "exactly one contact for %s", u.Mail)
	}
	require.Equal(t, users, env.PSA.Stats().Writes, "one PSA write per user: no job ran twice")
	for _, u := range created {
		out, ok, err := store.UserOutcome(ctx, tenant, u.ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "created", out.Action, "outcome of %s: %+v", u.Mail, out)
	}
	info, err = insp.GetQueueInfo(queues.Default)
	require.NoError(t, err)
	require.Zero(t, info.Archived, "no job given up")
}

// newUser adds a syncable user with a fresh address to the simulated
// tenant, copied from a generated one.
func newUser(t *testing.T, env *simenv.Env, local string) graphsim.User {
	t.Helper()
	tenant := env.Tenants[0]
	var tmpl graphsim.User
	for _, u := range env.Graph.Users(tenant) {
		upn := strings.ToLower(u.UserPrincipalName)
		if (u.AccountEnabled == nil || *u.AccountEnabled) && u.UserType != "Guest" && u.Mail != "" && u.GivenName != "" &&
			!strings.HasPrefix(upn, "svc-") && !strings.HasPrefix(upn, "admin") {
			tmpl = u
			break
		}
	}
	require.NotEmpty(t, tmpl.ID, "no syncable user to copy")
	verified, _ := graphsim.Domains(tenant)
	tmpl.ID, tmpl.EmployeeID = "", ""
	tmpl.UserPrincipalName = local + "@" + verified
	tmpl.Mail, tmpl.MailNickname = tmpl.UserPrincipalName, local
	tmpl.GivenName, tmpl.Surname, tmpl.DisplayName = "Sig", "Term", "Sig Term"
	u, err := env.Graph.CreateUser(tenant, tmpl)
	require.NoError(t, err)
	return u
}
