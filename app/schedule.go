package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// graphClients gives the subscription manager each tenant's Graph client.
type graphClients struct{ a *App }

func (g graphClients) Subscriptions(ctx context.Context, tenantID string) (subscription.SubscriptionAPI, error) {
	t, ok := g.a.cfg.Tenant(tenantID)
	if !ok {
		// A tenant removed from the config still has a subscription to
		// delete: reach it with the shared multi-tenant app, if there is one.
		shared := g.a.cfg.Graph
		if shared.ClientID == "" || (shared.ClientSecret == "" && shared.CertificatePath == "") {
			return nil, fmt.Errorf("%q: %w %w", tenantID, worker.ErrUnknownTenant, subscription.ErrUnknownTenant)
		}
		t = config.Tenant{ID: tenantID}
	}
	return g.a.tenants.graphClient(ctx, t)
}

// newManager builds a subscription manager over the App's tenants.
func newManager(a *App, store *subscription.Store, runs subscription.RunEnqueuer, publicURL string, clock func() time.Time) (*subscription.Manager, error) {
	m, err := subscription.NewManager(store, graphClients{a}, runs, subscription.Config{PublicURL: publicURL, Logger: a.log, Clock: clock})
	if err != nil {
		return nil, badConfig(err)
	}
	return m, nil
}

// setupSubscriptions builds the subscription manager. Without a public URL
// the node manages no subscription.
func (n *Node) setupSubscriptions() error {
	if n.opts.World != nil && n.cfg.Server.PublicURL == "" {
		// The simulator posts to loopback (it accepts plain http only there),
		// also when psasync listens on every interface in a container.
		n.cfg.Server.PublicURL = loopbackURL(n.ln)
	}
	if n.cfg.Server.PublicURL == "" {
		n.log.Warn("server.public_url is not set: psasync creates no Graph subscriptions; changes arrive with the scheduled incremental syncs only")
		return nil
	}
	m, err := newManager(n.app, n.subs, n.runEnqueuer(), n.cfg.Server.PublicURL, n.opts.Clock)
	if err != nil {
		return err
	}
	n.manager = m
	return nil
}

// registerSubscriptionHandlers mounts the subscription jobs under the
// worker's task types, or refuses them when this node has no manager.
func (n *Node) registerSubscriptionHandlers(mux *asynq.ServeMux) {
	if n.manager != nil {
		mux.Handle(worker.TypeSubscriptionEnsure, &subscription.EnsureHandler{Manager: n.manager})
		mux.Handle(worker.TypeSubscriptionReauthorize, &subscription.ReauthorizeHandler{Manager: n.manager})
		return
	}
	refuse := asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		return fmt.Errorf("server.public_url is not set on this worker, so it cannot manage Graph subscriptions: %w", asynq.SkipRetry)
	})
	mux.Handle(worker.TypeSubscriptionEnsure, refuse)
	mux.Handle(worker.TypeSubscriptionReauthorize, refuse)
}

// workerServerConfig is the worker's asynq config with the subscription
// jobs' backoff, and asynq's logs through logrus at the configured level.
func (n *Node) workerServerConfig(concurrency int) asynq.Config {
	c := worker.ServerConfigFor(concurrency, asynqLogger{n.log}, n.queues)
	c.LogLevel = asynqLevel(n.log.GetLevel())
	c.RetryDelayFunc = func(k int, err error, t *asynq.Task) time.Duration {
		if d, ok := subscription.RetryDelay(err); ok {
			return d
		}
		d := worker.RetryDelay(k, err, t)
		if d > redisRetryDelay && n.app.redisWatch.recovering(err) {
			// The job hit a Redis failover: retry once it is over.
			return redisRetryDelay
		}
		return d
	}
	return c
}

// scheduledTenants is the scheduler's view of the tenants.
func scheduledTenants(cfg *config.Config, tenants []config.Tenant) ([]subscription.ScheduledTenant, error) {
	var out []subscription.ScheduledTenant
	for _, t := range tenants {
		s := cfg.EffectiveSchedule(t)
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: schedule.time_zone: %w", t.ID, err)
		}
		out = append(out, subscription.ScheduledTenant{ID: t.ID, Enabled: t.SyncEnabled(), Schedule: subscription.Schedule{
			IncrementalEvery: s.IncrementalEvery, ReconcileAt: s.ReconcileAt, ReconcileSpread: s.ReconcileSpread,
			Location: loc, RenewEvery: s.RenewEvery}})
	}
	return out, nil
}

