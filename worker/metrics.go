package worker

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are psasync's own counters, so an MSP can alert on failed
// contacts and on PSA or Graph error rates (the workflow's advice), and the
// gauges of each tenant's last incremental run, so that an alert can tell a
// tenant whose users change but whose notifications stopped
// (deploy/prometheus/psasync-rules.yaml).
type Metrics struct {
	contacts *prometheus.CounterVec
	failures *prometheus.CounterVec
	runs     *prometheus.CounterVec
	upstream *prometheus.CounterVec
	// deltaChanged and deltaFinished are per tenant: users_processed of
	// the tenant's last incremental run and when that run finished.
	deltaChanged  *prometheus.GaugeVec
	deltaFinished *prometheus.GaugeVec
}

// NewMetrics creates the counters and registers them on reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		contacts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "psasync_contacts_total",
			Help: "PSA contact writes by action (created, updated, deactivated, reactivated, linked)."}, []string{"action"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "psasync_contact_failures_total",
			Help: "Users that could not be synced, by the report's error code."}, []string{"code"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "psasync_runs_total",
			Help: "Finished sync runs by mode and result (success, failed)."}, []string{"mode", "result"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "psasync_upstream_requests_total",
			Help: "HTTP requests to the PSA and to Microsoft Graph, by upstream and status (error = no answer)."}, []string{"upstream", "status"}),
		deltaChanged: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "psasync_last_incremental_run_users_changed",
			Help: "Users the tenant's last incremental (delta) run in this process saw changed (the report's users_processed)."}, []string{"tenant"}),
		deltaFinished: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "psasync_last_incremental_run_timestamp_seconds",
			Help: "When the tenant's last incremental (delta) run in this process finished, unix seconds."}, []string{"tenant"}),
	}
	for _, c := range []prometheus.Collector{m.contacts, m.failures, m.runs, m.upstream, m.deltaChanged, m.deltaFinished} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveReport counts a finished run's writes and failures and, for an
// incremental run that is not a dry run, sets the tenant's last-delta gauges
// to the users it saw changed and its finish time.
func (m *Metrics) ObserveReport(r *Report) {
	if m == nil || r == nil {
		return
	}
	result := "success"
	if !r.Success {
		result = "failed"
	}
	m.runs.WithLabelValues(r.SyncMode, result).Inc()
	if r.DryRun {
		return
	}
	if r.SyncMode == ModeIncremental && r.TenantID != "" {
		finished := r.SyncTimestamp.Add(time.Duration(r.DurationMS) * time.Millisecond)
		m.deltaChanged.WithLabelValues(r.TenantID).Set(float64(r.Statistics.UsersProcessed))
		m.deltaFinished.WithLabelValues(r.TenantID).Set(float64(finished.UnixMilli()) / 1000)
	}
	for _, c := range r.CreatedContacts {
		m.contacts.WithLabelValues(c.Action).Inc()
	}
	for _, c := range r.UpdatedContacts {
		m.contacts.WithLabelValues(c.Action).Inc()
	}
	for _, e := range r.Errors {
		m.failures.WithLabelValues(e.Code).Inc()
	}
}

// ObserveOutcome counts one per-user job.
func (m *Metrics) ObserveOutcome(o UserOutcome) {
	if m == nil {
		return
	}
	switch o.Action {
	case "skipped", "":
	case "failed":
		m.failures.WithLabelValues(o.Code).Inc()
	default:
		m.contacts.WithLabelValues(o.Action).Inc()
	}
}

// Transport counts the requests that pass through next, labelled with
// upstream ("psa" or "graph") and the HTTP status.
func (m *Metrics) Transport(upstream string, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	if m == nil {
		return next
	}
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		status := "error"
		if err == nil {
			status = strconv.Itoa(resp.StatusCode)
		}
		m.upstream.WithLabelValues(upstream, status).Inc()
		return resp, err
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
