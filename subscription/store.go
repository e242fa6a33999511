package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/psasync/psasync/internal/redislock"
)

// Store keeps the subscription state of every tenant in Redis: what the
// manager needs to renew and repair subscriptions, and what the webhook
// needs to authenticate a notification (one round trip per lookup).
//
// Keys (prefix P, as given to NewStore; it must not contain braces,
// the {id} hash tag keeps a subscription's two keys in one cluster slot):
//
//	P sub:tenant:<tenant>   string JSON record of the tenant (the source of
//	                        truth; its subscription id may be empty while
//	                        none exists, e.g. when consent is missing)
//	P sub:{<id>}            string the same JSON record, keyed by Graph's
//	                        subscription id for the webhook's lookup
//	P sub:{<id>}:seen       string unix ms of the last change notification,
//	                        written only by TouchNotification; expires after
//	                        SeenTTL so a deleted subscription leaves nothing
//	P sub:tenants           set    tenant ids that have a record
//	P sub:lock:<tenant>     string the manager's per-tenant lock (internal/redislock,
//	                        NX PX), so replicas never create, renew or
//	                        delete one tenant's subscription at once
//
// The record JSON holds the clientState (a secret); nothing else in psasync
// prints it: Record.String, Record's own JSON and Status leave it out.
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	// SeenTTL bounds how long a last-notification time is kept; it is longer
	// than the longest subscription, so a live one never loses it.
	SeenTTL time.Duration
}

// defaultSeenTTL outlives the longest users subscription (29 days).
const defaultSeenTTL = 60 * 24 * time.Hour

// NewStore wraps a Redis client; every key starts with prefix, used as
// given (the config owns the default, config.DefaultKeyPrefix).
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	return &Store{rdb: rdb, prefix: prefix, SeenTTL: defaultSeenTTL}
}

// Health of a tenant's subscription, as `psasync subscriptions list` shows it.
const (
	// HealthHealthy: a live subscription, and the last check succeeded.
	HealthHealthy = "healthy"
	// HealthPending: no verdict yet, or the last check hit a passing problem
	// (throttling, Graph unavailable) and is being retried; the
	// subscription, if any, is still live.
	HealthPending = "pending"
	// HealthUnhealthy: the tenant needs attention: consent is missing, Graph
	// refused the subscription, or no live subscription exists.
	HealthUnhealthy = "unhealthy"
	// HealthNone: the tenant has no subscription record yet.
	HealthNone = "none"
)

// Record is the stored state of one tenant's Graph subscription.
type Record struct {
	// ID is Graph's subscription id; empty while the tenant has none.
	ID       string `json:"id"`
	TenantID string `json:"tenant_id"`
	// ClientState is the subscription's secret; it is never printed or
	// marshalled by Record itself (see String and Status).
	ClientState     string `json:"-"`
	Resource        string `json:"resource"`
	ChangeType      string `json:"change_type"`
	NotificationURL string `json:"notification_url"`
	LifecycleURL    string `json:"lifecycle_url"`
	// Expiry is the subscription's expirationDateTime as Graph confirmed it.
	Expiry    time.Time `json:"expiry"`
	CreatedAt time.Time `json:"created_at"`
	// RenewedAt is the last successful PATCH (renewal).
	RenewedAt time.Time `json:"renewed_at"`
	// LastReauthorizedAt is when a reauthorizationRequired event was last
	// answered (always with a PATCH, which reauthorizes too).
	LastReauthorizedAt time.Time `json:"last_reauthorized_at"`
	// LastNotificationAt is the last change notification the webhook
	// accepted; it is owned by TouchNotification, and Save ignores it.
	LastNotificationAt time.Time `json:"last_notification_at"`
	// CheckedAt is the last successful check against Graph.
	CheckedAt time.Time `json:"checked_at"`
	// Health is HealthHealthy, HealthPending or HealthUnhealthy.
	Health string `json:"health"`
	// ErrorCode classifies the last failure (e.g. "PermissionDenied"); empty
	// when healthy.
	ErrorCode string `json:"error_code,omitempty"`
	// LastError is the last failure's message; empty when healthy.
	LastError string `json:"last_error,omitempty"`
	// Failures counts consecutive failed attempts.
	Failures int `json:"failures,omitempty"`
	// NextAttemptAt is when psasync acts on its own next: the renewal due
	// time when healthy, the retry time after a failure.
	NextAttemptAt time.Time `json:"next_attempt_at"`
	// PendingRunID and PendingRunReason name an incremental run that a
	// recreate owes the tenant and that is not enqueued yet; the next check
	// enqueues it, so a failed enqueue never loses the catch-up.
	PendingRunID     string `json:"pending_run_id,omitempty"`
	PendingRunReason string `json:"pending_run_reason,omitempty"`
}

