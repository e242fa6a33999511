package subscription_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

var threeTenants = []string{"contoso", "fabrikam", "northwind"}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  subscription.Config
		want string
	}{
		{"no public url", subscription.Config{}, "public_url is required"},
		{"http on a public host", subscription.Config{PublicURL: "http://psasync.example.com"}, "must use https"},
		{"relative", subscription.Config{PublicURL: "/webhook"}, "not an absolute URL"},
		{"query", subscription.Config{PublicURL: "https://x.example.com/?a=b"}, "query"},
		{"expiry past Graph's maximum", subscription.Config{PublicURL: "https://x.example.com", Expiry: 30 * 24 * time.Hour}, "at most"},
		{"renew window longer than the lifetime", subscription.Config{PublicURL: "https://x.example.com", Expiry: 24 * time.Hour, RenewBefore: 48 * time.Hour}, "renew_before"},
		{"valid", subscription.Config{PublicURL: "https://psasync.example.com/"}, ""},
		{"loopback http", subscription.Config{PublicURL: "http://127.0.0.1:8080"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.WithDefaults().Validate()
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
	_, err := subscription.NewManager(nil, nil, nil, subscription.Config{PublicURL: "https://x.example.com"})
	require.Error(t, err)
}

func TestThreeTenantsGetOneSubscriptionEach(t *testing.T) {
	t.Parallel()
	b := setup(t, threeTenants, nil)
	ctx := context.Background()
	b.ensureAll()

	states := map[string]bool{}
	for _, tenant := range threeTenants {
		sub := b.only(tenant)
		rec := b.record(tenant)
		require.Equal(t, sub.ID, rec.ID)
		require.Equal(t, "/users", sub.Resource)
		require.Equal(t, "updated,deleted", sub.ChangeType)
		require.Equal(t, b.hook.srv.URL+"/webhook/graph", sub.NotificationURL)
		require.Equal(t, b.hook.srv.URL+"/webhook/graph/lifecycle", sub.LifecycleNotificationURL)
		require.Equal(t, b.mgr.NotificationURL(), sub.NotificationURL)
		require.True(t, expectedExpiry(simStart).Equal(sub.ExpirationDateTime), "maximum lifetime for users")
		require.True(t, sub.ExpirationDateTime.Equal(rec.Expiry))
		require.NotEmpty(t, rec.ClientState)
		require.LessOrEqual(t, len(rec.ClientState), 128)
		require.Equal(t, sub.ClientState, rec.ClientState, "the stored clientState is the one Graph echoes")
		require.False(t, states[rec.ClientState], "every subscription has its own clientState")
		states[rec.ClientState] = true
		require.Equal(t, subscription.HealthHealthy, rec.Health)
		require.Empty(t, rec.PendingRunID)
		require.True(t, rec.NextAttemptAt.Equal(rec.Expiry.Add(-3*24*time.Hour)))

		looked, ok, err := b.store.LookupSubscription(ctx, sub.ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, tenant, looked.TenantID)
		require.Equal(t, rec.ClientState, looked.ClientState)
	}
	// A new tenant gets an incremental run, so nothing before its
	// subscription is missed.
	created := b.runs.matching("gap:")
	require.Len(t, created, 3)
	for _, r := range created {
		require.Equal(t, worker.ModeIncremental, r.Mode)
		require.Equal(t, subscription.ReasonCreated, r.Reason)
		require.Equal(t, "gap:"+r.Tenant+":"+b.record(r.Tenant).ID, r.ID)
	}
	require.Equal(t, 6, b.hook.handshakes, "notification and lifecycle URL validated per tenant")

	// A second pass changes nothing: no create, no renew, no new run.
	before := b.graphCalls()
	b.ensureAll()
	after := b.graphCalls()
	require.Equal(t, before["POST subscriptions"], after["POST subscriptions"])
	require.Zero(t, after["PATCH subscription"])
	require.Equal(t, before["GET subscriptions"]+3, after["GET subscriptions"])
	require.Len(t, b.runs.all(), 3)
	for _, tenant := range threeTenants {
		require.Len(t, b.live(tenant), 1)
	}

	statuses, err := b.mgr.List(ctx)
	require.NoError(t, err)
	require.Equal(t, threeTenants, sortedTenants(statuses))
	for _, st := range statuses {
		require.Equal(t, subscription.HealthHealthy, st.Health)
		require.Equal(t, b.record(st.TenantID).ID, st.SubscriptionID)
		require.True(t, st.LastNotificationAt.IsZero())
	}

	// Notifications reach the webhook with the stored clientState and show
	// in the listing.
	user := b.sim.Users("fabrikam")[0]
	b.clock.Advance(time.Minute)
	_, err = b.sim.UpdateUser("fabrikam", user.ID, map[string]any{"jobTitle": "Director"})
	require.NoError(t, err)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, b.sim.WaitDeliveries(waitCtx))
	statuses, err = b.mgr.List(ctx)
	require.NoError(t, err)
	for _, st := range statuses {
		if st.TenantID == "fabrikam" {
			require.True(t, b.clock.Now().Equal(st.LastNotificationAt), "last notification of fabrikam")
		} else {
			require.True(t, st.LastNotificationAt.IsZero())
		}
	}
}

func TestRenewalExtendsExpiryBeforeItLapses(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"contoso"}, nil)
	ctx := context.Background()
	b.ensureAll()
	first := b.only("contoso")

	// Well inside its lifetime nothing is renewed.
	b.clock.Advance(20 * 24 * time.Hour)
	_, err := b.mgr.Ensure(ctx, "contoso")
	require.NoError(t, err)
	require.Zero(t, b.graphCalls()["PATCH subscription"])

	// Less than RenewBefore (3 days) left: renewed to the maximum again.
	b.clock.Advance(6*24*time.Hour + time.Hour)
	require.Less(t, first.ExpirationDateTime.Sub(b.clock.Now()), 3*24*time.Hour)
	rec, err := b.mgr.Ensure(ctx, "contoso")
	require.NoError(t, err)
	require.Equal(t, 1, b.graphCalls()["PATCH subscription"])
	now := b.clock.Now()
	sub := b.only("contoso")
	require.Equal(t, first.ID, sub.ID, "renewed, not recreated")
	require.True(t, expectedExpiry(now).Equal(sub.ExpirationDateTime))
	require.True(t, sub.ExpirationDateTime.Equal(rec.Expiry))
	require.True(t, now.Equal(rec.RenewedAt))
	require.Equal(t, subscription.HealthHealthy, rec.Health)

	// Past the original expiry the subscription is still there.
	b.clock.Advance(4 * 24 * time.Hour)
	require.True(t, b.clock.Now().After(first.ExpirationDateTime))
	require.Equal(t, first.ID, b.only("contoso").ID)
	require.Len(t, b.runs.all(), 1, "only the first creation's run")
}

