package app_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker/reporttest"
)

// weekClock is a fake clock shared by the Graph simulator (subscription
// expiry, delta token age) and psasync's subscription upkeep and schedules.
type weekClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *weekClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *weekClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestSimulatedWeek runs a week of three tenants on a fake clock, in steps
// of four hours: users change (Graph notifies the webhook), the scheduler
// ticks (incremental syncs, nightly reconciles, subscription checks and
// renewals), a subscription is deleted behind psasync's back, one gets
// reauthorizationRequired, and one tenant's users change while its
// notifications are lost. At the end every PSA company matches its tenant
// and no subscription has lapsed.
func TestSimulatedWeek(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated week: skipped with -short")
	}
	t.Parallel()
	clock := &weekClock{now: time.Date(2026, 11, 2, 0, 30, 0, 0, time.UTC)}
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: 25, Tenants: 3, Unlimited: true,
		GraphOptions: []graphsim.Option{graphsim.WithClock(clock.Now)}})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	testRedis(t, cfg)
	cfg.PSA.Quota = &quota.Config{Requests: 100000, Period: time.Hour, MaxConcurrent: 4}
	cfg.Server.APIToken = testAPIToken
	cfg.Tenants[1].Schedule = &config.Schedule{TimeZone: "America/New_York"}
	// The scheduler ticks every four hours here, coarser than the nightly
	// spread (02:00-05:00): without it each night's reconcile is due at the
	// tick after 02:00. The spread has tests of its own (subscription).
	cfg.Schedule.ReconcileSpread = -1
	nb := startNodeWith(t, env, cfg, nodeOpts{clock: clock.Now})
	ctx := context.Background()

	sched, err := nb.n.NewScheduler(subscription.SchedulerConfig{Clock: clock.Now, Logger: quietLogger()})
	require.NoError(t, err)

	rng := rand.New(rand.NewPCG(7, 7))
	titles := []string{"Analyst", "Lead", "Manager", "Director", "Engineer"}
	step := 4 * time.Hour
	for i := 0; i < int(7*24*time.Hour/step); i++ {
		now := clock.Now()
		day := int(now.Sub(time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)) / (24 * time.Hour))
		switch i {
		case 7: // day 1: Graph dropped tenant 0's subscription
			for _, s := range env.Graph.Subscriptions(env.Tenants[0]) {
				require.NoError(t, env.Graph.DeleteSubscription(s.ID))
			}
		case 13: // day 2: reauthorization required for tenant 2
			for _, s := range env.Graph.Subscriptions(env.Tenants[2]) {
				require.NoError(t, env.Graph.SendLifecycle(ctx, s.ID, "reauthorizationRequired"))
			}
		}
		for ti, tenant := range env.Tenants {
			users := env.Graph.Users(tenant)
			for k := 0; k < 2; k++ {
				u := users[rng.IntN(len(users))]
				if !syncable(u) {
					continue
				}
				props := map[string]any{"jobTitle": fmt.Sprintf("%s d%d", titles[rng.IntN(len(titles))], day)}
				if ti == 1 && k == 0 {
					props["businessPhones"] = []string{fmt.Sprintf("+1 212 555 %04d", rng.IntN(10000))}
				}
				_, err := env.Graph.UpdateUser(tenant, u.ID, props)
				require.NoError(t, err)
			}
		}
		// Notifications first, then the schedule: the user jobs would only
		// wait for the runs' tenant locks otherwise.
		t0 := time.Now()
		require.NoError(t, env.Graph.WaitDeliveries(ctx))
		t1 := time.Now()
		nb.waitIdle(t)
		t2 := time.Now()
		require.NoError(t, sched.Tick(ctx, clock.Now()))
		nb.waitIdle(t)
		t.Logf("step %d: deliveries %s, jobs %s, schedule %s", i, t1.Sub(t0), t2.Sub(t1), time.Since(t2))
		clock.Advance(step)
	}
	// A final tick and catch-up, as the next incremental period would do.
	require.NoError(t, sched.Tick(ctx, clock.Now()))
	nb.waitIdle(t)

	for ti, tenant := range env.Tenants {
		live := env.Graph.Subscriptions(tenant)
		require.Len(t, live, 1, "tenant %d has exactly one live subscription", ti)
		require.True(t, live[0].ExpirationDateTime.After(clock.Now().Add(24*time.Hour)), "tenant %d's subscription is renewed well before expiry", ti)
		company := simenv.DefaultCompanyID + ti
		byExt := map[string]simenv.Contact{}
		for _, c := range env.PSA.Contacts(company) {
			byExt[c.ExternalID] = c
		}
		for _, u := range env.Graph.Users(tenant) {
			c, ok := byExt[u.ID]
			if !syncable(u) {
				continue
			}
			require.True(t, ok, "tenant %d: %s has a contact", ti, u.UserPrincipalName)
			require.Equal(t, u.JobTitle, c.Title, "tenant %d: %s", ti, u.UserPrincipalName)
			if len(u.BusinessPhones) > 0 {
				require.Equal(t, u.BusinessPhones[0], c.Phone)
			}
			require.False(t, c.Inactive)
		}
	}
	statuses, err := nb.n.Manager().List(ctx)
	require.NoError(t, err)
	require.Len(t, statuses, 3)
	for _, s := range statuses {
		require.Equal(t, "healthy", s.Health, "%+v", s)
	}
	runs, err := nb.n.Engine().Store().Runs(ctx, ledger.RunQuery{}, 500)
	require.NoError(t, err)
	reconciles := 0
	for _, r := range runs {
		if strings.HasPrefix(r.ID, "reconcile:") {
			reconciles++
		}
		if r.Report != nil {
			reporttest.Validate(t, r.Report) // scheduled runs keep the contract too
		}
	}
	require.GreaterOrEqual(t, reconciles, 3*6, "a nightly reconcile per tenant and night")
}
