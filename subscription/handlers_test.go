package subscription_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

func task(t *testing.T, typ string, p worker.SubscriptionPayload) *asynq.Task {
	t.Helper()
	b, err := json.Marshal(p)
	require.NoError(t, err)
	return asynq.NewTask(typ, b)
}

func TestHandlers(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, threeTenants, nil)
	ensure := &subscription.EnsureHandler{Manager: b.mgr}
	reauth := &subscription.ReauthorizeHandler{Manager: b.mgr}

	for _, tc := range []struct {
		name string
		h    asynq.Handler
		task *asynq.Task
	}{
		{"ensure: not JSON", ensure, asynq.NewTask(worker.TypeSubscriptionEnsure, []byte("{"))},
		{"ensure: no tenant", ensure, task(t, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Reason: "x"})},
		{"reauthorize: no subscription", reauth, task(t, worker.TypeSubscriptionReauthorize, worker.SubscriptionPayload{Tenant: "contoso"})},
		{"ensure: unknown tenant", ensure, task(t, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Tenant: "nobody"})},
	} {
		err := tc.h.ProcessTask(ctx, tc.task)
		require.ErrorIs(t, err, asynq.SkipRetry, tc.name)
	}
	_, ok, err := b.store.ByTenant(ctx, "nobody")
	require.NoError(t, err)
	require.False(t, ok, "an unknown tenant leaves no record")

	for _, tenant := range threeTenants {
		require.NoError(t, ensure.ProcessTask(ctx, task(t, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Tenant: tenant, Reason: "test"})))
		require.Len(t, b.live(tenant), 1)
	}

	// Revoked consent: recorded unhealthy, and the job is retried (no
	// SkipRetry) with the manager's backoff.
	require.NoError(t, b.sim.RevokeConsent("northwind"))
	err = ensure.ProcessTask(ctx, task(t, worker.TypeSubscriptionEnsure, worker.SubscriptionPayload{Tenant: "northwind"}))
	require.Error(t, err)
	require.False(t, errors.Is(err, asynq.SkipRetry))
	d, ok := subscription.RetryDelay(err)
	require.True(t, ok)
	require.Equal(t, time.Minute, d)
	require.Equal(t, subscription.CodePermissionDenied, b.record("northwind").ErrorCode)

	// Lifecycle events through the reauthorize job.
	sub := b.only("contoso")
	b.clock.Advance(time.Hour)
	require.NoError(t, reauth.ProcessTask(ctx, task(t, worker.TypeSubscriptionReauthorize,
		worker.SubscriptionPayload{Tenant: "contoso", SubscriptionID: sub.ID, Reason: directory.LifecycleReauthorizationRequired})))
	require.True(t, b.clock.Now().Equal(b.record("contoso").LastReauthorizedAt))
	require.NoError(t, b.sim.DeleteSubscription(b.only("fabrikam").ID))
	require.NoError(t, reauth.ProcessTask(ctx, task(t, worker.TypeSubscriptionReauthorize,
		worker.SubscriptionPayload{Tenant: "fabrikam", Reason: directory.LifecycleSubscriptionRemoved})))
	fresh := b.only("fabrikam")
	require.Len(t, b.runs.matching("gap:fabrikam:"+fresh.ID), 1)
	require.NoError(t, ensure.ProcessTask(ctx, task(t, worker.TypeSubscriptionEnsure,
		worker.SubscriptionPayload{Tenant: "fabrikam", SubscriptionID: fresh.ID, Reason: directory.LifecycleMissed})))
	require.Len(t, b.runs.matching("gap:fabrikam:missed:"), 1)
}

// TestHandlersUnderRealAsynq runs subscription jobs the way the worker
// enqueues them, through a real asynq server.
func TestHandlersUnderRealAsynq(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, threeTenants, nil)
	queue := b.redis.queue
	opt := asynq.RedisClientOpt{Addr: b.redis.addr}
	client := asynq.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	rdb := redis.NewClient(&redis.Options{Addr: b.redis.addr})
	t.Cleanup(func() { _ = rdb.Close() })
	q := worker.NewQueue(client, worker.NewStore(rdb, b.redis.prefix), time.Second)

	cfg := worker.ServerConfig(4, nil)
	cfg.Queues = map[string]int{queue: 1}
	cfg.LogLevel = asynq.FatalLevel
	srv := asynq.NewServer(opt, cfg)
	mux := asynq.NewServeMux()
	mux.Handle(worker.TypeSubscriptionEnsure, &subscription.EnsureHandler{Manager: b.mgr})
	mux.Handle(worker.TypeSubscriptionReauthorize, &subscription.ReauthorizeHandler{Manager: b.mgr})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)

	for _, tenant := range threeTenants {
		require.NoError(t, q.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure,
			worker.SubscriptionPayload{Tenant: tenant, Reason: "test"}, asynq.Queue(queue), asynq.TaskID("ensure:"+tenant)))
		// The same id again is absorbed by the queue.
		require.NoError(t, q.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure,
			worker.SubscriptionPayload{Tenant: tenant, Reason: "test"}, asynq.Queue(queue), asynq.TaskID("ensure:"+tenant)))
	}
	require.Eventually(t, func() bool {
		for _, tenant := range threeTenants {
			rec, ok, err := b.store.ByTenant(ctx, tenant)
			if err != nil || !ok || rec.Health != subscription.HealthHealthy || len(b.live(tenant)) != 1 {
				return false
			}
		}
		return true
	}, 20*time.Second, 20*time.Millisecond)

	sub := b.only("contoso")
	require.NoError(t, q.EnqueueSubscription(ctx, worker.TypeSubscriptionReauthorize,
		worker.SubscriptionPayload{Tenant: "contoso", SubscriptionID: sub.ID, Reason: directory.LifecycleReauthorizationRequired}, asynq.Queue(queue)))
	require.Eventually(t, func() bool {
		rec, _, err := b.store.ByTenant(ctx, "contoso")
		return err == nil && !rec.LastReauthorizedAt.IsZero()
	}, 20*time.Second, 20*time.Millisecond)
	require.Equal(t, sub.ID, b.only("contoso").ID)
	require.Len(t, b.runs.matching("gap:"), 3)
}
