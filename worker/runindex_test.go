package worker_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

// TestRunIndexByTenant: each tenant's newest run is kept (an older run
// saved later does not replace it), and a tenant's runs list newest first
// from a given time.
func TestRunIndexByTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	rec := func(id, tenant string, at time.Time, state string) worker.RunRecord {
		in := worker.DefaultRunInputs(tenant)
		rr := worker.RunRecord{ID: id, State: state, Inputs: in, CreatedAt: at}
		if state == worker.RunSucceeded {
			rr.Report = &worker.Report{Success: true, Statistics: worker.Statistics{ContactsCreated: 3}, DurationMS: 1200}
		}
		return rr
	}
	require.NoError(t, s.SaveRun(ctx, rec("a1", "contoso", base, worker.RunSucceeded)))
	require.NoError(t, s.SaveRun(ctx, rec("a2", "contoso", base.Add(time.Hour), worker.RunRunning)))
	// The older run finishing later keeps the newer as the last run.
	require.NoError(t, s.SaveRun(ctx, rec("a1", "contoso", base, worker.RunSucceeded)))
	require.NoError(t, s.SaveRun(ctx, rec("b1", "fabrikam", base.Add(2*time.Hour), worker.RunSucceeded)))

	last, err := s.LastRuns(ctx, []string{"contoso", "fabrikam", "northwind"})
	require.NoError(t, err)
	require.Len(t, last, 2, "northwind has no run")
	require.Equal(t, "a2", last["contoso"].ID)
	require.Equal(t, worker.RunRunning, last["contoso"].State)
	require.False(t, last["contoso"].Report)
	require.Equal(t, "b1", last["fabrikam"].ID)
	require.True(t, last["fabrikam"].Success)
	require.Equal(t, 3, last["fabrikam"].Statistics.ContactsCreated)
	require.Equal(t, int64(1200), last["fabrikam"].DurationMS)

	runs, err := s.TenantRuns(ctx, "contoso", base.Add(-time.Minute), 0)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.Equal(t, []string{"a2", "a1"}, []string{runs[0].ID, runs[1].ID}, "newest first")
	runs, err = s.TenantRuns(ctx, "contoso", base.Add(time.Minute), 0)
	require.NoError(t, err)
	require.Len(t, runs, 1, "since drops older runs")
}
