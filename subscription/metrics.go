package subscription

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

// Defaults of CollectorConfig.
const (
	// DefaultCollectorTimeout bounds one scrape's read of the store, so a
	// slow Redis slows /metrics by at most this much.
	DefaultCollectorTimeout = 5 * time.Second
	// DefaultCollectorMaxTenants bounds the tenants one scrape exports (4
	// to 7 series each): far above what one deployment serves, low enough
	// that a runaway tenant set cannot blow up Prometheus.
	DefaultCollectorMaxTenants = 5000
)

// CollectorConfig tunes a Collector; the zero value takes the defaults.
type CollectorConfig struct {
	// Timeout bounds each scrape's read of the store (default
	// DefaultCollectorTimeout).
	Timeout time.Duration
	// MaxTenants is how many tenants, by id, a scrape exports (default
	// DefaultCollectorMaxTenants); the count of all of them is still
	// exported.
	MaxTenants int
	// Logger receives read failures and truncation (default: discard).
	Logger logrus.FieldLogger
}

// Collector exports every tenant's subscription state as Prometheus
// metrics, read from the Store at scrape time, so that alerts see what the
// manager and the webhook wrote whichever replica wrote it, and every
// replica exports the same values (aggregate with max by (tenant)).
//
// A scrape costs three Redis round trips and reads at most MaxTenants
// records. When the store cannot be read, psasync_subscription_store_up is
// 0 and the per-tenant series are left out, so /metrics keeps answering.
type Collector struct {
	store *Store
	cfg   CollectorConfig

	up           *prometheus.Desc
	tenants      *prometheus.Desc
	health       *prometheus.Desc
	expiry       *prometheus.Desc
	created      *prometheus.Desc
	notification *prometheus.Desc
}

// healthStates are the values of the health label; every tenant gets one
// series per state, 1 for its current one (a Prometheus state set), so that
// a rule can match health="unhealthy" == 1 without knowing the others.
var healthStates = [...]string{HealthHealthy, HealthPending, HealthUnhealthy}

// NewCollector returns a Collector over store; register it on the
// registry that /metrics serves.
func NewCollector(store *Store, cfg CollectorConfig) *Collector {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultCollectorTimeout
	}
	if cfg.MaxTenants <= 0 {
		cfg.MaxTenants = DefaultCollectorMaxTenants
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	tenant := []string{"tenant"}
	return &Collector{
		store: store, cfg: cfg,
		up: prometheus.NewDesc("psasync_subscription_store_up",
			"1 when the last scrape read the subscription store, 0 when it failed (the per-tenant series are then missing).", nil, nil),
		tenants: prometheus.NewDesc("psasync_subscription_tenants",
			"Tenants with a subscription record (all of them, also those beyond the exported maximum).", nil, nil),
		health: prometheus.NewDesc("psasync_subscription_health",
			"1 for the tenant's current subscription health (healthy, pending, unhealthy), 0 for the others.", []string{"tenant", "health"}, nil),
		expiry: prometheus.NewDesc("psasync_subscription_expiry_timestamp_seconds",
			"When the tenant's Graph subscription expires (as Graph confirmed it), unix seconds; missing while the tenant has none.", tenant, nil),
		created: prometheus.NewDesc("psasync_subscription_created_timestamp_seconds",
			"When the tenant's current Graph subscription was created, unix seconds; silence is counted from here until a notification arrives.", tenant, nil),
		notification: prometheus.NewDesc("psasync_subscription_last_notification_timestamp_seconds",
			"When the webhook last accepted a change notification of the tenant's subscription, unix seconds; missing when none has arrived.", tenant, nil),
	}
}

// Describe sends every descriptor the Collector may export.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.tenants, c.health, c.expiry, c.created, c.notification} {
		ch <- d
	}
}

// Collect reads the store (bounded by Timeout and MaxTenants) and sends
// the tenants' series.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
	defer cancel()
	recs, total, err := c.store.first(ctx, c.cfg.MaxTenants)
	if err != nil {
		c.cfg.Logger.WithError(err).Warn("subscription metrics: cannot read the store")
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	if total > len(recs) {
		c.cfg.Logger.WithFields(logrus.Fields{"tenants": total, "exported": len(recs)}).
			Warn("subscription metrics: more tenants than the exported maximum; the rest are left out")
	}
	ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(c.tenants, prometheus.GaugeValue, float64(total))
	for _, r := range recs {
		current := r.Health
		if current != HealthHealthy && current != HealthUnhealthy {
			current = HealthPending // no verdict yet
		}
		for _, h := range healthStates {
			v := 0.0
			if h == current {
				v = 1
			}
			ch <- prometheus.MustNewConstMetric(c.health, prometheus.GaugeValue, v, r.TenantID, h)
		}
		if r.ID == "" {
			continue // no live subscription: nothing expires, nothing arrives
		}
		if !r.Expiry.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.expiry, prometheus.GaugeValue, unixSeconds(r.Expiry), r.TenantID)
		}
		if !r.CreatedAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.created, prometheus.GaugeValue, unixSeconds(r.CreatedAt), r.TenantID)
		}
		if !r.LastNotificationAt.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.notification, prometheus.GaugeValue, unixSeconds(r.LastNotificationAt), r.TenantID)
		}
	}
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
