package subscription_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/subscription"
)

func TestCollectorExportsTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := subscription.NewStore(r.rdb, r.prefix)

	healthy := sampleRecord("contoso", "sub-1")
	require.NoError(t, s.Save(ctx, healthy))
	require.NoError(t, s.TouchNotification(ctx, "sub-1", time.Date(2025, 5, 2, 8, 30, 0, 0, time.UTC)))
	// No live subscription: health only.
	require.NoError(t, s.Save(ctx, subscription.Record{TenantID: "fabrikam", Health: subscription.HealthUnhealthy, ErrorCode: "PermissionDenied"}))
	// No verdict yet counts as pending; no notification yet exports none.
	fresh := sampleRecord("litware", "sub-3")
	fresh.Health = ""
	require.NoError(t, s.Save(ctx, fresh))

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(subscription.NewCollector(s, subscription.CollectorConfig{})))
	want := `
# HELP psasync_subscription_created_timestamp_seconds When the tenant's current Graph subscription was created, unix seconds; silence is counted from here until a notification arrives.
# TYPE psasync_subscription_created_timestamp_seconds gauge
psasync_subscription_created_timestamp_seconds{tenant="contoso"} 1.7460936e+09
psasync_subscription_created_timestamp_seconds{tenant="litware"} 1.7460936e+09
# HELP psasync_subscription_expiry_timestamp_seconds When the tenant's Graph subscription expires (as Graph confirmed it), unix seconds; missing while the tenant has none.
# TYPE psasync_subscription_expiry_timestamp_seconds gauge
psasync_subscription_expiry_timestamp_seconds{tenant="contoso"} 1.7485992e+09
psasync_subscription_expiry_timestamp_seconds{tenant="litware"} 1.7485992e+09
# HELP psasync_subscription_health 1 for the tenant's current subscription health (healthy, pending, unhealthy), 0 for the others.
# TYPE psasync_subscription_health gauge
psasync_subscription_health{health="healthy",tenant="contoso"} 1
psasync_subscription_health{health="healthy",tenant="fabrikam"} 0
psasync_subscription_health{health="healthy",tenant="litware"} 0
psasync_subscription_health{health="pending",tenant="contoso"} 0
psasync_subscription_health{health="pending",tenant="fabrikam"} 0
psasync_subscription_health{health="pending",tenant="litware"} 1
psasync_subscription_health{health="unhealthy",tenant="contoso"} 0
psasync_subscription_health{health="unhealthy",tenant="fabrikam"} 1
psasync_subscription_health{health="unhealthy",tenant="litware"} 0
# HELP psasync_subscription_last_notification_timestamp_seconds When the webhook last accepted a change notification of the tenant's subscription, unix seconds; missing when none has arrived.
# TYPE psasync_subscription_last_notification_timestamp_seconds gauge
psasync_subscription_last_notification_timestamp_seconds{tenant="contoso"} 1.7461746e+09
# HELP psasync_subscription_store_up 1 when the last scrape read the subscription store, 0 when it failed (the per-tenant series are then missing).
# TYPE psasync_subscription_store_up gauge
psasync_subscription_store_up 1
# HELP psasync_subscription_tenants Tenants with a subscription record (all of them, also those beyond the exported maximum).
# TYPE psasync_subscription_tenants gauge
psasync_subscription_tenants 3
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want)))
}

func TestCollectorIsBounded(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := subscription.NewStore(r.rdb, r.prefix)
	for _, id := range []string{"a", "b", "c"} {
		require.NoError(t, s.Save(ctx, sampleRecord("tenant-"+id, "sub-"+id)))
	}
	c := subscription.NewCollector(s, subscription.CollectorConfig{MaxTenants: 2})
	// The first two tenants by id, each with 3 health series, expiry and
	// created, plus store_up and the tenant count.
	require.Equal(t, 2*5+2, testutil.CollectAndCount(c))
	require.Equal(t, 3.0, testutil.ToFloat64(collectorGauge(c, "psasync_subscription_tenants")))
}

func TestCollectorSurvivesStoreFailure(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	c := subscription.NewCollector(subscription.NewStore(rdb, "psasync:"), subscription.CollectorConfig{Timeout: time.Second})
	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(c))
	want := `
# HELP psasync_subscription_store_up 1 when the last scrape read the subscription store, 0 when it failed (the per-tenant series are then missing).
# TYPE psasync_subscription_store_up gauge
psasync_subscription_store_up 0
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want)), "the scrape answers without the tenants")
}

// collectorGauge filters c's output to the one metric named name.
func collectorGauge(c prometheus.Collector, name string) prometheus.Collector {
	return filtered{c: c, name: name}
}

type filtered struct {
	c    prometheus.Collector
	name string
}

func (f filtered) Describe(ch chan<- *prometheus.Desc) { f.c.Describe(ch) }

func (f filtered) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { f.c.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"`+f.name+`"`) {
			ch <- m
		}
	}
}
