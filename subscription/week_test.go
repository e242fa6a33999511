package subscription_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// jobQueue stands in for asynq in the week: it keeps enqueued ensure jobs
// (refusing duplicate ids) until the test runs them through the handler.
type jobQueue struct {
	mu      sync.Mutex
	seen    map[string]bool
	pending []*asynq.Task
}

func (q *jobQueue) EnqueueEnsure(_ context.Context, id, tenantID, reason string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.seen[id] {
		return nil
	}
	q.seen[id] = true
	b, err := json.Marshal(map[string]string{"tenant": tenantID, "reason": reason})
	if err != nil {
		return err
	}
	q.pending = append(q.pending, asynq.NewTask(worker.TypeSubscriptionEnsure, b))
	return nil
}

func (q *jobQueue) drain() []*asynq.Task {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := q.pending
	q.pending = nil
	return out
}

// TestSimulatedWeek runs a week of hourly scheduler ticks and subscription
// checks on a fake clock, with short-lived subscriptions (2 days, renewed
// when less than 12 hours remain) so that renewals happen several times,
// while Graph reauthorizes, drops a subscription, removes another and a
// tenant's consent is revoked for a few hours. No subscription may lapse.
func TestSimulatedWeek(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	const renewBefore = 12 * time.Hour
	b := setup(t, threeTenants, func(c *subscription.Config) {
		c.Expiry = 48 * time.Hour
		c.RenewBefore = renewBefore
	})
	zones := map[string]string{"contoso": "UTC", "fabrikam": "Asia/Kolkata", "northwind": "America/New_York"}
	var scheduled []subscription.ScheduledTenant
	for _, id := range threeTenants {
		scheduled = append(scheduled, subscription.ScheduledTenant{ID: id, Enabled: true,
			Schedule: subscription.Schedule{IncrementalEvery: 15 * time.Minute, ReconcileAt: "02:00", Location: mustZone(t, zones[id])}})
	}
	jobs := &jobQueue{seen: map[string]bool{}}
	sched, err := subscription.NewScheduler(b.runs, jobs, staticTenants(scheduled...), subscription.SchedulerConfig{})
	require.NoError(t, err)
	ensure := &subscription.EnsureHandler{Manager: b.mgr}
	lifecycle := &subscription.ReauthorizeHandler{Manager: b.mgr}
	b.runs.clock = b.clock.Now

	// deliverLifecycle sends what the webhook received to the reauthorize
	// job, as the webhook's enqueuer does.
	handled := 0
	deliverLifecycle := func() {
		events := b.hook.lifecycleEvents()
		for _, ev := range events[handled:] {
			p, _ := json.Marshal(map[string]string{"tenant": ev.TenantID, "subscription_id": ev.SubscriptionID, "reason": ev.LifecycleEvent})
			require.NoError(t, lifecycle.ProcessTask(ctx, asynq.NewTask(worker.TypeSubscriptionReauthorize, p)))
		}
		handled = len(events)
	}

	revoked := false
	seenDates := map[string]map[string]bool{}
	var removedID, droppedID string
	for hour := 0; hour < 7*24; hour++ {
		now := b.clock.Now()
		switch hour {
		case 5: // changes in every tenant reach the webhook
			for _, id := range threeTenants {
				_, err := b.sim.UpdateUser(id, b.sim.Users(id)[0].ID, map[string]any{"jobTitle": "Changed"})
				require.NoError(t, err)
			}
			waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
			require.NoError(t, b.sim.WaitDeliveries(waitCtx))
			cancel()
		case 20:
			require.NoError(t, b.sim.SendLifecycle(ctx, b.only("contoso").ID, directory.LifecycleReauthorizationRequired))
		case 50:
			droppedID = b.only("fabrikam").ID
			require.NoError(t, b.sim.DeleteSubscription(droppedID))
		case 80:
			require.NoError(t, b.sim.RevokeConsent("northwind"))
			revoked = true
		case 84:
			require.NoError(t, b.sim.GrantConsent("northwind"))
			revoked = false
		case 100:
			removedID = b.only("contoso").ID
			require.NoError(t, b.sim.SendLifecycle(ctx, removedID, directory.LifecycleSubscriptionRemoved))
		}
		deliverLifecycle()

		require.NoError(t, sched.Tick(ctx, now))
		for _, task := range jobs.drain() {
			err := ensure.ProcessTask(ctx, task)
			var p struct{ Tenant string }
			require.NoError(t, json.Unmarshal(task.Payload(), &p))
			if revoked && p.Tenant == "northwind" {
				require.Error(t, err)
				require.False(t, errors.Is(err, asynq.SkipRetry), "retried with backoff")
				continue
			}
			require.NoError(t, err, "hour %d, tenant %s", hour, p.Tenant)
		}

		for _, id := range threeTenants {
			local := now.In(mustZone(t, zones[id]))
			if local.Hour() >= 2 && local.Hour() < 8 {
				if seenDates[id] == nil {
					seenDates[id] = map[string]bool{}
				}
				seenDates[id][local.Format(time.DateOnly)] = true
			}
			subs := b.live(id)
			require.Len(t, subs, 1, "hour %d: tenant %s has exactly one live subscription", hour, id)
			require.True(t, subs[0].ExpirationDateTime.After(now), "hour %d: %s not lapsed", hour, id)
			rec := b.record(id)
			require.Equal(t, subs[0].ID, rec.ID, "hour %d: %s record follows Graph", hour, id)
			if revoked && id == "northwind" {
				require.Equal(t, subscription.HealthUnhealthy, rec.Health)
				require.Equal(t, subscription.CodePermissionDenied, rec.ErrorCode)
				continue
			}
			require.Equal(t, subscription.HealthHealthy, rec.Health, "hour %d: %s", hour, id)
			require.GreaterOrEqual(t, subs[0].ExpirationDateTime.Sub(now), renewBefore-time.Hour,
				"hour %d: %s renewed in time", hour, id)
		}
		b.clock.Advance(time.Hour)
	}

	statuses, err := b.mgr.List(ctx)
	require.NoError(t, err)
	require.Len(t, statuses, 3)
	end := b.clock.Now()
	for _, st := range statuses {
		require.Equal(t, subscription.HealthHealthy, st.Health, st.TenantID)
		require.True(t, st.Expiry.After(end), "%s: no lapsed subscription", st.TenantID)
		require.Equal(t, b.only(st.TenantID).ID, st.SubscriptionID)
	}
	calls := b.graphCalls()
	require.Zero(t, calls["POST reauthorize"])
	// Each tenant renews every ~36 hours (plus contoso's reauthorization):
	// a handful of PATCHes, not one per hourly check.
	require.GreaterOrEqual(t, calls["PATCH subscription"], 3*3)
	require.LessOrEqual(t, calls["PATCH subscription"], 3*6)
	require.Equal(t, 3+2, calls["POST subscriptions"], "three creations, two recreations")

	for _, id := range threeTenants {
		require.Len(t, b.runs.matching("incremental:"+id+":"), 7*24, "%s: one incremental per hourly tick", id)
		rec := b.runs.matching("reconcile:" + id + ":")
		require.Len(t, rec, len(seenDates[id]), "%s: one reconcile per local night", id)
		for _, r := range rec {
			require.True(t, seenDates[id][r.ID[len("reconcile:"+id+":"):]])
		}
		checks := 0
		for jobID := range jobs.seen {
			if strings.HasPrefix(jobID, "ensure:"+id+":") {
				checks++
			}
		}
		require.Equal(t, 7*24, checks, "%s: one subscription check per hour", id)
	}
	// Every gap got its catch-up run.
	require.NotEmpty(t, droppedID)
	require.Len(t, b.runs.matching("gap:fabrikam:"), 2, "creation and the recreation after the drop")
	require.Len(t, b.runs.matching("gap:contoso:"), 2, "creation and the recreation after subscriptionRemoved")
	require.Len(t, b.runs.matching("gap:northwind:"), 1, "consent came back for the same subscription")
	require.Equal(t, 3, b.hook.changes, "one notification per tenant reached the webhook")
	for _, st := range statuses {
		if st.TenantID != "northwind" {
			require.True(t, st.LastNotificationAt.IsZero(), "%s: its subscription was replaced after the notification", st.TenantID)
			continue
		}
		require.True(t, simStart.Add(5*time.Hour).Equal(st.LastNotificationAt), st.TenantID)
	}
	require.NotEqual(t, removedID, b.only("contoso").ID)
}