// String describes the record without its clientState, so it can be logged.
func (r Record) String() string {
	return fmt.Sprintf("subscription %q of tenant %s on %s (%s), expires %s, health %s%s",
		r.ID, r.TenantID, r.Resource, r.ChangeType, formatTime(r.Expiry), r.Health, codeSuffix(r.ErrorCode))
}

// GoString keeps %#v from printing the clientState too.
func (r Record) GoString() string { return r.String() }

func codeSuffix(code string) string {
	if code == "" {
		return ""
	}
	return " (" + code + ")"
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

// Status is a record as listings show it: everything an operator needs and
// no secret.
type Status struct {
	TenantID           string    `json:"tenant_id"`
	SubscriptionID     string    `json:"subscription_id"`
	Expiry             time.Time `json:"expiry"`
	LastNotificationAt time.Time `json:"last_notification_at"`
	RenewedAt          time.Time `json:"renewed_at"`
	CheckedAt          time.Time `json:"checked_at"`
	Health             string    `json:"health"`
	ErrorCode          string    `json:"error_code,omitempty"`
	LastError          string    `json:"last_error,omitempty"`
	NextAttemptAt      time.Time `json:"next_attempt_at"`
}

// Status returns the record's listing form.
func (r Record) Status() Status {
	return Status{
		TenantID: r.TenantID, SubscriptionID: r.ID, Expiry: r.Expiry,
		LastNotificationAt: r.LastNotificationAt, RenewedAt: r.RenewedAt, CheckedAt: r.CheckedAt,
		Health: r.Health, ErrorCode: r.ErrorCode, LastError: r.LastError, NextAttemptAt: r.NextAttemptAt,
	}
}

// storedRecord is the JSON kept in Redis: the record with its clientState.
type storedRecord struct {
	Record
	ClientState string `json:"client_state"`
}

func encodeRecord(r Record) ([]byte, error) {
	r.LastNotificationAt = time.Time{} // owned by the seen key
	return json.Marshal(storedRecord{Record: r, ClientState: r.ClientState})
}

func decodeRecord(raw string) (Record, error) {
	var s storedRecord
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return Record{}, err
	}
	s.Record.ClientState = s.ClientState
	return s.Record, nil
}

func (s *Store) tenantKey(tenant string) string { return s.prefix + "sub:tenant:" + tenant }
func (s *Store) idKey(id string) string         { return s.prefix + "sub:{" + id + "}" }
func (s *Store) seenKey(id string) string       { return s.prefix + "sub:{" + id + "}:seen" }
func (s *Store) tenantsKey() string             { return s.prefix + "sub:tenants" }
func (s *Store) lockKey(tenant string) string   { return s.prefix + "sub:lock:" + tenant }

