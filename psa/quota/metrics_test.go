package quota_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/quota"
)

func TestBudgetCollector(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(quota.NewBudgetCollector(quota.Autotask, quota.Config{Requests: 10000, Period: time.Hour})))
	want := `
# HELP psasync_psa_quota_budget_requests Requests the PSA budget allows per period, across all replicas (psa.quota.requests).
# TYPE psasync_psa_quota_budget_requests gauge
psasync_psa_quota_budget_requests{psa="autotask"} 10000
# HELP psasync_psa_quota_period_seconds The period the PSA request budget is counted over, in seconds (psa.quota.period).
# TYPE psasync_psa_quota_period_seconds gauge
psasync_psa_quota_period_seconds{psa="autotask"} 3600
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want)))

	// Only a concurrency cap: no budget to export.
	require.Zero(t, testutil.CollectAndCount(quota.NewBudgetCollector(quota.HaloPSA, quota.Config{MaxConcurrent: 3})))
}
