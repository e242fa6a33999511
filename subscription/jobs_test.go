package subscription_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/subscription"
	"strconv"
)

func TestLifecycleJobs(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 10, 30, 15, 0, time.UTC)
	minute := strconv.FormatInt(now.Unix()/60, 10)
	tests := []struct {
		name  string
		event string
		kind  subscription.JobKind
		id    string
	}{
		{"reauthorize", directory.LifecycleReauthorizationRequired, subscription.JobReauthorize, "lifecycle:reauthorize:s1:reauthorizationRequired:" + minute},
		{"removed", directory.LifecycleSubscriptionRemoved, subscription.JobEnsure, "lifecycle:ensure:s1:subscriptionRemoved:" + minute},
		{"missed", directory.LifecycleMissed, subscription.JobEnsure, "lifecycle:ensure:s1:missed:" + minute},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			jobs := subscription.LifecycleJobs([]subscription.LifecycleEvent{{TenantID: "contoso", SubscriptionID: "s1", Event: tc.event}}, now)
			require.Equal(t, []subscription.LifecycleJob{{Kind: tc.kind, ID: tc.id, TenantID: "contoso", SubscriptionID: "s1", Reason: tc.event}}, jobs)
		})
	}
	t.Run("same event twice in a minute has one id", func(t *testing.T) {
		t.Parallel()
		ev := subscription.LifecycleEvent{TenantID: "contoso", SubscriptionID: "s1", Event: directory.LifecycleReauthorizationRequired}
		a := subscription.LifecycleJobs([]subscription.LifecycleEvent{ev}, now)
		b := subscription.LifecycleJobs([]subscription.LifecycleEvent{ev}, now.Add(40*time.Second))
		c := subscription.LifecycleJobs([]subscription.LifecycleEvent{ev}, now.Add(time.Minute))
		require.Equal(t, a[0].ID, b[0].ID)
		require.NotEqual(t, a[0].ID, c[0].ID)
	})
}
