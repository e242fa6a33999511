package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

// subscriptionLookup lets the webhook check notifications against the
// subscriptions the manager stored. Known subscriptions are remembered for
// a few seconds: a renewed subscription keeps its id and clientState, a
// recreated one gets a new id, so the cache can only briefly keep
// accepting a subscription that was just deleted.
type subscriptionLookup struct {
	store *subscription.Store
	ttl   time.Duration
	mu    sync.Mutex
	known map[string]cachedSubscription
}

type cachedSubscription struct {
	sub     webhook.Subscription
	expires time.Time
}

func newSubscriptionLookup(store *subscription.Store) *subscriptionLookup {
	return &subscriptionLookup{store: store, ttl: 5 * time.Second, known: map[string]cachedSubscription{}}
}

func (l *subscriptionLookup) LookupSubscription(ctx context.Context, id string) (webhook.Subscription, bool, error) {
	now := time.Now()
	l.mu.Lock()
	c, hit := l.known[id]
	l.mu.Unlock()
	if hit && now.Before(c.expires) {
		return c.sub, true, nil
	}
	r, ok, err := l.store.LookupSubscription(ctx, id)
	if err != nil || !ok {
		return webhook.Subscription{}, ok, err
	}
	sub := webhook.Subscription{ID: r.ID, TenantID: r.TenantID, ClientState: r.ClientState}
	l.mu.Lock()
	if len(l.known) > 10000 { // bounded: an MSP has at most a few thousand tenants
		l.known = map[string]cachedSubscription{}
	}
	l.known[id] = cachedSubscription{sub: sub, expires: now.Add(l.ttl)}
	l.mu.Unlock()
	return sub, true, nil
}

// enqueuer turns accepted notifications into jobs.
type enqueuer struct {
	n *node
	// touched remembers when each subscription's last-notification time was
	// last written, so a busy tenant costs one write a second, not one per
	// notification.
	mu      sync.Mutex
	touched map[string]time.Time
}

func newEnqueuer(n *node) *enqueuer { return &enqueuer{n: n, touched: map[string]time.Time{}} }

// EnqueueUserChanges writes the request's changes to the ingest stream in
// one Redis call; the dispatchers turn them into per-user jobs.
func (e *enqueuer) EnqueueUserChanges(ctx context.Context, changes []webhook.UserChange) error {
	subs := map[string]bool{}
	batch := make([]worker.UserChange, 0, len(changes))
	for _, c := range changes {
		batch = append(batch, worker.UserChange{Tenant: c.TenantID, User: c.UserID})
		subs[c.SubscriptionID] = true
	}
	if err := e.n.ingest.Add(ctx, batch); err != nil {
		return err
	}
	e.touch(ctx, subs)
	return nil
}

func (e *enqueuer) touch(ctx context.Context, subs map[string]bool) {
	now := time.Now().UTC()
	for id := range subs {
		e.mu.Lock()
		last := e.touched[id]
		fresh := now.Sub(last) < time.Second
		if !fresh {
			if len(e.touched) > 10000 {
				e.touched = map[string]time.Time{}
			}
			e.touched[id] = now
		}
		e.mu.Unlock()
		if fresh {
			continue
		}
		if err := e.n.subs.TouchNotification(ctx, id, now); err != nil {
			e.n.log.WithError(err).WithField("subscription", id).Warn("could not record the notification time")
		}
	}
}

func (e *enqueuer) EnqueueLifecycle(ctx context.Context, events []webhook.LifecycleEvent) error {
	for _, ev := range events {
		p := worker.SubscriptionPayload{Tenant: ev.TenantID, SubscriptionID: ev.SubscriptionID, Reason: ev.Event}
		typ := worker.TypeSubscriptionEnsure
		if ev.Event == "reauthorizationRequired" {
			typ = worker.TypeSubscriptionReauthorize
		}
		// Graph may send the same event more than once: one job per
		// subscription, event and minute.
		id := fmt.Sprintf("%s:%s:%s:%d", typ, ev.SubscriptionID, ev.Event, time.Now().Unix()/60)
		if err := e.n.queue.EnqueueSubscription(ctx, typ, p, asynq.TaskID(id)); err != nil {
			return err
		}
	}
	return nil
}

// runs serves the sync trigger and the runs API from the worker's store.
type runs struct{ n *node }

func (r *runs) StartRun(ctx context.Context, req webhook.SyncRequest) (string, error) {
	tenant := req.Tenant
	if tenant == "" {
		if len(r.n.cfg.Tenants) != 1 {
			return "", webhook.BadRequest("tenant is required: %d tenants are configured", len(r.n.cfg.Tenants))
		}
		tenant = r.n.cfg.Tenants[0].ID
	}
	t, ok := r.n.cfg.Tenant(tenant)
	if !ok {
		return "", webhook.BadRequest("tenant %q is not configured", tenant)
	}
	in := worker.DefaultRunInputs(t.ID)
	if req.SyncMode != "" {
		in.SyncMode = req.SyncMode
	}
	in.CompanyID = req.CompanyID
	in.DepartmentFilter, in.OfficeLocationFilter, in.UserPrincipalNames = req.DepartmentFilter, req.OfficeLocationFilter, req.UserPrincipalNames
	// The webhook has applied the workflow's defaults already.
	in.SkipDisabledUsers, in.UpdateExisting, in.DryRun = req.SkipDisabledUsers, req.UpdateExisting, req.DryRun
	if err := in.Validate(); err != nil {
		return "", webhook.BadRequest("%v", err)
	}
	return r.n.queue.EnqueueRun(ctx, r.n.app.engine.Store(), "", in)
}

func (r *runs) GetRun(ctx context.Context, id string) (json.RawMessage, bool, error) {
	rec, ok, err := r.n.app.engine.Store().Run(ctx, id)
	if err != nil || !ok {
		return nil, ok, err
	}
	b, err := json.Marshal(rec)
	return b, true, err
}

func (r *runs) ListRuns(ctx context.Context, limit int) (json.RawMessage, error) {
	recs, err := r.n.app.engine.Store().Runs(ctx, limit)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"runs": recs})
}

// runEnqueuer lets the subscription manager and the scheduler start runs.
// Scheduled ids are per tenant and period; the task keeps its id for
// retention so a second replica's enqueue of the same period is refused.
type runEnqueuer struct {
	n         *node
	retention time.Duration
}

func (r runEnqueuer) EnqueueRun(ctx context.Context, id, tenantID, mode, reason string) error {
	in := worker.DefaultRunInputs(tenantID)
	in.SyncMode = mode
	_, err := r.n.queue.EnqueueRun(ctx, r.n.app.engine.Store(), id, in, asynq.Retention(r.retention))
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return nil
	}
	if err == nil {
		r.n.log.WithFields(map[string]any{"tenant": tenantID, "run": id, "mode": mode, "reason": reason}).Info("run enqueued")
	}
	return err
}

func (r runEnqueuer) EnqueueEnsure(ctx context.Context, id, tenantID, reason string) error {
	return r.n.queue.EnqueueSubscription(ctx, worker.TypeSubscriptionEnsure,
		worker.SubscriptionPayload{Tenant: tenantID, Reason: reason}, asynq.TaskID(id), asynq.Retention(r.retention))
}
