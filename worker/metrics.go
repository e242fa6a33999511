package worker

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are psasync's own counters, so an MSP can alert on failed
// contacts and on PSA or Graph error rates (the workflow's advice).
type Metrics struct {
	contacts *prometheus.CounterVec
	failures *prometheus.CounterVec
	runs     *prometheus.CounterVec
	upstream *prometheus.CounterVec
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
	}
	for _, c := range []prometheus.Collector{m.contacts, m.failures, m.runs, m.upstream} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ObserveReport counts a finished run's writes and failures.
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
