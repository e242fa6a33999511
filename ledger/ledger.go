package ledger

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Defaults of Options.
const (
	// DefaultRetention is how long change-log entries are kept (90 days).
	DefaultRetention = 90 * 24 * time.Hour
	// DefaultMaxEntries bounds the change log's size whatever its age.
	DefaultMaxEntries int64 = 5_000_000
	// DefaultRunsPerTenant is how many runs each tenant's history keeps.
	DefaultRunsPerTenant = 50
)

// Options tunes a Ledger; zero fields take the defaults above.
type Options struct {
	// Retention is how long change-log entries (and idempotency keys) are
	// kept; default DefaultRetention.
	Retention time.Duration
	// MaxEntries bounds the change log; trimming is approximate (whole
	// stream nodes), so the log may hold somewhat more. Default
	// DefaultMaxEntries.
	MaxEntries int64
	// RunsPerTenant is how many runs are kept per tenant; older records and
	// their index entries are removed. Default DefaultRunsPerTenant.
	RunsPerTenant int
	// Now is the clock (tests set it); default time.Now.
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Retention <= 0 {
		o.Retention = DefaultRetention
	}
	if o.MaxEntries <= 0 {
		o.MaxEntries = DefaultMaxEntries
	}
	if o.RunsPerTenant <= 0 {
		o.RunsPerTenant = DefaultRunsPerTenant
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Ledger is the change log, run history and operator decisions of one
// psasync deployment, stored in Redis. It is safe for concurrent use by many
// goroutines and processes.
type Ledger struct {
	rdb  redis.UniversalClient
	keys keys
	opt  Options
}

// New wraps a Redis client; every key starts with prefix (e.g. "psasync:")
// followed by the hash tag {ledger}.
func New(rdb redis.UniversalClient, prefix string, o Options) *Ledger {
	return &Ledger{rdb: rdb, keys: keys{p: prefix + "{ledger}:"}, opt: o.withDefaults()}
}

// Options returns the effective options (defaults applied), for status pages.
func (l *Ledger) Options() Options { return l.opt }

func (l *Ledger) now() time.Time { return l.opt.Now().UTC() }

// Errors callers branch on (the API maps them to 404, 409 and 400).
var (
	// ErrNotFound is returned when the conflict, batch, run or quarantine
	// named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrNotOpen is returned when an operator acts on a conflict that is
	// already resolved, ignored or closed, or decides a held contact that
	// was decided the other way already.
	ErrNotOpen = errors.New("not open")
	// ErrNotCandidate is returned when a conflict is resolved with a contact
	// that is not one of its candidates.
	ErrNotCandidate = errors.New("contact is not a candidate")
	// ErrStale is returned when an operator acts on a held batch that is no
	// longer the company's pending batch (replaced by a newer one, or done).
	ErrStale = errors.New("stale batch")
	// ErrNotInBatch is returned when an approval or rejection names a contact
	// that the batch does not hold.
	ErrNotInBatch = errors.New("contact not in batch")
)

// maxTxRetries bounds optimistic-transaction retries under contention.
const maxTxRetries = 20

// update runs fn on the JSON value stored at key under WATCH and writes its
// result in one MULTI, retrying when another client changed the key first.
// fn gets nil when the key is absent; it returns the new value (nil deletes
// the key) and extra commands for the same transaction. A non-nil error from
// fn aborts without writing.
func (l *Ledger) update(ctx context.Context, key string, ttl time.Duration,
	fn func(old []byte) (val []byte, extra func(redis.Pipeliner), err error)) error {
	for range maxTxRetries {
		err := l.rdb.Watch(ctx, func(tx *redis.Tx) error {
			old, err := tx.Get(ctx, key).Bytes()
			if errors.Is(err, redis.Nil) {
				old, err = nil, nil
			}
			if err != nil {
				return err
			}
			val, extra, err := fn(old)
			if err != nil {
				return err
			}
			if extra == nil && bytes.Equal(val, old) && val != nil {
				return nil // nothing changed: no write
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				if val == nil {
					p.Del(ctx, key)
				} else {
					p.Set(ctx, key, val, ttl)
				}
				if extra != nil {
					extra(p)
				}
				return nil
			})
			return err
		}, key)
		if errors.Is(err, redis.TxFailedErr) {
			continue
		}
		return err
	}
	return fmt.Errorf("update %s: too much contention", key)
}

// getJSON reads and decodes the JSON value at key; false when absent.
func (l *Ledger) getJSON(ctx context.Context, key string, v any) (bool, error) {
	b, err := l.rdb.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("decode %s: %w", key, err)
	}
	return true, nil
}

// decodeJSON decodes a stored record; nil (an absent key) gives the zero
// value.
func decodeJSON[T any](b []byte) (T, error) {
	var v T
	if b == nil {
		return v, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, fmt.Errorf("decode %T: %w", v, err)
	}
	return v, nil
}

// listIndexed reads the records an index set names ("<tenant>|<id>"
// members; tenant "" = every tenant), each stored as JSON at keyOf(tenant,
// id), and returns those keep accepts. Members whose record is gone are
// skipped.
func listIndexed[T any](ctx context.Context, l *Ledger, set, tenant string, keyOf func(string, string) string, keep func(T) bool) ([]T, error) {
	ms, err := l.rdb.SMembers(ctx, set).Result()
	if err != nil {
		return nil, err
	}
	var ks []string
	for _, m := range ms {
		if t, id := splitMember(m); tenant == "" || t == tenant {
			ks = append(ks, keyOf(t, id))
		}
	}
	out := []T{}
	for len(ks) > 0 {
		n := min(len(ks), 500)
		vals, err := l.rdb.MGet(ctx, ks[:n]...).Result()
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			s, ok := v.(string)
			if !ok {
				continue
			}
			rec, err := decodeJSON[T]([]byte(s))
			if err != nil {
				return nil, err
			}
			if keep(rec) {
				out = append(out, rec)
			}
		}
		ks = ks[n:]
	}
	return out, nil
}

// newID returns a random id for held batches.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
