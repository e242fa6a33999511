package subscription

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
)

// Reauthorize answers a reauthorizationRequired lifecycle event with a
// renew PATCH, which reauthorizes the subscription and moves its expiry in
// one request. psasync never calls the /reauthorize action, so a
// reauthorize and a PATCH are never sent within ten minutes of each other
// (Graph warns that doing so can leave the subscription inconsistent). An
// event for a subscription that is no longer the tenant's is ignored; one
// that Graph no longer knows is recreated and followed by an incremental
// run.
func (m *Manager) Reauthorize(ctx context.Context, tenantID, subscriptionID string) (Record, error) {
	return m.withLock(ctx, tenantID, func(ctx context.Context) (Record, error) {
		log := m.log.WithFields(logrus.Fields{"tenant": tenantID, "subscription": subscriptionID})
		rec, had, err := m.store.ByTenant(ctx, tenantID)
		if err != nil {
			return Record{}, err
		}
		if !had || rec.ID == "" || rec.ID != subscriptionID {
			log.Info("reauthorizationRequired for a subscription psasync no longer uses; ignored")
			return rec, nil
		}
		api, err := m.clients.Subscriptions(ctx, tenantID)
		if err != nil {
			rec, _, err = m.fail(ctx, rec, true, "get graph client", err)
			return rec, err
		}
		now := m.now()
		renewed, err := api.RenewSubscription(ctx, rec.ID, m.expiry(now))
		if errors.Is(err, directory.ErrNotFound) {
			log.Warn("subscription to reauthorize is gone; recreating it")
			rec, _, err = m.ensureLocked(ctx, tenantID, gapRun{})
			return rec, err
		}
		if err != nil {
			rec, _, err = m.fail(ctx, rec, true, "reauthorize (renew) subscription "+rec.ID, err)
			return rec, err
		}
		rec.Expiry = renewed.ExpirationDateTime.UTC()
		rec.RenewedAt, rec.LastReauthorizedAt = now, now
		log.WithField("expiry", formatTime(rec.Expiry)).Info("reauthorized subscription with a renew PATCH")
		return m.succeed(ctx, rec, now)
	})
}

// HandleLifecycle acts on a lifecycle event: reauthorizationRequired (or
// empty) reauthorizes; subscriptionRemoved and missed run Ensure (which
// recreates a removed subscription) and enqueue an incremental run for the
// notifications that may have been lost.
func (m *Manager) HandleLifecycle(ctx context.Context, tenantID, subscriptionID, event string) (Record, error) {
	switch event {
	case "", directory.LifecycleReauthorizationRequired:
		return m.Reauthorize(ctx, tenantID, subscriptionID)
	case directory.LifecycleSubscriptionRemoved, directory.LifecycleMissed:
		return m.withLock(ctx, tenantID, func(ctx context.Context) (Record, error) {
			minute := m.now().Truncate(time.Minute).Format("20060102T1504Z")
			owed := gapRun{
				id:     "gap:" + tenantID + ":" + event + ":" + subscriptionID + ":" + minute,
				reason: "lifecycle " + event,
			}
			rec, _, err := m.ensureLocked(ctx, tenantID, owed)
			return rec, err
		})
	default:
		return Record{}, &Error{TenantID: tenantID, Op: "lifecycle event", Code: CodeInvalidRequest,
			Err: fmt.Errorf("unknown lifecycle event %q", event)}
	}
}
