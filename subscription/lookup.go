package subscription

import (
	"context"
	"sync"
	"time"
)

// CachedLookup answers the webhook's "which subscription is this?" from the
// store, remembering known subscriptions for a short TTL so a busy tenant
// costs one Redis read per TTL, not one per notification. A renewed
// subscription keeps its id and clientState and a recreated one gets a new
// id, so the cache can only briefly keep accepting a subscription that was
// just deleted. Unknown ids are never cached. Safe for concurrent use.
type CachedLookup struct {
	store *Store
	ttl   time.Duration
	now   func() time.Time
	mu    sync.Mutex
	known map[string]cachedRecord
}

type cachedRecord struct {
	rec     Record
	expires time.Time
}

// maxCachedLookups bounds the cache: an MSP has at most a few thousand
// tenants, so reaching it means ids are being made up.
const maxCachedLookups = 10000

// DefaultLookupTTL is how long CachedLookup trusts a known subscription.
const DefaultLookupTTL = 5 * time.Second

// NewCachedLookup caches store's lookups for ttl (DefaultLookupTTL when
// ttl <= 0).
func NewCachedLookup(store *Store, ttl time.Duration) *CachedLookup {
	if ttl <= 0 {
		ttl = DefaultLookupTTL
	}
	return &CachedLookup{store: store, ttl: ttl, now: time.Now, known: map[string]cachedRecord{}}
}

// Lookup returns the stored record of subscription id; ok is false when
// the id is unknown, and an error means the store could not answer.
func (l *CachedLookup) Lookup(ctx context.Context, id string) (Record, bool, error) {
	now := l.now()
	l.mu.Lock()
	c, hit := l.known[id]
	l.mu.Unlock()
	if hit && now.Before(c.expires) {
		return c.rec, true, nil
	}
	rec, ok, err := l.store.LookupSubscription(ctx, id)
	if err != nil || !ok {
		return Record{}, ok, err
	}
	l.mu.Lock()
	if len(l.known) >= maxCachedLookups {
		l.known = map[string]cachedRecord{}
	}
	l.known[id] = cachedRecord{rec: rec, expires: now.Add(l.ttl)}
	l.mu.Unlock()
	return rec, true, nil
}
