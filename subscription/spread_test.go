package subscription_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/subscription"
)

// manyTenants is an MSP's tenants, all on one schedule.
func manyTenants(n int, sch subscription.Schedule) []subscription.ScheduledTenant {
	out := make([]subscription.ScheduledTenant, n)
	for i := range out {
		out[i] = subscription.ScheduledTenant{ID: fmt.Sprintf("%08x-0000-4000-8000-%012d", i*2654435761, i), Enabled: true, Schedule: sch}
	}
	return out
}

// tickNight ticks a scheduler every minute from from to to and returns the
// reconciles enqueued, by tenant.
func tickNight(t *testing.T, tenants []subscription.ScheduledTenant, from, to time.Time) map[string][]run {
	t.Helper()
	now := from
	queue := newRuns()
	queue.clock = func() time.Time { return now }
	s, err := subscription.NewScheduler(queue, queue, staticTenants(tenants...), subscription.SchedulerConfig{})
	require.NoError(t, err)
	for ; now.Before(to); now = now.Add(time.Minute) {
		require.NoError(t, s.Tick(context.Background(), now))
	}
	out := map[string][]run{}
	for _, r := range queue.all() {
		if r.Mode == "full" {
			out[r.Tenant] = append(out[r.Tenant], r)
		}
	}
	return out
}

func TestNightlyReconcilesSpreadOverTheWindow(t *testing.T) {
	t.Parallel()
	const n = 1000
	loc := mustZone(t, "Europe/Berlin")
	tenants := manyTenants(n, subscription.Schedule{IncrementalEvery: -1, Location: loc}) // defaults: 02:00, spread 3h
	from := time.Date(2025, 6, 2, 0, 0, 0, 0, loc)
	// Ticks from midnight to 09:00, past the window's catch-up end (08:00).
	got := tickNight(t, tenants, from, from.Add(9*time.Hour))
	require.Len(t, got, n, "every tenant gets its run")
	perHalfHour := map[int]int{}
	for _, tn := range tenants {
		runs := got[tn.ID]
		require.Len(t, runs, 1, "one reconcile a night for %s", tn.ID)
		at := runs[0].At.In(loc)
		require.Equal(t, "reconcile:"+tn.ID+":2025-06-02", runs[0].ID)
		start := time.Date(2025, 6, 2, 2, 0, 0, 0, loc)
		require.False(t, at.Before(start), "%s started before 02:00: %s", tn.ID, at)
		// The scheduler ticks every minute here: a slot at 04:59:30 is
		// enqueued by the 05:00 tick.
		require.True(t, at.Before(start.Add(3*time.Hour+time.Minute)), "%s started after 05:00: %s", tn.ID, at)
		offset := subscription.ReconcileOffset(tn.ID, 3*time.Hour)
		require.WithinDuration(t, start.Add(offset), at, time.Minute, "at its own offset")
		perHalfHour[int(start.Add(offset).Sub(start)/(30*time.Minute))]++
	}
	// Six half hours of about n/6 = 167 each: no crowd at 02:00.
	require.Len(t, perHalfHour, 6)
	for slot, count := range perHalfHour {
		require.InDelta(t, n/6, count, n/6*0.25, "half hour %d has %d starts", slot, count)
	}
}

func TestMissedReconcilesCatchUpWithinTheWindow(t *testing.T) {
	t.Parallel()
	tenants := manyTenants(200, subscription.Schedule{IncrementalEvery: -1})
	night := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	// The scheduler was down from 01:00 to 06:00: every tenant, whatever
	// its slot, gets its run as soon as it is back (the window lasts until
	// 08:00).
	got := tickNight(t, tenants, night.Add(6*time.Hour), night.Add(7*time.Hour))
	require.Len(t, got, len(tenants))
	for _, tn := range tenants {
		require.Len(t, got[tn.ID], 1)
		require.Equal(t, night.Add(6*time.Hour), got[tn.ID][0].At, "caught up at once")
	}
	// Back only at 08:30: the night is skipped rather than reconciling in
	// business hours.
	require.Empty(t, tickNight(t, tenants, night.Add(8*time.Hour+30*time.Minute), night.Add(12*time.Hour)))
}

func TestLateSpreadCrossesMidnight(t *testing.T) {
	t.Parallel()
	// 23:00 with a 3h spread: a tenant whose slot is after midnight runs on
	// the next calendar day under the night's own id.
	tenants := manyTenants(50, subscription.Schedule{IncrementalEvery: -1, ReconcileAt: "23:00"})
	from := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	got := tickNight(t, tenants, from, from.Add(24*time.Hour))
	require.Len(t, got, len(tenants))
	afterMidnight := 0
	for _, tn := range tenants {
		require.Len(t, got[tn.ID], 1)
		require.Equal(t, "reconcile:"+tn.ID+":2025-06-02", got[tn.ID][0].ID)
		if got[tn.ID][0].At.Day() == 3 {
			afterMidnight++
		}
	}
	require.Positive(t, afterMidnight, "some slots fall after midnight")
}
