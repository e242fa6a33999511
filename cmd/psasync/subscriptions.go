package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// graphClients gives the subscription manager each tenant's Graph client.
type graphClients struct{ a *app }

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

// setupSubscriptions builds the subscription manager. Without a public URL
// it still answers list and delete; ensure then fails with a clear error.
func (n *node) setupSubscriptions(f serveFlags) error {
	if n.demo != nil && n.cfg.Server.PublicURL == "" {
		// The simulator posts to loopback (it accepts plain http only there),
		// also when psasync listens on every interface in a container.
		n.cfg.Server.PublicURL = loopbackURL(n.ln)
	}
	if n.cfg.Server.PublicURL == "" {
		n.log.Warn("server.public_url is not set: psasync creates no Graph subscriptions; changes arrive with the scheduled incremental syncs only")
		return nil
	}
	m, err := newManager(n.app, n.subs, runEnqueuer{n: n, retention: subscription.ScheduledRetention}, n.cfg.Server.PublicURL, f.clock)
	if err != nil {
		return &badConfigError{err}
	}
	n.manager = m
	return nil
}

func newManager(a *app, store *subscription.Store, runs subscription.RunEnqueuer, publicURL string, clock func() time.Time) (*subscription.Manager, error) {
	return subscription.NewManager(store, graphClients{a}, runs, subscription.Config{PublicURL: publicURL, Logger: a.log, Clock: clock})
}

func (n *node) registerSubscriptionHandlers(mux *asynq.ServeMux) {
	if n.manager != nil {
		subscription.Register(mux, n.manager)
		return
	}
	refuse := asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
		return fmt.Errorf("server.public_url is not set on this worker, so it cannot manage Graph subscriptions: %w", asynq.SkipRetry)
	})
	mux.Handle(worker.TypeSubscriptionEnsure, refuse)
	mux.Handle(worker.TypeSubscriptionReauthorize, refuse)
}

// workerServerConfig adds the subscription jobs' backoff to the workers'.
func workerServerConfig(concurrency int, log asynq.Logger, queues worker.Queues) asynq.Config {
	c := worker.ServerConfigFor(concurrency, log, queues)
	c.RetryDelayFunc = func(n int, err error, t *asynq.Task) time.Duration {
		if d, ok := subscription.RetryDelay(err); ok {
			return d
		}
		return worker.RetryDelay(n, err, t)
	}
	return c
}

// scheduledTenants is the scheduler's view of the config.
func scheduledTenants(cfg *config.Config) ([]subscription.ScheduledTenant, error) {
	var out []subscription.ScheduledTenant
	for _, t := range cfg.Tenants {
		s := cfg.EffectiveSchedule(t)
		loc, err := time.LoadLocation(s.TimeZone)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: schedule.time_zone: %w", t.ID, err)
		}
		every := s.IncrementalEvery
		out = append(out, subscription.ScheduledTenant{ID: t.ID, Enabled: t.SyncEnabled(), Schedule: subscription.Schedule{
			IncrementalEvery: every, ReconcileAt: s.ReconcileAt, Location: loc, RenewEvery: s.RenewEvery}})
	}
	return out, nil
}