// parseSeen reads a seen value (unix ms); anything else counts as never.
func parseSeen(v any) time.Time {
	str, ok := v.(string)
	if !ok {
		return time.Time{}
	}
	ms, err := strconv.ParseInt(str, 10, 64)
	if err != nil || ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// LookupSubscription finds a subscription by Graph's id in one round trip,
// for the webhook's hot path; ok is false for an unknown id.
func (s *Store) LookupSubscription(ctx context.Context, id string) (Record, bool, error) {
	if id == "" {
		return Record{}, false, nil
	}
	vals, err := s.rdb.MGet(ctx, s.idKey(id), s.seenKey(id)).Result()
	if err != nil {
		return Record{}, false, fmt.Errorf("subscription store: look up subscription %s: %w", id, err)
	}
	raw, ok := vals[0].(string)
	if !ok {
		return Record{}, false, nil
	}
	rec, err := decodeRecord(raw)
	if err != nil {
		return Record{}, false, fmt.Errorf("subscription store: decode subscription %s: %w", id, err)
	}
	rec.LastNotificationAt = parseSeen(vals[1])
	return rec, true, nil
}

// TouchNotification records that a change notification of the subscription
// arrived at at. It is one SET, cheap enough for every webhook POST.
func (s *Store) TouchNotification(ctx context.Context, id string, at time.Time) error {
	if id == "" {
		return errors.New("subscription store: touch notification: empty subscription id")
	}
	if err := s.rdb.Set(ctx, s.seenKey(id), at.UnixMilli(), s.SeenTTL).Err(); err != nil {
		return fmt.Errorf("subscription store: touch subscription %s: %w", id, err)
	}
	return nil
}

// ByTenant returns the tenant's record; ok is false when it has none.
func (s *Store) ByTenant(ctx context.Context, tenantID string) (Record, bool, error) {
	raw, err := s.rdb.Get(ctx, s.tenantKey(tenantID)).Result()
	if errors.Is(err, redis.Nil) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("subscription store: read tenant %s: %w", tenantID, err)
	}
	rec, err := decodeRecord(raw)
	if err != nil {
		return Record{}, false, fmt.Errorf("subscription store: decode tenant %s: %w", tenantID, err)
	}
	if rec.ID != "" {
		seen, err := s.rdb.Get(ctx, s.seenKey(rec.ID)).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return Record{}, false, fmt.Errorf("subscription store: read last notification of tenant %s: %w", tenantID, err)
		}
		rec.LastNotificationAt = parseSeen(seen)
	}
	return rec, true, nil
}

// All returns every tenant's record, sorted by tenant id.
func (s *Store) All(ctx context.Context) ([]Record, error) {
	recs, _, err := s.first(ctx, 0)
	return recs, err
}

// first returns the records of the first limit tenants by id (every tenant
// when limit is 0) in three round trips, and how many tenants there are, so
// that a caller on a scrape path reads a bounded amount and can say what it
// left out.
func (s *Store) first(ctx context.Context, limit int) ([]Record, int, error) {
	tenants, err := s.rdb.SMembers(ctx, s.tenantsKey()).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("subscription store: list tenants: %w", err)
	}
	total := len(tenants)
	if total == 0 {
		return nil, 0, nil
	}
	sort.Strings(tenants)
	if limit > 0 && len(tenants) > limit {
		tenants = tenants[:limit]
	}
	gets := make([]*redis.StringCmd, len(tenants))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, t := range tenants {
			gets[i] = p.Get(ctx, s.tenantKey(t))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("subscription store: read tenants: %w", err)
	}
	out := make([]Record, 0, len(tenants))
	for i, g := range gets {
		raw, err := g.Result()
		if errors.Is(err, redis.Nil) {
			continue // removed between SMEMBERS and GET
		}
		if err != nil {
			return nil, 0, fmt.Errorf("subscription store: read tenant %s: %w", tenants[i], err)
		}
		rec, err := decodeRecord(raw)
		if err != nil {
			return nil, 0, fmt.Errorf("subscription store: decode tenant %s: %w", tenants[i], err)
		}
		out = append(out, rec)
	}
	seen := make([]*redis.StringCmd, len(out))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, rec := range out {
			if rec.ID != "" {
				seen[i] = p.Get(ctx, s.seenKey(rec.ID))
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, 0, fmt.Errorf("subscription store: read last notifications: %w", err)
	}
	for i := range out {
		if seen[i] != nil {
			v, _ := seen[i].Result()
			out[i].LastNotificationAt = parseSeen(v)
		}
	}
	return out, total, nil
}