func TestReauthorizationRequiredRenewsWithAPatchOnly(t *testing.T) {
	t.Parallel()
	var sp *spy
	b := setup(t, []string{"contoso"}, nil)
	b.clients.wrap = func(_ string, api subscription.SubscriptionAPI) subscription.SubscriptionAPI {
		if sp == nil {
			sp = &spy{SubscriptionAPI: api, clock: b.clock.Now}
		}
		return sp
	}
	ctx := context.Background()
	b.ensureAll()
	sub := b.only("contoso")

	b.clock.Advance(5 * time.Hour)
	require.NoError(t, b.sim.SendLifecycle(ctx, sub.ID, directory.LifecycleReauthorizationRequired))
	events := b.hook.lifecycleEvents()
	require.Len(t, events, 1)
	require.Equal(t, lifecycleItem{SubscriptionID: sub.ID, TenantID: "contoso", ClientState: b.record("contoso").ClientState,
		LifecycleEvent: "reauthorizationRequired"}, events[0])
	require.True(t, b.only("contoso").ReauthorizationRequired)

	rec, err := b.mgr.HandleLifecycle(ctx, events[0].TenantID, events[0].SubscriptionID, events[0].LifecycleEvent)
	require.NoError(t, err)
	now := b.clock.Now()
	after := b.only("contoso")
	require.False(t, after.ReauthorizationRequired, "the PATCH reauthorized it")
	require.Equal(t, sub.ID, after.ID)
	require.True(t, expectedExpiry(now).Equal(after.ExpirationDateTime), "and renewed it")
	require.True(t, now.Equal(rec.LastReauthorizedAt))
	require.True(t, now.Equal(rec.RenewedAt))

	// A redelivered event a few minutes later is answered the same way;
	// the hourly check right after does not PATCH again.
	b.clock.Advance(3 * time.Minute)
	require.NoError(t, b.sim.SendLifecycle(ctx, sub.ID, directory.LifecycleReauthorizationRequired))
	_, err = b.mgr.Reauthorize(ctx, "contoso", sub.ID)
	require.NoError(t, err)
	b.clock.Advance(time.Hour)
	_, err = b.mgr.Ensure(ctx, "contoso")
	require.NoError(t, err)

	// An event for a subscription that is no longer ours is ignored.
	_, err = b.mgr.Reauthorize(ctx, "contoso", "some-old-subscription")
	require.NoError(t, err)

	calls := b.graphCalls()
	require.Zero(t, calls["POST reauthorize"], "psasync never calls /reauthorize")
	require.Equal(t, 2, calls["PATCH subscription"])
	require.Equal(t, []string{"create", "renew", "renew"}, sp.ops())
	// The ten-minute rule: no reauthorize at all, so no reauthorize and
	// PATCH pair within ten minutes.
	require.NotContains(t, sp.ops(), "reauthorize")
	require.Len(t, b.runs.all(), 1, "reauthorizing owes no run")
}

