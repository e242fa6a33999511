package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

// endpoint names a Graph notification route in metric labels.
type endpoint int

const (
	endpointNotifications endpoint = iota // POST /webhook/graph
	endpointLifecycle                     // POST /webhook/graph/lifecycle
	endpointCount
)

func (e endpoint) String() string {
	if e == endpointLifecycle {
		return "lifecycle"
	}
	return "notifications"
}

// rejectReason says why a notification item was dropped; it is the reason
// label of psasync_webhook_notifications_rejected_total.
type rejectReason int

const (
	// reasonMalformed: the item is not an object, a field has the wrong
	// JSON type, or subscriptionId is missing or absurdly long.
	reasonMalformed rejectReason = iota
	// reasonUnknownSubscription: no stored subscription has that id.
	reasonUnknownSubscription
	// reasonTooManySubscriptions: the POST names more distinct subscriptions
	// than maxSubscriptionsPerRequest; the rest are not looked up.
	reasonTooManySubscriptions
	// reasonClientStateMismatch: clientState differs from the stored secret.
	reasonClientStateMismatch
	// reasonTenantMismatch: tenantId is not the subscription's tenant.
	reasonTenantMismatch
	// reasonUnsupportedResource: resource is not users/{id} with a plain id.
	reasonUnsupportedResource
	// reasonUnsupportedChangeType: changeType is not updated or deleted.
	reasonUnsupportedChangeType
	// reasonUnknownLifecycleEvent: lifecycleEvent is not one psasync handles.
	reasonUnknownLifecycleEvent
	reasonCount
)

var reasonNames = [reasonCount]string{
	reasonMalformed:             "malformed",
	reasonUnknownSubscription:   "unknown_subscription",
	reasonTooManySubscriptions:  "too_many_subscriptions",
	reasonClientStateMismatch:   "client_state_mismatch",
	reasonTenantMismatch:        "tenant_mismatch",
	reasonUnsupportedResource:   "unsupported_resource",
	reasonUnsupportedChangeType: "unsupported_change_type",
	reasonUnknownLifecycleEvent: "unknown_lifecycle_event",
}

func (r rejectReason) String() string { return reasonNames[r] }

// tally counts rejected items of one request by reason; it is added to the
// metrics only once the request is answered 202, so a 503 that Graph
// redelivers is not counted twice.
type tally [reasonCount]int

// metrics are the webhook's own Prometheus collectors. Counter children are
// resolved once in newMetrics so the request path does no label lookups.
type metrics struct {
	accepted        [endpointCount]prometheus.Counter
	rejected        [endpointCount][reasonCount]prometheus.Counter
	handshakes      [endpointCount]prometheus.Counter
	enqueueFailures [endpointCount]prometheus.Counter
	lookupFailures  [endpointCount]prometheus.Counter
	duration        *prometheus.HistogramVec
}

// newMetrics builds the collectors and registers them on reg (nil: not
// registered, the counters still work for tests).
func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "psasync", Subsystem: "webhook", Name: name, Help: help}, labels)
	}
	acceptedVec := counter("notifications_accepted_total",
		"Graph notification items enqueued, by endpoint (notifications or lifecycle).", "endpoint")
	rejectedVec := counter("notifications_rejected_total",
		"Graph notification items dropped without enqueueing, by endpoint and reason "+
			"(malformed, unknown_subscription, too_many_subscriptions, client_state_mismatch, "+
			"tenant_mismatch, unsupported_resource, unsupported_change_type, unknown_lifecycle_event).", "endpoint", "reason")
	handshakeVec := counter("validation_handshakes_total", "Graph subscription validation handshakes answered, by endpoint.", "endpoint")
	enqueueVec := counter("enqueue_failures_total", "Notification POSTs answered 503 because the queue refused the jobs, by endpoint.", "endpoint")
	lookupVec := counter("subscription_lookup_failures_total", "Notification POSTs answered 503 because subscriptions could not be read, by endpoint.", "endpoint")
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "psasync", Subsystem: "webhook", Name: "request_duration_seconds",
		Help:    "HTTP request durations by route, method and status code.",
		Buckets: []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "code"})

	m := &metrics{duration: duration}
	for e := range endpointCount {
		m.accepted[e] = acceptedVec.WithLabelValues(e.String())
		m.handshakes[e] = handshakeVec.WithLabelValues(e.String())
		m.enqueueFailures[e] = enqueueVec.WithLabelValues(e.String())
		m.lookupFailures[e] = lookupVec.WithLabelValues(e.String())
		for r := range reasonCount {
			m.rejected[e][r] = rejectedVec.WithLabelValues(e.String(), r.String())
		}
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{acceptedVec, rejectedVec, handshakeVec, enqueueVec, lookupVec, duration} {
		if err := reg.Register(c); err != nil {
			var already prometheus.AlreadyRegisteredError
			if errors.As(err, &already) {
				return nil, fmt.Errorf("webhook: register metrics: %w (one Registerer per Server)", err)
			}
			return nil, fmt.Errorf("webhook: register metrics: %w", err)
		}
	}
	return m, nil
}

// record adds one answered request's outcome.
func (m *metrics) record(e endpoint, accepted int, t *tally) {
	if accepted > 0 {
		m.accepted[e].Add(float64(accepted))
	}
	for r, n := range t {
		if n > 0 {
			m.rejected[e][r].Add(float64(n))
		}
	}
}

// observe records one request's duration. route is gin's route pattern and
// method is folded to the standard set, so label cardinality stays bounded
// whatever a client sends.
func (m *metrics) observe(route, method string, status int, seconds float64) {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut,
		http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		method = "OTHER"
	}
	if route == "" {
		route = "unmatched"
	}
	m.duration.WithLabelValues(route, method, strconv.Itoa(status)).Observe(seconds)
}