// runScheduler converges the subscriptions with the config, then enqueues
// the scheduled runs and checks until ctx ends.
func (n *node) runScheduler(ctx context.Context) error {
	var tenants []subscription.Tenant
	for _, t := range n.cfg.Tenants {
		tenants = append(tenants, subscription.Tenant{ID: t.ID, Enabled: t.SyncEnabled()})
	}
	if n.manager != nil {
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
	re := runEnqueuer{n: n, retention: subscription.ScheduledRetention}
	var jobs subscription.SubscriptionJobs = re
	if n.manager == nil {
		jobs = noSubscriptionJobs{}
	}
	s, err := subscription.NewScheduler(re, jobs, func(context.Context) ([]subscription.ScheduledTenant, error) {
		return scheduledTenants(n.cfg)
	}, subscription.SchedulerConfig{Logger: n.log})
	if err != nil {
		return err
	}
	return s.Run(ctx)
}

// cmdSubscriptions is `psasync subscriptions list|ensure|delete`.
func cmdSubscriptions(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || (args[0] != "list" && args[0] != "ensure" && args[0] != "delete") {
		fmt.Fprintln(stderr, "usage: psasync subscriptions list|ensure|delete [--tenant ID] [--config FILE | --demo] [--json]")
		return exitBadArgs
	}
	action := args[0]
	fs := flag.NewFlagSet("psasync subscriptions "+action, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", defaultConfigPath(), "config file ($PSASYNC_CONFIG)")
	tenant := fs.String("tenant", "", "only this tenant (id or name)")
	demo := fs.Bool("demo", false, "run against in-process simulators")
	asJSON := fs.Bool("json", false, "list as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitBadArgs
	}
	var cfg *config.Config
	var env *demoEnv
	var err error
	if *demo {
		if env, err = startDemo(ctx, config.PSAConnectWise, demoOptions{}); err != nil {
			fmt.Fprintf(stderr, "psasync subscriptions: %v\n", err)
			return exitBadArgs
		}
		defer env.Close()
		cfg = env.cfg
	} else if cfg, err = config.Load(*cfgPath); err != nil {
		fmt.Fprintf(stderr, "psasync subscriptions: %v\n", err)
		return exitBadArgs
	}
	var only []config.Tenant
	for _, t := range cfg.Tenants {
		if *tenant == "" || t.ID == *tenant || t.Name == *tenant {
			only = append(only, t)
		}
	}
	if *tenant != "" && len(only) == 0 {
		fmt.Fprintf(stderr, "psasync subscriptions: --tenant: %q is not a tenant in the config\n", *tenant)
		return exitBadArgs
	}
	log := newLogger(cfg.Log, os.Stderr)
	a, err := build(ctx, cfg, log, env.httpClient())
	if err != nil {
		fmt.Fprintf(stderr, "psasync subscriptions: %v\n", err)
		return exitBadArgs
	}
	defer a.Close()
	publicURL := cfg.Server.PublicURL
	var hook *demoHook
	if *demo {
		// The simulator performs Graph's validation handshake: answer it.
		if hook, err = startDemoHook(); err != nil {
			fmt.Fprintf(stderr, "psasync subscriptions: %v\n", err)
			return exitFailed
		}
		defer hook.Close()
		publicURL = hook.URL
	}
	store := subscription.NewStore(a.rdb, cfg.Redis.KeyPrefix)
	clientOnly := runEnqueuerFunc(func(ctx context.Context, id, tenantID, mode, reason string) error {
		log.WithField("tenant", tenantID).Infof("an incremental sync is due (%s); the running service's workers take it", reason)
		return nil
	})
	m, err := newManager(a, store, clientOnly, publicURL, nil)
	if err != nil {
		fmt.Fprintf(stderr, "psasync subscriptions: %v\n", err)
		return exitBadArgs
	}
	failed := false
	for _, t := range only {
		switch action {
		case "ensure":
			if !t.SyncEnabled() {
				fmt.Fprintf(stderr, "%s: office365_sync_enabled is false; skipped\n", t.ID)
				continue
			}
			if _, err := m.Ensure(ctx, t.ID); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", t.ID, err)
				failed = true
			}
		case "delete":
			if err := m.Delete(ctx, t.ID); err != nil {
				fmt.Fprintf(stderr, "%s: %v\n", t.ID, err)
				failed = true
			}
		}
	}
	statuses, err := m.List(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "psasync subscriptions: %v\n", err)
		return exitFailed
	}
	want := map[string]bool{}
	for _, t := range only {
		want[t.ID] = true
	}
	var shown []subscription.Status
	for _, s := range statuses {
		if want[s.TenantID] {
			shown = append(shown, s)
		}
	}
	for _, t := range only {
		found := false
		for _, s := range shown {
			found = found || s.TenantID == t.ID
		}
		if !found {
			shown = append(shown, subscription.Status{TenantID: t.ID, Health: "none"})
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(shown)
	} else {
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TENANT\tSUBSCRIPTION\tEXPIRES\tLAST NOTIFICATION\tHEALTH\tERROR")
		for _, s := range shown {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", s.TenantID, dash(s.SubscriptionID), when(s.Expiry), when(s.LastNotificationAt), s.Health, dash(s.ErrorCode+" "+s.LastError))
		}
		_ = tw.Flush()
	}
	if failed {
		return exitFailed
	}
	return exitOK
}

type runEnqueuerFunc func(ctx context.Context, id, tenantID, mode, reason string) error

func (f runEnqueuerFunc) EnqueueRun(ctx context.Context, id, tenantID, mode, reason string) error {
	return f(ctx, id, tenantID, mode, reason)
}

func dash(s string) string {
	if len(s) == 0 || s == " " {
		return "-"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// noSubscriptionJobs is the scheduler's subscription queue when psasync
// manages no subscriptions (no server.public_url).
type noSubscriptionJobs struct{}

func (noSubscriptionJobs) EnqueueEnsure(context.Context, string, string, string) error { return nil }

// loopbackURL is the http URL of a listener as seen from this host.
func loopbackURL(ln net.Listener) string {
	if ln == nil {
		return ""
	}
	addr := ln.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
