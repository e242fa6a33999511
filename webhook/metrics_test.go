package webhook

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestMetricsRegistered(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	require.NoError(t, err)
	m.record(endpointNotifications, 3, &tally{reasonTenantMismatch: 2})
	m.observe("/webhook/graph", "POST", 202, 0.001)
	m.observe("", "BREW", 404, 0.001)

	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP psasync_webhook_notifications_accepted_total Graph notification items enqueued, by endpoint (notifications or lifecycle).
# TYPE psasync_webhook_notifications_accepted_total counter
psasync_webhook_notifications_accepted_total{endpoint="lifecycle"} 0
psasync_webhook_notifications_accepted_total{endpoint="notifications"} 3
`), "psasync_webhook_notifications_accepted_total"))
	require.InDelta(t, 2, testutil.ToFloat64(m.rejected[endpointNotifications][reasonTenantMismatch]), 0)
	require.Equal(t, 2*int(reasonCount), testutil.CollectAndCount(reg, "psasync_webhook_notifications_rejected_total"))

	out, err := reg.Gather()
	require.NoError(t, err)
	var labels []string
	for _, mf := range out {
		if mf.GetName() != "psasync_webhook_request_duration_seconds" {
			continue
		}
		for _, metric := range mf.GetMetric() {
			for _, lp := range metric.GetLabel() {
				labels = append(labels, lp.GetName()+"="+lp.GetValue())
			}
		}
	}
	require.Contains(t, labels, "method=OTHER", "unknown methods are folded")
	require.Contains(t, labels, "route=unmatched")
	require.NotContains(t, labels, "method=BREW")
}

func TestMetricsWithoutRegisterer(t *testing.T) {
	t.Parallel()
	m, err := newMetrics(nil)
	require.NoError(t, err)
	m.record(endpointLifecycle, 1, &tally{})
	require.InDelta(t, 1, testutil.ToFloat64(m.accepted[endpointLifecycle]), 0)
}

func TestReasonNames(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for r := range reasonCount {
		name := r.String()
		require.NotEmpty(t, name, "reason %d has no name", r)
		require.False(t, seen[name], "duplicate reason %q", name)
		seen[name] = true
	}
}