func TestDeletedBehindOurBackIsRecreatedAndCaughtUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("found missing by the periodic check", func(t *testing.T) {
		t.Parallel()
		b := setup(t, threeTenants, nil)
		b.ensureAll()
		old := b.only("fabrikam")
		require.NoError(t, b.sim.DeleteSubscription(old.ID))

		b.clock.Advance(time.Hour)
		rec, err := b.mgr.Ensure(ctx, "fabrikam")
		require.NoError(t, err)
		sub := b.only("fabrikam")
		require.NotEqual(t, old.ID, sub.ID)
		require.Equal(t, sub.ID, rec.ID)
		require.Equal(t, sub.ClientState, rec.ClientState)
		require.NotEqual(t, old.ClientState, rec.ClientState, "a fresh clientState per subscription")
		require.Equal(t, subscription.HealthHealthy, rec.Health)

		gap := b.runs.matching("gap:fabrikam:" + sub.ID)
		require.Len(t, gap, 1)
		require.Equal(t, run{ID: "gap:fabrikam:" + sub.ID, Tenant: "fabrikam", Mode: worker.ModeIncremental, Reason: subscription.ReasonRecreated}, gap[0])
		_, ok, err := b.store.LookupSubscription(ctx, old.ID)
		require.NoError(t, err)
		require.False(t, ok, "notifications of the old subscription are refused")
		_, ok, err = b.store.LookupSubscription(ctx, sub.ID)
		require.NoError(t, err)
		require.True(t, ok)
		// The other tenants were not touched.
		require.Len(t, b.runs.all(), 4)
	})

	t.Run("404 on the renewal PATCH", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		b.ensureAll()
		old := b.only("contoso")
		b.clients.wrap = func(_ string, api subscription.SubscriptionAPI) subscription.SubscriptionAPI {
			// Graph drops it between the listing and the PATCH.
			return &spy{SubscriptionAPI: api, clock: b.clock.Now, beforeRenew: func(id string) {
				_ = b.sim.DeleteSubscription(id)
			}}
		}
		b.clock.Advance(27 * 24 * time.Hour)
		rec, err := b.mgr.Ensure(ctx, "contoso")
		require.NoError(t, err)
		sub := b.only("contoso")
		require.NotEqual(t, old.ID, sub.ID)
		require.Equal(t, sub.ID, rec.ID)
		require.True(t, expectedExpiry(b.clock.Now()).Equal(sub.ExpirationDateTime))
		gap := b.runs.matching("gap:contoso:" + sub.ID)
		require.Len(t, gap, 1)
		require.Equal(t, subscription.ReasonRecreated, gap[0].Reason)
	})

	t.Run("404 on the reauthorization PATCH", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		b.ensureAll()
		old := b.only("contoso")
		require.NoError(t, b.sim.DeleteSubscription(old.ID))
		rec, err := b.mgr.HandleLifecycle(ctx, "contoso", old.ID, directory.LifecycleReauthorizationRequired)
		require.NoError(t, err)
		sub := b.only("contoso")
		require.NotEqual(t, old.ID, sub.ID)
		require.Equal(t, sub.ID, rec.ID)
		require.Len(t, b.runs.matching("gap:contoso:"+sub.ID), 1)
	})

	t.Run("lifecycle subscriptionRemoved and missed", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		b.ensureAll()
		old := b.only("contoso")
		require.NoError(t, b.sim.SendLifecycle(ctx, old.ID, directory.LifecycleSubscriptionRemoved))
		require.Empty(t, b.live("contoso"))
		rec, err := b.mgr.HandleLifecycle(ctx, "contoso", old.ID, directory.LifecycleSubscriptionRemoved)
		require.NoError(t, err)
		require.Equal(t, b.only("contoso").ID, rec.ID)
		require.Len(t, b.runs.matching("gap:contoso:"+rec.ID), 1, "recreated: one catch-up run")
		require.Len(t, b.runs.all(), 2)

		// missed: the subscription is fine, but a run is owed.
		rec2, err := b.mgr.HandleLifecycle(ctx, "contoso", rec.ID, directory.LifecycleMissed)
		require.NoError(t, err)
		require.Equal(t, rec.ID, rec2.ID)
		missed := b.runs.matching("gap:contoso:missed:")
		require.Len(t, missed, 1)
		require.Equal(t, "lifecycle missed", missed[0].Reason)
		// Graph delivers at least once: the same event again adds nothing.
		_, err = b.mgr.HandleLifecycle(ctx, "contoso", rec.ID, directory.LifecycleMissed)
		require.NoError(t, err)
		require.Len(t, b.runs.matching("gap:contoso:missed:"), 1)

		_, err = b.mgr.HandleLifecycle(ctx, "contoso", rec.ID, "somethingNew")
		require.ErrorContains(t, err, "unknown lifecycle event")
	})

	t.Run("a failed enqueue is retried by the next check", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		b.runs.failNext = errors.New("redis down")
		_, err := b.mgr.Ensure(ctx, "contoso")
		require.ErrorContains(t, err, "redis down")
		rec := b.record("contoso")
		require.NotEmpty(t, rec.PendingRunID, "the owed run is remembered")
		require.Empty(t, b.runs.all())

		rec, err = b.mgr.Ensure(ctx, "contoso")
		require.NoError(t, err)
		require.Empty(t, rec.PendingRunID)
		require.Len(t, b.runs.matching("gap:contoso:"+rec.ID), 1)
		require.Len(t, b.live("contoso"), 1)
	})
}

