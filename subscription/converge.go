package subscription

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/psasync/psasync/graph/directory"
)

// Delete removes the tenant's subscriptions at Graph (its own and any stale
// one to psasync's URL) and then its record. When Graph can no longer be
// asked (consent revoked, tenant unknown to Clients) the record is dropped
// anyway, the subscription lapses on its own, and the error says so.
func (m *Manager) Delete(ctx context.Context, tenantID string) error {
	_, err := m.withLock(ctx, tenantID, func(ctx context.Context) (Record, error) {
		return Record{}, m.deleteLocked(ctx, tenantID)
	})
	return err
}

func (m *Manager) deleteLocked(ctx context.Context, tenantID string) error {
	log := m.log.WithField("tenant", tenantID)
	rec, had, err := m.store.ByTenant(ctx, tenantID)
	if err != nil {
		return err
	}
	gone := func(op string, cause error) error {
		if derr := m.store.Delete(ctx, tenantID); derr != nil {
			return derr
		}
		if had {
			log.WithError(cause).Warn("dropped the tenant's subscription record; Graph could not be asked to delete it, it lapses on its own")
		}
		if rec.ID != "" {
			op += " (record dropped; the subscription lapses by " + formatTime(rec.Expiry) + ")"
		}
		code, _, _ := classify(cause)
		return &Error{TenantID: tenantID, Op: op, Code: code, Err: cause}
	}
	api, err := m.clients.Subscriptions(ctx, tenantID)
	if errors.Is(err, ErrUnknownTenant) {
		return gone("get graph client", err)
	}
	if err != nil {
		return &Error{TenantID: tenantID, Op: "get graph client", Code: CodeSubscriptionFailed, Err: err}
	}
	subs, err := api.ListSubscriptions(ctx)
	if errors.Is(err, directory.ErrPermissionDenied) {
		return gone("list subscriptions", err)
	}
	if err != nil {
		code, retry, _ := classify(err)
		return &Error{TenantID: tenantID, Op: "list subscriptions", Code: code, RetryAfter: retry, Err: err}
	}
	ids := map[string]bool{}
	if rec.ID != "" {
		ids[rec.ID] = true
	}
	for _, s := range subs {
		if s.ID == rec.ID || (isUsersResource(s.Resource) && s.NotificationURL == m.notificationURL) {
			ids[s.ID] = true
		}
	}
	for id := range ids {
		err := api.DeleteSubscription(ctx, id)
		switch {
		case err == nil:
			log.WithField("subscription", id).Info("deleted subscription")
		case errors.Is(err, directory.ErrNotFound):
		case errors.Is(err, directory.ErrPermissionDenied):
			return gone("delete subscription "+id, err)
		default:
			code, retry, _ := classify(err)
			return &Error{TenantID: tenantID, Op: "delete subscription " + id, Code: code, RetryAfter: retry, Err: err}
		}
	}
	return m.store.Delete(ctx, tenantID)
}

// List returns every tenant's subscription status, sorted by tenant; a
// subscription past its expiry is reported unhealthy (SubscriptionExpired)
// whatever its last check said.
func (m *Manager) List(ctx context.Context) ([]Status, error) {
	recs, err := m.store.All(ctx)
	if err != nil {
		return nil, err
	}
	now := m.now()
	out := make([]Status, 0, len(recs))
	for _, r := range recs {
		st := r.Status()
		if r.ID != "" && !r.Expiry.After(now) {
			st.Health, st.ErrorCode = HealthUnhealthy, CodeSubscriptionExpired
		}
		out = append(out, st)
	}
	return out, nil
}

// Statuses returns the status of each of tenantIDs, in that order: the
// stored status (as List reports it), or HealthNone for a tenant without a
// subscription record.
func (m *Manager) Statuses(ctx context.Context, tenantIDs []string) ([]Status, error) {
	all, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	byTenant := make(map[string]Status, len(all))
	for _, s := range all {
		byTenant[s.TenantID] = s
	}
	out := make([]Status, 0, len(tenantIDs))
	for _, id := range tenantIDs {
		s, ok := byTenant[id]
		if !ok {
			s = Status{TenantID: id, Health: HealthNone}
		}
		out = append(out, s)
	}
	return out, nil
}

// Tenant is a configured tenant as Converge sees it.
type Tenant struct {
	ID string
	// Enabled is office365_sync_enabled.
	Enabled bool
}

// Converge actions.
const (
	// ActionEnsure: the tenant is enabled and gets a live subscription.
	ActionEnsure = "ensure"
	// ActionDelete: the tenant is disabled or gone and loses it.
	ActionDelete = "delete"
)

// Result is the outcome of Converge for one tenant.
type Result struct {
	TenantID string
	// Action is ActionEnsure or ActionDelete.
	Action string
	// Status is the tenant's status after an ensure (zero after a delete).
	Status Status
	// Err is the failure, nil on success.
	Err error
}

// Converge brings the subscriptions in line with the config: enabled
// tenants are ensured; tenants that are disabled, or have a record but are
// no longer configured, lose their subscription (a disabled tenant without
// a record costs no Graph call). Tenants are handled
// Concurrency at a time and one tenant's failure never stops the others.
// Results come sorted by tenant id; the error is set only when the stored
// tenants could not be read (enabled tenants are still ensured).
func (m *Manager) Converge(ctx context.Context, tenants []Tenant) ([]Result, error) {
	want := map[string]string{}
	for _, t := range tenants {
		if strings.TrimSpace(t.ID) == "" {
			continue
		}
		if t.Enabled {
			want[t.ID] = ActionEnsure
		} else if _, ok := want[t.ID]; !ok {
			want[t.ID] = ActionDelete
		}
	}
	recs, storeErr := m.store.All(ctx)
	if storeErr != nil {
		storeErr = fmt.Errorf("subscription: converge: %w", storeErr)
	}
	stored := map[string]bool{}
	for _, r := range recs {
		stored[r.TenantID] = true
		if _, ok := want[r.TenantID]; !ok {
			want[r.TenantID] = ActionDelete
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	results := make([]Result, len(ids))
	sem := make(chan struct{}, m.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, id := range ids {
		results[i] = Result{TenantID: id, Action: want[id]}
		wg.Add(1)
		go func(r *Result) {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				r.Err = ctx.Err()
				return
			}
			defer func() { <-sem }()
			switch {
			case r.Action == ActionEnsure:
				rec, err := m.Ensure(ctx, r.TenantID)
				r.Status, r.Err = rec.Status(), err
			case storeErr == nil && !stored[r.TenantID]:
				// A disabled tenant psasync never subscribed (a create in
				// progress saves its record before the POST): nothing to do,
				// and no Graph call that could fail for want of consent.
			default:
				r.Err = m.Delete(ctx, r.TenantID)
			}
		}(&results[i])
	}
	wg.Wait()
	return results, storeErr
}
