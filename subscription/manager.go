// Package subscription keeps one Graph change-notification subscription on
// /users alive per tenant (create, adopt, renew, reauthorize, recreate,
// delete), stores their state in Redis for the webhook, runs the
// subscription jobs, and schedules each tenant's incremental syncs, nightly
// reconciles and renewal checks so that replicas never double a run.
//
// Graph sends no missed or subscriptionRemoved events for users, so the
// manager repairs gaps itself: whenever a subscription had to be created,
// recreated or adopted, it enqueues an incremental (delta) run of the
// tenant; the scheduled incremental runs bound any other gap (an
// unreachable webhook, notifications that stopped) to one period.
package subscription

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
)

// SubscriptionAPI is the part of a tenant's Graph client the manager uses
// (*graph.Client satisfies it). Reauthorization is always a renew PATCH, so
// the /reauthorize action is not needed.
type SubscriptionAPI interface {
	CreateSubscription(ctx context.Context, s directory.Subscription) (directory.Subscription, error)
	ListSubscriptions(ctx context.Context) ([]directory.Subscription, error)
	RenewSubscription(ctx context.Context, id string, expiry time.Time) (directory.Subscription, error)
	DeleteSubscription(ctx context.Context, id string) error
}

// Clients returns the Graph client of a tenant. It must also serve tenants
// that were removed from the config (the shared multi-tenant app), so their
// subscriptions can be deleted; when it cannot, it returns an error wrapping
// ErrUnknownTenant.
type Clients interface {
	Subscriptions(ctx context.Context, tenantID string) (SubscriptionAPI, error)
}

// RunEnqueuer starts sync runs. id is unique per tenant and period (or per
// repaired gap); an id that already exists is not an error (return nil):
// that is how replicas avoid doubling runs. full asks for a full
// reconcile, otherwise an incremental (delta) run; the worker owns the
// mode names, so the wiring maps full to them. reason says why, for the
// run's record.
type RunEnqueuer interface {
	EnqueueRun(ctx context.Context, id, tenantID string, full bool, reason string) error
}

// Reasons given to RunEnqueuer for the runs the manager enqueues.
const (
	// ReasonCreated: the tenant's first subscription; the run brings the
	// tenant up to date (a full enumeration when no delta link exists).
	ReasonCreated = "subscription created"
	// ReasonRecreated: the subscription was lost (deleted, expired, 404)
	// and replaced; notifications in between were missed.
	ReasonRecreated = "subscription recreated"
	// ReasonAdopted: a subscription of psasync's was found that the store
	// did not know, so its notifications were refused until now.
	ReasonAdopted = "subscription adopted"
)

// Manager keeps each tenant's subscription alive. Operations on one tenant
// are serialised across replicas by a Redis lock; different tenants proceed
// in parallel. It is safe for concurrent use.
type Manager struct {
	store           *Store
	clients         Clients
	runs            RunEnqueuer
	cfg             Config
	log             logrus.FieldLogger
	notificationURL string
	lifecycleURL    string
}