func TestStaleSubscriptionsAreAdoptedOrDeleted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("crash between create and save: adopted by its clientState", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		const state = "state-saved-before-the-post"
		// What create leaves behind when the process dies right after
		// Graph's answer: a pending record with the clientState, no id.
		require.NoError(t, b.store.Save(ctx, subscription.Record{TenantID: "contoso", ClientState: state, Health: subscription.HealthPending}))
		api, _ := b.clients.Subscriptions(ctx, "contoso")
		orphan, err := api.CreateSubscription(ctx, directory.Subscription{
			Resource: "/users", ChangeType: "updated,deleted", NotificationURL: b.mgr.NotificationURL(),
			LifecycleNotificationURL: b.mgr.LifecycleURL(), ClientState: state, ExpirationDateTime: b.clock.Now().Add(24 * time.Hour),
		})
		require.NoError(t, err)

		rec, err := b.mgr.Ensure(ctx, "contoso")
		require.NoError(t, err)
		require.Equal(t, orphan.ID, rec.ID, "adopted")
		require.Equal(t, state, rec.ClientState)
		require.Equal(t, orphan.ID, b.only("contoso").ID)
		require.Zero(t, b.graphCalls()["DELETE subscription"])
		require.Equal(t, 1, b.graphCalls()["POST subscriptions"], "only the orphan's own create")
		// Its expiry was near: renewed right away.
		require.True(t, expectedExpiry(b.clock.Now()).Equal(rec.Expiry))
		gap := b.runs.matching("gap:contoso:" + orphan.ID)
		require.Len(t, gap, 1)
		require.Equal(t, subscription.ReasonAdopted, gap[0].Reason)
	})

	t.Run("unknown subscriptions to our URL are deleted, others left alone", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		api, _ := b.clients.Subscriptions(ctx, "contoso")
		exp := b.clock.Now().Add(48 * time.Hour)
		// Left by an earlier psasync whose Redis was lost.
		lost, err := api.CreateSubscription(ctx, directory.Subscription{
			Resource: "/users", ChangeType: "updated,deleted", NotificationURL: b.mgr.NotificationURL(),
			LifecycleNotificationURL: b.mgr.LifecycleURL(), ClientState: "lost-state", ExpirationDateTime: exp,
		})
		require.NoError(t, err)
		// Ours but with another change type: also psasync's URL, stale.
		odd, err := api.CreateSubscription(ctx, directory.Subscription{
			Resource: "Users", ChangeType: "updated", NotificationURL: b.mgr.NotificationURL(), ExpirationDateTime: exp,
		})
		require.NoError(t, err)
		// Another deployment sharing the app registration.
		other := newHook(t, b.store, b.clock.Now)
		foreign, err := api.CreateSubscription(ctx, directory.Subscription{
			Resource: "/users", ChangeType: "updated,deleted", NotificationURL: other.srv.URL + "/webhook/graph",
			ClientState: "theirs", ExpirationDateTime: exp,
		})
		require.NoError(t, err)
		// A duplicate of the lost one is what Graph refuses with 409.
		_, err = api.CreateSubscription(ctx, directory.Subscription{
			Resource: "/users", ChangeType: "updated,deleted", NotificationURL: b.mgr.NotificationURL(), ExpirationDateTime: exp,
		})
		require.ErrorIs(t, err, directory.ErrConflict)

		rec, err := b.mgr.Ensure(ctx, "contoso")
		require.NoError(t, err)
		ids := map[string]bool{}
		for _, s := range b.live("contoso") {
			ids[s.ID] = true
		}
		require.Equal(t, map[string]bool{rec.ID: true, foreign.ID: true}, ids)
		require.NotEqual(t, lost.ID, rec.ID)
		require.NotEqual(t, odd.ID, rec.ID)
		require.Equal(t, 2, b.graphCalls()["DELETE subscription"])
		require.Equal(t, subscription.HealthHealthy, rec.Health)
	})

	t.Run("409 on create is recorded and the next check succeeds", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		b.sim.InjectFault(graphsim.Fault{Method: http.MethodPost, PathContains: "/v1.0/subscriptions", Status: http.StatusConflict, Count: 1})
		rec, err := b.mgr.Ensure(ctx, "contoso")
		var e *subscription.Error
		require.ErrorAs(t, err, &e)
		require.Equal(t, subscription.CodeConflict, e.Code)
		require.ErrorIs(t, err, directory.ErrConflict)
		require.Equal(t, subscription.HealthUnhealthy, rec.Health, "no subscription yet")
		require.Equal(t, subscription.CodeConflict, b.record("contoso").ErrorCode)

		rec, err = b.mgr.Ensure(ctx, "contoso")
		require.NoError(t, err)
		require.Equal(t, b.only("contoso").ID, rec.ID)
		require.Empty(t, rec.ErrorCode)
		require.Zero(t, rec.Failures)
	})

	t.Run("a new public URL replaces the subscription", func(t *testing.T) {
		t.Parallel()
		b := setup(t, []string{"contoso"}, nil)
		b.ensureAll()
		old := b.only("contoso")
		moved := newHook(t, b.store, b.clock.Now)
		mgr, err := subscription.NewManager(b.store, b.clients, b.runs, subscription.Config{PublicURL: moved.srv.URL, Clock: b.clock.Now})
		require.NoError(t, err)
		rec, err := mgr.Ensure(ctx, "contoso")
		require.NoError(t, err)
		sub := b.only("contoso")
		require.NotEqual(t, old.ID, sub.ID)
		require.Equal(t, moved.srv.URL+"/webhook/graph", sub.NotificationURL)
		require.Equal(t, sub.ID, rec.ID)
		require.Len(t, b.runs.matching("gap:contoso:"+sub.ID), 1)
	})
}

