package app

import (
	"fmt"
	"regexp"
	"slices"
	"sync"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynq/x/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/subscription"
)

// registry is a node's Prometheus registry. It remembers the collectors
// registered on it, so that MetricNames can list every metric the node
// exports, also a vector that has no series yet.
type registry struct {
	*prometheus.Registry
	mu         sync.Mutex
	collectors []prometheus.Collector
}

func newRegistry() *registry { return &registry{Registry: prometheus.NewRegistry()} }

// Register registers c and remembers it.
func (r *registry) Register(c prometheus.Collector) error {
	if err := r.Registry.Register(c); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, c)
	return nil
}

// MustRegister registers cs and panics on the first error (wiring
// mistakes only).
func (r *registry) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// registerNodeMetrics registers what every node exports beside the worker
// counters: the Go and process collectors, each tenant's subscription state
// (read from the store at scrape time), the PSA budget when one is in
// force, and, on a node that serves /metrics, asynq's queue collector (the
// queue sizes and latencies). The webhook's own collectors are registered
// when its server is built.
func (n *Node) registerNodeMetrics() error {
	cs := []prometheus.Collector{
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		subscription.NewCollector(n.subs, subscription.CollectorConfig{Logger: n.log.WithField("component", "metrics")}),
		newLedgerCollector(n.app.ledger, n.log.WithField("component", "metrics")),
	}
	if q := n.cfg.EffectiveQuota(); q.Requests > 0 {
		cs = append(cs, quota.NewBudgetCollector(n.cfg.PSA.Type, q))
	}
	if n.opts.Roles&RoleWebhook != 0 {
		inspector := asynq.NewInspector(n.asynq)
		n.closers = append(n.closers, func() { _ = inspector.Close() })
		cs = append(cs, metrics.NewQueueMetricsCollector(inspector))
	}
	for _, c := range cs {
		if err := n.reg.Register(c); err != nil {
			return fmt.Errorf("register metrics: %w", err)
		}
	}
	return nil
}

// descName reads a descriptor's fully-qualified name: client_golang
// offers no accessor, and Desc.String has had this form since v0.9.
var descName = regexp.MustCompile(`^Desc\{fqName: "([^"]+)"`)

// MetricNames lists, sorted, the name of every metric the node's /metrics
// may export, from the descriptors of what is registered (so a renamed
// metric changes the list); the deploy tests check the alert rules and the
// dashboard against it. Collectors that describe themselves by collecting
// (asynq's queue collector) list their metrics only once a queue exists.
func (n *Node) MetricNames() []string {
	n.reg.mu.Lock()
	cs := slices.Clone(n.reg.collectors)
	n.reg.mu.Unlock()
	ch := make(chan *prometheus.Desc)
	go func() {
		for _, c := range cs {
			c.Describe(ch)
		}
		close(ch)
	}()
	var names []string
	for d := range ch {
		if m := descName.FindStringSubmatch(d.String()); m != nil {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}