// NewManager builds a manager over the store, the tenants' Graph clients
// and the run queue.
func NewManager(store *Store, clients Clients, runs RunEnqueuer, cfg Config) (*Manager, error) {
	if store == nil || clients == nil || runs == nil {
		return nil, errors.New("subscription: NewManager needs a store, clients and a run enqueuer")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Manager{
		store: store, clients: clients, runs: runs, cfg: cfg, log: cfg.Logger,
		notificationURL: cfg.PublicURL + NotificationPath,
		lifecycleURL:    cfg.PublicURL + LifecyclePath,
	}, nil
}

// NotificationURL is the notificationUrl the manager subscribes with.
func (m *Manager) NotificationURL() string { return m.notificationURL }

// LifecycleURL is the lifecycleNotificationUrl the manager subscribes with.
func (m *Manager) LifecycleURL() string { return m.lifecycleURL }

// Store is the manager's store (the webhook's lookup uses the same).
func (m *Manager) Store() *Store { return m.store }

func (m *Manager) now() time.Time { return m.cfg.Clock().UTC() }

// expiry is the expirationDateTime to ask for at now.
func (m *Manager) expiry(now time.Time) time.Time {
	d := m.cfg.Expiry
	if d > MaxExpiry-skewAllowance {
		d = MaxExpiry - skewAllowance
	}
	return now.Add(d).Truncate(time.Second)
}

// withLock runs fn holding the tenant's lock.
func (m *Manager) withLock(ctx context.Context, tenantID string, fn func(context.Context) (Record, error)) (Record, error) {
	if strings.TrimSpace(tenantID) == "" {
		return Record{}, errors.New("subscription: tenant id is required")
	}
	unlock, err := m.store.lock(ctx, tenantID, m.cfg.LockTTL, m.cfg.LockWait, 100*time.Millisecond)
	if err != nil {
		return Record{}, err
	}
	defer unlock()
	return fn(ctx)
}

// Ensure makes sure the tenant has exactly one live subscription of
// psasync's: it lists the app's subscriptions, adopts its own (by id, or by
// the stored clientState after a crash), deletes stale ones for the same
// resource and URL, creates one when none is left, and renews it when less
// than RenewBefore remains. A created, recreated or adopted subscription is
// followed by an incremental run of the tenant. Failures are recorded on
// the tenant's record (PermissionDenied makes it unhealthy) and returned as
// *Error.
func (m *Manager) Ensure(ctx context.Context, tenantID string) (Record, error) {
	return m.withLock(ctx, tenantID, func(ctx context.Context) (Record, error) {
		rec, _, err := m.ensureLocked(ctx, tenantID, gapRun{})
		return rec, err
	})
}

// gapRun is an incremental run owed to a tenant.
type gapRun struct{ id, reason string }

// ensureLocked is Ensure under the lock; owed is a run to enqueue even when
// the subscription is fine (a missed event). replaced reports whether the
// subscription was created, recreated or adopted (its run is then owed).
func (m *Manager) ensureLocked(ctx context.Context, tenantID string, owed gapRun) (rec Record, replaced bool, err error) {
	now := m.now()
	rec, had, err := m.store.ByTenant(ctx, tenantID)
	if err != nil {
		return Record{}, false, err
	}
	if !had {
		rec = Record{TenantID: tenantID, Health: HealthPending}
	}
	log := m.log.WithField("tenant", tenantID)
	api, err := m.clients.Subscriptions(ctx, tenantID)
	if err != nil {
		return m.fail(ctx, rec, had, "get graph client", err)
	}
	subs, err := api.ListSubscriptions(ctx)
	if err != nil {
		return m.fail(ctx, rec, had, "list subscriptions", err)
	}
	mine, stale := m.sortOut(rec, subs)
	for _, s := range stale {
		if err := api.DeleteSubscription(ctx, s.ID); err != nil && !errors.Is(err, directory.ErrNotFound) {
			if mine == nil {
				// It would make the create below fail with 409.
				return m.fail(ctx, rec, had, "delete stale subscription "+s.ID, err)
			}
			log.WithError(err).WithField("subscription", s.ID).Warn("could not delete a stale subscription; the next check tries again")
			continue
		}
		log.WithField("subscription", s.ID).Info("deleted a stale subscription")
	}

	if mine != nil {
		if mine.ID != rec.ID {
			log.WithField("subscription", mine.ID).Info("adopted an existing subscription of psasync")
			rec.CreatedAt = now
			replaced = true
			m.owe(&rec, gapRun{id: gapRunID(tenantID, mine.ID), reason: ReasonAdopted})
		}
		rec.ID = mine.ID
		m.copyFields(&rec, *mine)
		if rec.Expiry.Sub(now) < m.cfg.RenewBefore {
			renewed, err := api.RenewSubscription(ctx, rec.ID, m.expiry(now))
			switch {
			case errors.Is(err, directory.ErrNotFound):
				log.WithField("subscription", rec.ID).Warn("subscription vanished before its renewal; recreating it")
				mine = nil
			case err != nil:
				return m.fail(ctx, rec, true, "renew subscription "+rec.ID, err)
			default:
				rec.Expiry = renewed.ExpirationDateTime.UTC()
				rec.RenewedAt = now
				log.WithFields(logrus.Fields{"subscription": rec.ID, "expiry": formatTime(rec.Expiry)}).Info("renewed subscription")
			}
		}
	}
	if mine == nil {
		reason := ReasonCreated
		if had && (rec.ID != "" || !rec.CreatedAt.IsZero()) {
			reason = ReasonRecreated
		}
		rec, err = m.create(ctx, api, rec, now)
		if err != nil {
			return rec, false, err
		}
		replaced = true
		log.WithFields(logrus.Fields{"subscription": rec.ID, "expiry": formatTime(rec.Expiry), "reason": reason}).Info("created subscription")
		m.owe(&rec, gapRun{id: gapRunID(tenantID, rec.ID), reason: reason})
	}
	if owed.id != "" && !replaced {
		m.owe(&rec, owed)
	}
	rec, err = m.succeed(ctx, rec, now)
	return rec, replaced, err
}

// sortOut finds psasync's subscription of the tenant among the app's and
// the stale ones to delete: any other subscription on /users to psasync's
// notification URL, and psasync's own when its URLs or change types no
// longer match the config. Subscriptions to other URLs (another deployment
// using the same app) are left alone.
func (m *Manager) sortOut(rec Record, subs []directory.Subscription) (*directory.Subscription, []directory.Subscription) {
	var candidates, stale []directory.Subscription
	for _, s := range subs {
		if !isUsersResource(s.Resource) {
			continue
		}
		byID := rec.ID != "" && s.ID == rec.ID
		if !byID && s.NotificationURL != m.notificationURL {
			continue
		}
		byState := rec.ClientState != "" && s.ClientState != "" &&
			subtle.ConstantTimeCompare([]byte(s.ClientState), []byte(rec.ClientState)) == 1
		current := s.NotificationURL == m.notificationURL && s.LifecycleNotificationURL == m.lifecycleURL &&
			sameChangeTypes(s.ChangeType, ChangeType) && (s.ClientState == "" || rec.ClientState == "" || byState)
		if (byID || byState) && current {
			candidates = append(candidates, s)
		} else {
			stale = append(stale, s)
		}
	}
	if len(candidates) == 0 {
		return nil, stale
	}
	// Keep the one known by id, else the longest-lived; the rest are stale.
	sort.SliceStable(candidates, func(i, j int) bool {
		if (candidates[i].ID == rec.ID) != (candidates[j].ID == rec.ID) {
			return candidates[i].ID == rec.ID
		}
		return candidates[i].ExpirationDateTime.After(candidates[j].ExpirationDateTime)
	})
	mine := candidates[0]
	return &mine, append(stale, candidates[1:]...)
}

// create subscribes the tenant with a fresh clientState. The clientState is
// stored before the POST, so a crash between Graph's answer and the save
// leaves a subscription the next check recognises and adopts.
func (m *Manager) create(ctx context.Context, api SubscriptionAPI, rec Record, now time.Time) (Record, error) {
	state, err := newClientState()
	if err != nil {
		return rec, fmt.Errorf("subscription: tenant %s: %w", rec.TenantID, err)
	}
	pending := rec
	pending.ID, pending.ClientState = "", state
	pending.Resource, pending.ChangeType = Resource, ChangeType
	pending.NotificationURL, pending.LifecycleURL = m.notificationURL, m.lifecycleURL
	if err := m.store.Save(ctx, pending); err != nil {
		return rec, err
	}
	created, err := api.CreateSubscription(ctx, directory.Subscription{
		Resource: Resource, ChangeType: ChangeType,
		NotificationURL: m.notificationURL, LifecycleNotificationURL: m.lifecycleURL,
		ClientState: state, ExpirationDateTime: m.expiry(now),
	})
	if err != nil {
		out, _, ferr := m.fail(ctx, pending, true, "create subscription", err)
		return out, ferr
	}
	if created.ID == "" {
		out, _, ferr := m.fail(ctx, pending, true, "create subscription", errors.New("graph returned a subscription without an id"))
		return out, ferr
	}
	rec = pending
	rec.ID = created.ID
	m.copyFields(&rec, created)
	rec.CreatedAt = now
	rec.RenewedAt = time.Time{}
	rec.LastReauthorizedAt = time.Time{}
	return rec, nil
}

// copyFields takes what Graph says about the subscription (the clientState
// stays psasync's own: listings may omit it).
func (m *Manager) copyFields(rec *Record, s directory.Subscription) {
	rec.Resource = s.Resource
	rec.ChangeType = s.ChangeType
	rec.NotificationURL = s.NotificationURL
	rec.LifecycleURL = s.LifecycleNotificationURL
	rec.Expiry = s.ExpirationDateTime.UTC()
}

// owe notes a run the tenant is owed; an earlier unsent one is kept (it
// covers the same gap and more).
func (m *Manager) owe(rec *Record, run gapRun) {
	if rec.PendingRunID == "" {
		rec.PendingRunID, rec.PendingRunReason = run.id, run.reason
	}
}

// gapRunID is the id of the incremental run that repairs the gap of a new
// subscription: one per subscription, so a retried job never doubles it.
func gapRunID(tenantID, subscriptionID string) string {
	return "gap:" + tenantID + ":" + subscriptionID
}

// succeed records a successful check, then enqueues any owed run.
func (m *Manager) succeed(ctx context.Context, rec Record, now time.Time) (Record, error) {
	rec.Health, rec.ErrorCode, rec.LastError, rec.Failures = HealthHealthy, "", "", 0
	rec.CheckedAt = now
	rec.NextAttemptAt = rec.Expiry.Add(-m.cfg.RenewBefore)
	if err := m.store.Save(ctx, rec); err != nil {
		return rec, err
	}
	if rec.PendingRunID == "" {
		return rec, nil
	}
	log := m.log.WithFields(logrus.Fields{"tenant": rec.TenantID, "run": rec.PendingRunID, "reason": rec.PendingRunReason})
	if err := m.runs.EnqueueRun(ctx, rec.PendingRunID, rec.TenantID, false, rec.PendingRunReason); err != nil {
		log.WithError(err).Warn("could not enqueue the catch-up run; the next check tries again")
		return rec, fmt.Errorf("subscription: tenant %s: enqueue run %s: %w", rec.TenantID, rec.PendingRunID, err)
	}
	log.Info("enqueued an incremental run to catch up")
	rec.PendingRunID, rec.PendingRunReason = "", ""
	if err := m.store.Save(ctx, rec); err != nil {
		return rec, err
	}
	return rec, nil
}

// fail records a failure on the tenant's record (unless the caller's
// context ended, or the tenant is unknown and had no record) and returns
// it as *Error.
func (m *Manager) fail(ctx context.Context, rec Record, had bool, op string, cause error) (Record, bool, error) {
	if isCanceled(ctx, cause) {
		return rec, false, fmt.Errorf("subscription: tenant %s: %s: %w", rec.TenantID, op, cause)
	}
	now := m.now()
	code, retryAfter, health := classify(cause)
	rec.Failures++
	if retryAfter <= 0 {
		retryAfter = backoff(rec.Failures)
	}
	rec.ErrorCode, rec.LastError = code, cause.Error()
	rec.NextAttemptAt = now.Add(retryAfter)
	if rec.ID == "" || !rec.Expiry.After(now) {
		health = HealthUnhealthy
	}
	rec.Health = health
	e := &Error{TenantID: rec.TenantID, Op: op, Code: code, RetryAfter: retryAfter, Err: cause}
	m.log.WithFields(logrus.Fields{"tenant": rec.TenantID, "code": code, "health": health, "retry_in": retryAfter}).WithError(cause).Warn("subscription check failed")
	if code == CodeUnknownTenant && !had {
		return rec, false, e
	}
	if err := m.store.Save(context.WithoutCancel(ctx), rec); err != nil {
		return rec, false, errors.Join(e, err)
	}
	return rec, false, e
}

// isUsersResource reports whether a subscription watches the users
// collection ("/users", "users", "Users").
func isUsersResource(r string) bool {
	return strings.EqualFold(strings.Trim(strings.TrimSpace(r), "/"), "users")
}

// sameChangeTypes compares comma-separated change types as sets.
func sameChangeTypes(a, b string) bool {
	set := func(s string) string {
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, strings.ToLower(p))
			}
		}
		sort.Strings(parts)
		return strings.Join(parts, ",")
	}
	return set(a) == set(b)
}

// newClientState is a fresh 256-bit secret, 43 characters of base64url
// (Graph allows 128).
func newClientState() (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate clientState: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}