func TestRevokedConsentMarksOnlyThatTenantUnhealthy(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, threeTenants, nil)
	b.ensureAll()
	require.NoError(t, b.sim.RevokeConsent("fabrikam"))

	b.clock.Advance(time.Hour)
	all := []subscription.Tenant{{ID: "contoso", Enabled: true}, {ID: "fabrikam", Enabled: true}, {ID: "northwind", Enabled: true}}
	results, err := b.mgr.Converge(ctx, all)
	require.NoError(t, err)
	require.Len(t, results, 3)
	for _, r := range results {
		require.Equal(t, subscription.ActionEnsure, r.Action)
		if r.TenantID != "fabrikam" {
			require.NoError(t, r.Err, r.TenantID)
			require.Equal(t, subscription.HealthHealthy, r.Status.Health)
			continue
		}
		require.ErrorIs(t, r.Err, directory.ErrPermissionDenied)
		var e *subscription.Error
		require.ErrorAs(t, r.Err, &e)
		require.Equal(t, subscription.CodePermissionDenied, e.Code)
		require.False(t, e.Permanent(), "retried with backoff")
		d, ok := subscription.RetryDelay(r.Err)
		require.True(t, ok)
		require.Equal(t, time.Minute, d)
	}
	rec := b.record("fabrikam")
	require.Equal(t, subscription.HealthUnhealthy, rec.Health)
	require.Equal(t, subscription.CodePermissionDenied, rec.ErrorCode)
	require.Contains(t, rec.LastError, "permission denied")
	require.Equal(t, 1, rec.Failures)
	require.True(t, b.clock.Now().Add(time.Minute).Equal(rec.NextAttemptAt))
	require.NotEmpty(t, rec.ID, "the subscription is still known")

	// The job retries with a growing backoff.
	_, err = b.mgr.Ensure(ctx, "fabrikam")
	d, _ := subscription.RetryDelay(err)
	require.Equal(t, 2*time.Minute, d)
	require.Equal(t, 2, b.record("fabrikam").Failures)

	statuses, err := b.mgr.List(ctx)
	require.NoError(t, err)
	for _, st := range statuses {
		if st.TenantID == "fabrikam" {
			require.Equal(t, subscription.HealthUnhealthy, st.Health)
			require.Equal(t, subscription.CodePermissionDenied, st.ErrorCode)
		} else {
			require.Equal(t, subscription.HealthHealthy, st.Health, st.TenantID)
		}
	}

	// Consent granted again: healthy on the next check, same subscription.
	require.NoError(t, b.sim.GrantConsent("fabrikam"))
	rec2, err := b.mgr.Ensure(ctx, "fabrikam")
	require.NoError(t, err)
	require.Equal(t, subscription.HealthHealthy, rec2.Health)
	require.Equal(t, rec.ID, rec2.ID)
	require.Zero(t, rec2.Failures)

	// A tenant that never consented is reported without a subscription.
	require.NoError(t, b.sim.AddTenant(graphsim.TenantSpec{ID: "adatum", Users: graphsim.Generate("adatum", 2, 9)}))
	require.NoError(t, b.sim.RevokeConsent("adatum"))
	b.clients.mu.Lock()
	b.clients.byID["adatum"] = b.graphClient("adatum")
	b.clients.mu.Unlock()
	_, err = b.mgr.Ensure(ctx, "adatum")
	require.ErrorIs(t, err, directory.ErrPermissionDenied)
	statuses, err = b.mgr.List(ctx)
	require.NoError(t, err)
	require.Equal(t, "adatum", statuses[0].TenantID)
	require.Equal(t, subscription.HealthUnhealthy, statuses[0].Health)
	require.Equal(t, subscription.CodePermissionDenied, statuses[0].ErrorCode)
	require.Empty(t, statuses[0].SubscriptionID)
}