// Save writes the tenant's record (and its copy under the subscription id).
// When the subscription id changed, the old id's keys are removed, so
// notifications of the replaced subscription are no longer accepted.
// LastNotificationAt is not written (TouchNotification owns it). Callers
// serialise saves of one tenant (the manager holds the tenant's lock).
func (s *Store) Save(ctx context.Context, rec Record) error {
	if rec.TenantID == "" {
		return errors.New("subscription store: save: record without tenant id")
	}
	old, had, err := s.ByTenant(ctx, rec.TenantID)
	if err != nil {
		return err
	}
	b, err := encodeRecord(rec)
	if err != nil {
		return fmt.Errorf("subscription store: encode tenant %s: %w", rec.TenantID, err)
	}
	// Not a transaction: the keys sit in different Cluster slots, where
	// MULTI cannot span them. Instead the writes go in steps, each only
	// once the one before succeeded (a Cluster pipeline runs its slots in
	// parallel, so one pipeline would not keep the order), and each step
	// leaves the store usable: first the id copy (the webhook accepts the
	// new subscription) and the tenants set, then the tenant's record (the
	// source of truth), then the old id's keys go. Saving again (every
	// renewal does) repairs an interrupted save.
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		if rec.ID != "" {
			p.Set(ctx, s.idKey(rec.ID), b, 0)
		}
		p.SAdd(ctx, s.tenantsKey(), rec.TenantID)
		return nil
	})
	if err == nil {
		err = s.rdb.Set(ctx, s.tenantKey(rec.TenantID), b, 0).Err()
	}
	if err == nil && had && old.ID != "" && old.ID != rec.ID {
		err = s.rdb.Del(ctx, s.idKey(old.ID), s.seenKey(old.ID)).Err()
	}
	if err != nil {
		return fmt.Errorf("subscription store: save tenant %s: %w", rec.TenantID, err)
	}
	return nil
}

// Delete removes the tenant's record and its subscription's keys; a tenant
// without a record is not an error.
func (s *Store) Delete(ctx context.Context, tenantID string) error {
	old, had, err := s.ByTenant(ctx, tenantID)
	if err != nil {
		return err
	}
	// In steps for the same reason as Save: the subscription's keys go
	// first (the webhook stops accepting it), then the tenant's record and
	// its set entry, so an interrupted delete leaves the record that lets
	// the next Delete finish the job.
	if had && old.ID != "" {
		err = s.rdb.Del(ctx, s.idKey(old.ID), s.seenKey(old.ID)).Err()
	}
	if err == nil {
		_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SRem(ctx, s.tenantsKey(), tenantID)
			p.Del(ctx, s.tenantKey(tenantID))
			return nil
		})
	}
	if err != nil {
		return fmt.Errorf("subscription store: delete tenant %s: %w", tenantID, err)
	}
	return nil
}

// ErrBusy is returned when another replica or job holds the tenant's lock
// for longer than the manager waits; retry shortly.
var ErrBusy = errors.New("subscription: tenant is busy (another replica or job holds its lock)")

// lock takes the tenant's lock (internal/redislock: renewed while held),
// polling every poll until wait has passed; the returned function releases
// it.
func (s *Store) lock(ctx context.Context, tenantID string, ttl, wait, poll time.Duration) (func(), error) {
	l, err := redislock.Acquire(ctx, s.rdb, s.lockKey(tenantID), ttl, redislock.Options{Wait: wait, Poll: poll})
	if errors.Is(err, redislock.ErrHeld) {
		return nil, fmt.Errorf("tenant %s: %w", tenantID, ErrBusy)
	}
	if err != nil {
		return nil, fmt.Errorf("subscription store: lock tenant %s: %w", tenantID, err)
	}
	return l.Release, nil
}
