package quota

import "github.com/prometheus/client_golang/prometheus"

// BudgetCollector exports a PSA's configured rate budget, so that alerts
// and dashboards can put the PSA requests psasync makes
// (psasync_upstream_requests_total{upstream="psa"}, summed over replicas)
// against it. The budget is one number shared by every replica through
// Redis, so each replica exports the same value: aggregate it with max,
// never sum.
type BudgetCollector struct {
	cfg      Config
	requests *prometheus.Desc
	period   *prometheus.Desc
}

// NewBudgetCollector exports cfg's budget under the label psa=name (the
// PSA type, as WithName takes it). A Config without a rate budget
// (Requests 0) exports nothing: there is nothing to be near.
func NewBudgetCollector(name string, cfg Config) *BudgetCollector {
	labels := prometheus.Labels{"psa": name}
	return &BudgetCollector{
		cfg: cfg,
		requests: prometheus.NewDesc("psasync_psa_quota_budget_requests",
			"Requests the PSA budget allows per period, across all replicas (psa.quota.requests).", nil, labels),
		period: prometheus.NewDesc("psasync_psa_quota_period_seconds",
			"The period the PSA request budget is counted over, in seconds (psa.quota.period).", nil, labels),
	}
}

// Describe sends the budget's descriptors.
func (c *BudgetCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.requests
	ch <- c.period
}

// Collect sends the budget, when there is one.
func (c *BudgetCollector) Collect(ch chan<- prometheus.Metric) {
	if c.cfg.Requests <= 0 || c.cfg.Period <= 0 {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue, float64(c.cfg.Requests))
	ch <- prometheus.MustNewConstMetric(c.period, prometheus.GaugeValue, c.cfg.Period.Seconds())
}
