package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/console"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

// consoleRunsPerPage bounds the runs the tenant page reads.
const consoleRunsPerPage = 500

// newConsole builds the web console over the node's stores, or nil (with
// a warning) when there is no API token to sign in with.
func (n *Node) newConsole() (*console.Console, error) {
	if n.token == "" {
		n.log.Warn("server.api_token is not set: the console at /ui/ is disabled")
		return nil, nil
	}
	inspector := asynq.NewInspector(n.asynq)
	n.closers = append(n.closers, func() { _ = inspector.Close() })
	led := n.app.ledger
	src := &consoleSource{n: n, inspector: inspector, ledger: led}
	c, err := console.New(console.Config{
		Source: src, Runner: consoleRunner{&runsAPI{n: n}}, Decisions: led, Operator: consoleOperator{n.app.engine}, UserSyncer: consoleOperator{n.app.engine},
		Onboarder:  consoleOnboarder{tenantOps{a: n.app, queue: n.queue}},
		AdminToken: n.token, ReadToken: n.cfg.Server.ReadToken,
		Redis: n.app.rdb, Prefix: n.cfg.Redis.Prefix(),
		ClientIP: webhook.ClientIP, IsHTTPS: webhook.RequestIsHTTPS,
		Logger: n.log.WithField("component", "console"),
	})
	if err != nil {
		return nil, badConfig(err)
	}
	return c, nil
}

// consoleRunner starts the console's runs through the run API's path.
type consoleRunner struct{ api *runsAPI }

func (r consoleRunner) StartRun(ctx context.Context, in worker.RunInputs) (string, error) {
	return r.api.StartRun(ctx, webhook.SyncRequest{Tenant: in.Tenant, SyncMode: in.SyncMode, CompanyID: in.CompanyID,
		DepartmentFilter: in.DepartmentFilter, OfficeLocationFilter: in.OfficeLocationFilter, UserPrincipalNames: in.UserPrincipalNames,
		SkipDisabledUsers: &in.SkipDisabledUsers, UpdateExisting: &in.UpdateExisting, DryRun: &in.DryRun})
}

// consoleSource reads what the console shows from the stores: the config's
// tenants, the subscription store, the worker's run index, the ledger's
// decisions, the PSA quota and asynq's queues.
type consoleSource struct {
	n         *Node
	inspector *asynq.Inspector
	ledger    *ledger.Ledger
}

// Tenants lists the live tenants: the config's, then those accepted by
// onboarding.
func (s *consoleSource) Tenants(ctx context.Context) ([]console.TenantStatus, error) {
	tenants, err := s.n.app.liveTenants(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(tenants))
	for i, t := range tenants {
		ids[i] = t.ID
	}
	recs, err := s.n.subs.All(ctx)
	if err != nil {
		return nil, err
	}
	subs := make(map[string]console.TenantStatus, len(recs))
	for _, r := range recs {
		subs[r.TenantID] = console.TenantStatus{Subscription: r.Status()}
	}
	last, err := s.n.app.engine.Store().LastRuns(ctx, ids)
	if err != nil {
		return nil, err
	}
	counts, err := s.decisionCounts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]console.TenantStatus, len(tenants))
	for i, t := range tenants {
		ts := subs[t.ID]
		ts.ID, ts.Name, ts.Enabled = t.ID, t.Name, t.SyncEnabled()
		if ts.Subscription.TenantID == "" {
			ts.Subscription.TenantID, ts.Subscription.Health = t.ID, "none"
		}
		if r, ok := last[t.ID]; ok {
			sum := console.Summarize(r)
			ts.LastRun = &sum
		}
		ts.Decisions = counts[t.ID]
		if ts.Decisions == nil {
			ts.Decisions = &console.DecisionCounts{}
		}
		out[i] = ts
	}
	return out, nil
}

// decisionCounts counts open conflicts, pending held contacts and
// quarantined users per tenant.
func (s *consoleSource) decisionCounts(ctx context.Context) (map[string]*console.DecisionCounts, error) {
	out := map[string]*console.DecisionCounts{}
	of := func(tenant string) *console.DecisionCounts {
		if out[tenant] == nil {
			out[tenant] = &console.DecisionCounts{}
		}
		return out[tenant]
	}
	cs, err := s.ledger.Conflicts(ctx, "", ledger.ConflictOpen)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		of(c.Tenant).OpenConflicts++
	}
	bs, err := s.ledger.HeldBatches(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, b := range bs {
		d := of(b.Tenant)
		for _, c := range b.Contacts {
			if c.Status == ledger.HeldPending {
				d.HeldDeactivations++
			}
		}
	}
	qs, err := s.ledger.Quarantined(ctx, "")
	if err != nil {
		return nil, err
	}
	for _, q := range qs {
		of(q.Tenant).Quarantined++
	}
	return out, nil
}

func (s *consoleSource) Capacity(ctx context.Context) (console.Capacity, error) {
	q := s.n.cfg.EffectiveQuota()
	c := console.Capacity{PSA: s.n.cfg.PSA.Type, Requests: q.Requests, Period: q.Period, Burst: q.Burst, Available: -1}
	if qc, ok := s.n.app.psa.(*quota.Client); ok {
		n, err := qc.Available(ctx)
		if err != nil {
			return c, err
		}
		c.Available = n
	}
	// A queue exists once a task was enqueued on it; the others are empty.
	existing, err := s.inspector.Queues()
	if err != nil {
		return c, fmt.Errorf("list queues: %w", err)
	}
	for _, name := range s.n.queues.All() {
		if !slices.Contains(existing, name) {
			c.Queues = append(c.Queues, console.QueueDepth{Name: name})
			continue
		}
		info, err := s.inspector.GetQueueInfo(name)
		if err != nil {
			return c, fmt.Errorf("read queue %s: %w", name, err)
		}
		c.Queues = append(c.Queues, console.QueueDepth{Name: name, Pending: info.Pending, Active: info.Active,
			Scheduled: info.Scheduled, Retry: info.Retry, Failed: info.Archived, Latency: info.Latency})
	}
	return c, nil
}

func (s *consoleSource) TenantRuns(ctx context.Context, tenant string, since time.Time) ([]worker.RunRecord, error) {
	return s.n.app.engine.Store().Runs(ctx, ledger.RunQuery{Tenant: tenant, Since: since}, consoleRunsPerPage)
}

func (s *consoleSource) Run(ctx context.Context, id string) (worker.RunRecord, bool, error) {
	return s.n.app.engine.Store().Run(ctx, id)
}