func TestConvergeFollowsTheConfig(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, threeTenants, nil)
	b.ensureAll()
	northwind := b.only("northwind")

	// fabrikam disabled, northwind removed from the config.
	results, err := b.mgr.Converge(ctx, []subscription.Tenant{{ID: "contoso", Enabled: true}, {ID: "fabrikam", Enabled: false}})
	require.NoError(t, err)
	require.Equal(t, []subscription.Result{
		{TenantID: "contoso", Action: subscription.ActionEnsure, Status: b.record("contoso").Status()},
		{TenantID: "fabrikam", Action: subscription.ActionDelete},
		{TenantID: "northwind", Action: subscription.ActionDelete},
	}, results)
	require.Len(t, b.live("contoso"), 1)
	require.Empty(t, b.live("fabrikam"))
	require.Empty(t, b.live("northwind"))
	_, ok, err := b.store.LookupSubscription(ctx, northwind.ID)
	require.NoError(t, err)
	require.False(t, ok)
	statuses, err := b.mgr.List(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"contoso"}, sortedTenants(statuses))

	// Re-enabled: a new subscription and a catch-up run.
	results, err = b.mgr.Converge(ctx, []subscription.Tenant{{ID: "contoso", Enabled: true}, {ID: "fabrikam", Enabled: true}})
	require.NoError(t, err)
	require.NoError(t, results[1].Err)
	require.Equal(t, b.only("fabrikam").ID, results[1].Status.SubscriptionID)
	require.Len(t, b.runs.matching("gap:fabrikam:"), 2)

	// A tenant the clients no longer know: the record is dropped and the
	// subscription left to lapse, which the result says.
	b.clients.forget("fabrikam")
	results, err = b.mgr.Converge(ctx, []subscription.Tenant{{ID: "contoso", Enabled: true}})
	require.NoError(t, err)
	require.Equal(t, "fabrikam", results[1].TenantID)
	require.ErrorIs(t, results[1].Err, subscription.ErrUnknownTenant)
	require.ErrorContains(t, results[1].Err, "lapses by")
	_, ok, err = b.store.ByTenant(ctx, "fabrikam")
	require.NoError(t, err)
	require.False(t, ok)

	// Nothing left to do: converging again makes no Graph write.
	before := b.graphCalls()
	results, err = b.mgr.Converge(ctx, []subscription.Tenant{{ID: "contoso", Enabled: true}, {ID: "northwind", Enabled: false}})
	require.NoError(t, err)
	for _, r := range results {
		require.NoError(t, r.Err, r.TenantID)
	}
	after := b.graphCalls()
	require.Equal(t, before["DELETE subscription"], after["DELETE subscription"])
	require.Equal(t, before["POST subscriptions"], after["POST subscriptions"])

	// Delete by hand.
	require.NoError(t, b.mgr.Delete(ctx, "contoso"))
	require.Empty(t, b.live("contoso"))
	statuses, err = b.mgr.List(ctx)
	require.NoError(t, err)
	require.Empty(t, statuses)

	// By hand, Delete also finds a subscription whose record Redis lost.
	api, err := b.clients.Subscriptions(ctx, "contoso")
	require.NoError(t, err)
	_, err = api.CreateSubscription(ctx, directory.Subscription{
		Resource: "/users", ChangeType: "updated,deleted", NotificationURL: b.mgr.NotificationURL(),
		ExpirationDateTime: b.clock.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	require.NoError(t, b.mgr.Delete(ctx, "contoso"))
	require.Empty(t, b.live("contoso"))

	// A disabled tenant that never consented and has no record is quietly
	// left alone.
	require.NoError(t, b.sim.RevokeConsent("northwind"))
	results, err = b.mgr.Converge(ctx, []subscription.Tenant{{ID: "northwind", Enabled: false}})
	require.NoError(t, err)
	require.Equal(t, []subscription.Result{{TenantID: "northwind", Action: subscription.ActionDelete}}, results)
	require.ErrorIs(t, b.mgr.Delete(ctx, "northwind"), directory.ErrPermissionDenied, "by hand it says why Graph was not cleaned")
}

func TestListReportsLapsedSubscriptions(t *testing.T) {
	t.Parallel()
	b := setup(t, []string{"contoso"}, nil)
	b.ensureAll()
	b.clock.Advance(30 * 24 * time.Hour)
	statuses, err := b.mgr.List(context.Background())
	require.NoError(t, err)
	require.Len(t, statuses, 1)
	require.Equal(t, subscription.HealthUnhealthy, statuses[0].Health)
	require.Equal(t, subscription.CodeSubscriptionExpired, statuses[0].ErrorCode)

	// The next check recreates it.
	rec, err := b.mgr.Ensure(context.Background(), "contoso")
	require.NoError(t, err)
	require.Equal(t, b.only("contoso").ID, rec.ID)
	gap := b.runs.matching("gap:contoso:" + rec.ID)
	require.Len(t, gap, 1)
	require.Equal(t, subscription.ReasonRecreated, gap[0].Reason)
}

func TestTenantLockSerialisesReplicas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, []string{"contoso"}, nil)
	// A second replica's manager on the same store.
	other, err := subscription.NewManager(b.store, b.clients, b.runs, subscription.Config{PublicURL: b.hook.srv.URL, Clock: b.clock.Now})
	require.NoError(t, err)
	errs := make(chan error, 6)
	for i := 0; i < 3; i++ {
		go func() { _, err := b.mgr.Ensure(ctx, "contoso"); errs <- err }()
		go func() { _, err := other.Ensure(ctx, "contoso"); errs <- err }()
	}
	for i := 0; i < 6; i++ {
		require.NoError(t, <-errs)
	}
	require.Len(t, b.live("contoso"), 1, "replicas racing still leave one subscription")
	require.Equal(t, 1, b.graphCalls()["POST subscriptions"])
	require.Len(t, b.runs.all(), 1)

	// A lock nobody releases makes the caller give up with ErrBusy.
	impatient, err := subscription.NewManager(b.store, b.clients, b.runs, subscription.Config{
		PublicURL: b.hook.srv.URL, Clock: b.clock.Now, LockWait: 300 * time.Millisecond,
	})
	require.NoError(t, err)
	require.NoError(t, b.redis.rdb.Set(ctx, b.redis.prefix+"sub:lock:contoso", "crashed-holder", time.Minute).Err())
	_, err = impatient.Ensure(ctx, "contoso")
	require.ErrorIs(t, err, subscription.ErrBusy)
	d, ok := subscription.RetryDelay(err)
	require.True(t, ok)
	require.Equal(t, 5*time.Second, d)
	require.True(t, strings.Contains(err.Error(), "contoso"))
}