// NewScheduler builds the scheduler the scheduler role runs, enqueuing on
// this node's queues; tests tick it on a fake clock (c.Clock).
func (n *Node) NewScheduler(c subscription.SchedulerConfig) (*subscription.Scheduler, error) {
	if c.Logger == nil {
		c.Logger = n.log
	}
	re := n.runEnqueuer()
	var jobs subscription.SubscriptionJobs = re
	if n.manager == nil {
		jobs = noSubscriptionJobs{}
	}
	return subscription.NewScheduler(re, jobs, func(ctx context.Context) ([]subscription.ScheduledTenant, error) {
		// Read on every tick: a tenant accepted since starts on its own
		// schedule without a restart.
		live, err := n.app.liveTenants(ctx)
		if err != nil {
			return nil, err
		}
		return scheduledTenants(n.cfg, live)
	}, c)
}

// runScheduler converges the subscriptions with the config, then enqueues
// the scheduled runs and checks until ctx ends.
func (n *Node) runScheduler(ctx context.Context) error {
	if n.manager != nil {
		if live, err := n.app.liveTenants(ctx); err != nil {
			// Converging without the accepted tenants would delete their
			// subscriptions: leave them all to the scheduled checks.
			n.log.WithError(err).Warn("could not read the accepted tenants; subscriptions are left to the scheduled checks")
		} else {
			n.converge(ctx, live)
		}
	}
	s, err := n.NewScheduler(subscription.SchedulerConfig{})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// converge brings the subscriptions in line with the live tenants.
func (n *Node) converge(ctx context.Context, live []config.Tenant) {
	var tenants []subscription.Tenant
	for _, t := range live {
		tenants = append(tenants, subscription.Tenant{ID: t.ID, Enabled: t.SyncEnabled()})
	}
	results, err := n.manager.Converge(ctx, tenants)
	if err != nil {
		n.log.WithError(err).Warn("could not read stored subscriptions")
	}
	for _, r := range results {
		if r.Err != nil {
			n.log.WithError(r.Err).WithField("tenant", r.TenantID).Warn("subscription not in place yet; the scheduled checks retry")
		}
	}
}

// runEnqueuer lets the subscription manager and the scheduler start runs.
// Scheduled ids are per tenant and period; the task keeps its id for
// retention so a second replica's enqueue of the same period is refused.
type runEnqueuer struct {
	n         *Node
	retention time.Duration
}

func (n *Node) runEnqueuer() runEnqueuer {
	return runEnqueuer{n: n, retention: subscription.ScheduledRetention}
}

// EnqueueRun enqueues a full or incremental run under id.
func (r runEnqueuer) EnqueueRun(ctx context.Context, id, tenantID string, full bool, reason string) error {
	in := worker.DefaultRunInputs(tenantID)
	in.SyncMode = runMode(full)
	_, err := r.n.queue.EnqueueRun(ctx, id, in, asynq.Retention(r.retention))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err == nil {
		r.n.log.WithFields(map[string]any{"tenant": tenantID, "run": id, "mode": in.SyncMode, "reason": reason}).Info("run enqueued")
	}
	return err
}

// EnqueueEnsure enqueues a subscription check under id.
func (r runEnqueuer) EnqueueEnsure(ctx context.Context, id, tenantID, reason string) error {
	return r.n.queue.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure,
		worker.SubscriptionPayload{Tenant: tenantID, Reason: reason}, asynq.TaskID(id), asynq.Retention(r.retention))
}

// runMode is the worker's mode name for a full run or not.
func runMode(full bool) string {
	if full {
		return worker.ModeFull
	}
	return worker.ModeIncremental
}

// noSubscriptionJobs is the scheduler's subscription queue when psasync
// manages no subscriptions (no server.public_url).
type noSubscriptionJobs struct{}

func (noSubscriptionJobs) EnqueueEnsure(context.Context, string, string, string) error { return nil }
