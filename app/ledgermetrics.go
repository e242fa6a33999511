package app

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/ledger"
)

// ledgerCollector exports, per tenant, what waits for an operator: open
// conflicts, contacts in held deactivation batches, and quarantined users
// (and whether the tenant itself is quarantined). It reads the ledger at
// scrape time, so every replica reports the same shared state.
type ledgerCollector struct {
	l   *ledger.Ledger
	log logrus.FieldLogger

	conflicts, held, users, tenant *prometheus.Desc
}

func newLedgerCollector(l *ledger.Ledger, log logrus.FieldLogger) *ledgerCollector {
	return &ledgerCollector{l: l, log: log,
		conflicts: prometheus.NewDesc("psasync_open_conflicts", "Users with an open conflict (DuplicateContact) waiting for an operator.", []string{"tenant"}, nil),
		held:      prometheus.NewDesc("psasync_held_deactivations", "Contacts in pending batches of deactivations the guard held back.", []string{"tenant"}, nil),
		users:     prometheus.NewDesc("psasync_quarantined_users", "Users quarantined after repeated permanent failures.", []string{"tenant"}, nil),
		tenant:    prometheus.NewDesc("psasync_tenant_quarantined", "1 while the tenant is quarantined (its runs keep failing on consent or permission).", []string{"tenant"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *ledgerCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.conflicts
	ch <- c.held
	ch <- c.users
	ch <- c.tenant
}

// Collect implements prometheus.Collector; a ledger that cannot be read
// costs the scrape these series, not the scrape.
func (c *ledgerCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conflicts, err := c.l.Conflicts(ctx, "", ledger.ConflictOpen)
	if err != nil {
		c.log.WithError(err).Warn("metrics: could not read the conflicts")
	}
	held, err := c.l.HeldBatches(ctx, "")
	if err != nil {
		c.log.WithError(err).Warn("metrics: could not read the held batches")
	}
	quarantined, err := c.l.Quarantined(ctx, "")
	if err != nil {
		c.log.WithError(err).Warn("metrics: could not read the quarantine")
	}
	counts := map[*prometheus.Desc]map[string]int{c.conflicts: {}, c.held: {}, c.users: {}, c.tenant: {}}
	for _, x := range conflicts {
		counts[c.conflicts][x.Tenant]++
	}
	for _, b := range held {
		for _, hc := range b.Contacts {
			if hc.Status == ledger.HeldPending {
				counts[c.held][b.Tenant]++
			}
		}
	}
	for _, q := range quarantined {
		if q.UserID == "" {
			counts[c.tenant][q.Tenant] = 1
		} else {
			counts[c.users][q.Tenant]++
		}
	}
	for d, byTenant := range counts {
		for tenant, n := range byTenant {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(n), tenant)
		}
	}
}
