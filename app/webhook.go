package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

// lookupAdapter gives the webhook the subscription manager's records
// (through the subscription package's TTL cache) in the webhook's terms.
type lookupAdapter struct{ l *subscription.CachedLookup }

func (a lookupAdapter) LookupSubscription(ctx context.Context, id string) (webhook.Subscription, bool, error) {
	r, ok, err := a.l.Lookup(ctx, id)
	if err != nil || !ok {
		return webhook.Subscription{}, ok, err
	}
	return webhook.Subscription{ID: r.ID, TenantID: r.TenantID, ClientState: r.ClientState}, true, nil
}

// enqueuer turns accepted notifications into jobs.
type enqueuer struct {
	n *Node
	// touched remembers when each subscription's last-notification time was
	// last written, so a busy tenant costs one write a second, not one per
	// notification.
	mu      sync.Mutex
	touched map[string]time.Time
}

func newEnqueuer(n *Node) *enqueuer { return &enqueuer{n: n, touched: map[string]time.Time{}} }

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

// EnqueueLifecycle enqueues the jobs the subscription package says the
// events need, under the worker's task types.
func (e *enqueuer) EnqueueLifecycle(ctx context.Context, events []webhook.LifecycleEvent) error {
	in := make([]subscription.LifecycleEvent, 0, len(events))
	for _, ev := range events {
		in = append(in, subscription.LifecycleEvent{TenantID: ev.TenantID, SubscriptionID: ev.SubscriptionID, Event: ev.Event})
	}
	for _, j := range subscription.LifecycleJobs(in, time.Now()) {
		p := worker.SubscriptionPayload{Tenant: j.TenantID, SubscriptionID: j.SubscriptionID, Reason: j.Reason}
		if err := e.n.queue.EnqueueSubscription(ctx, jobType(j.Kind), p, asynq.TaskID(j.ID)); err != nil {
			return err
		}
	}
	return nil
}

// jobType is the worker's task type of a subscription job kind.
func jobType(k subscription.JobKind) string {
	if k == subscription.JobReauthorize {
		return worker.TypeSubscriptionReauthorize
	}
	return worker.TypeSubscriptionEnsure
}

// runsAPI serves the sync trigger and the runs API from the worker's store.
type runsAPI struct{ n *Node }

func (r *runsAPI) StartRun(ctx context.Context, req webhook.SyncRequest) (string, error) {
	t, err := r.n.app.selectTenant(ctx, req.Tenant)
	switch {
	case errors.Is(err, config.ErrTenantRequired):
		return "", webhook.BadRequest("tenant: %v", err)
	case errors.Is(err, config.ErrUnknownTenant):
		return "", webhook.BadRequest("tenant %v", err)
	case err != nil:
		return "", fmt.Errorf("start run: %w", err)
	}
	in := worker.DefaultRunInputs(t.ID)
	if req.SyncMode != "" {
		in.SyncMode = req.SyncMode
	}
	in.CompanyID = req.CompanyID
	in.DepartmentFilter, in.OfficeLocationFilter, in.UserPrincipalNames = req.DepartmentFilter, req.OfficeLocationFilter, req.UserPrincipalNames
	// Absent booleans keep the workflow's defaults (DefaultRunInputs).
	for _, b := range []struct {
		given *bool
		dst   *bool
	}{{req.SkipDisabledUsers, &in.SkipDisabledUsers}, {req.UpdateExisting, &in.UpdateExisting}, {req.DryRun, &in.DryRun}, {req.ListSkipped, &in.ListSkipped}} {
		if b.given != nil {
			*b.dst = *b.given
		}
	}
	if err := in.Validate(); err != nil {
		return "", webhook.BadRequest("%v", err)
	}
	return r.n.queue.EnqueueRun(ctx, "", in)
}

func (r *runsAPI) GetRun(ctx context.Context, id string) (json.RawMessage, bool, error) {
	rec, ok, err := r.n.app.engine.Store().Run(ctx, id)
	if err != nil || !ok {
		return nil, ok, err
	}
	b, err := json.Marshal(rec)
	return b, true, err
}

func (r *runsAPI) ListRuns(ctx context.Context, limit int) (json.RawMessage, error) {
	recs, err := r.n.app.engine.Store().Runs(ctx, ledger.RunQuery{}, limit)
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"runs": recs})
}
