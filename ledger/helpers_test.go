package ledger

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// bundle is one test's ledger on one Redis.
type bundle struct {
	l     *Ledger
	rdb   redis.UniversalClient
	clock *clock
	ctx   context.Context
}

// backend names a Redis a test runs against.
type backend struct {
	name   string
	client func(t *testing.T) redis.UniversalClient
}

// backends is miniredis always, plus the real Redis at TEST_REDIS_ADDR.
func backends() []backend {
	out := []backend{{"miniredis", func(t *testing.T) redis.UniversalClient {
		m := miniredis.RunT(t)
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}}}
	if addr := os.Getenv("TEST_REDIS_ADDR"); addr != "" {
		out = append(out, backend{"redis", func(t *testing.T) redis.UniversalClient {
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			t.Cleanup(func() { _ = rdb.Close() })
			return rdb
		}})
	}
	return out
}

// testPrefix is a unique key prefix; cleanup deletes its keys.
func testPrefix(t *testing.T, rdb redis.UniversalClient) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := "ledgertest:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		iter := rdb.Scan(ctx, 0, p+"*", 1000).Iterator()
		var ks []string
		for iter.Next(ctx) {
			ks = append(ks, iter.Val())
		}
		for len(ks) > 0 {
			n := min(len(ks), 500)
			_ = rdb.Del(ctx, ks[:n]...).Err()
			ks = ks[n:]
		}
	})
	return p
}

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

// forEachBackend runs fn in a parallel subtest per backend with a fresh
// ledger whose options are o (Now replaced by the bundle's clock).
func forEachBackend(t *testing.T, o Options, fn func(t *testing.T, b bundle)) {
	t.Helper()
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newBundle(t, be, o))
		})
	}
}

func newBundle(t *testing.T, be backend, o Options) bundle {
	t.Helper()
	rdb := be.client(t)
	c := &clock{t: t0}
	o.Now = c.Now
	return bundle{l: New(rdb, testPrefix(t, rdb), o), rdb: rdb, clock: c, ctx: context.Background()}
}

// miniBundle is a fresh ledger on miniredis, for logic that does not depend
// on the server.
func miniBundle(t *testing.T, o Options) bundle {
	t.Helper()
	return newBundle(t, backends()[0], o)
}
