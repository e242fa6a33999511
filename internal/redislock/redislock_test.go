package redislock_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/internal/redislock"
)

func newRedis(t *testing.T) (*miniredis.Miniredis, redis.UniversalClient) {
	t.Helper()
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return mr, rdb
}

func TestOneHolderAtATime(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	_, rdb := newRedis(t)
	a, err := redislock.Acquire(ctx, rdb, "k", time.Minute, redislock.Options{})
	require.NoError(t, err)
	require.False(t, a.Contended)

	_, err = redislock.Acquire(ctx, rdb, "k", time.Minute, redislock.Options{})
	require.ErrorIs(t, err, redislock.ErrHeld, "a second holder is refused at once without Wait")
	held, err := redislock.Held(ctx, rdb, "k")
	require.NoError(t, err)
	require.True(t, held)

	done := make(chan *redislock.Lock)
	go func() {
		b, err := redislock.Acquire(ctx, rdb, "k", time.Minute, redislock.Options{Wait: 5 * time.Second, Poll: 10 * time.Millisecond})
		if err != nil {
			close(done)
			return
		}
		done <- b
	}()
	time.Sleep(50 * time.Millisecond)
	a.Release()
	a.Release() // safe twice
	b, ok := <-done
	require.True(t, ok, "the waiter gets the lock once it is released")
	require.True(t, b.Contended, "it had to wait, so what it read before may be stale")
	b.Release()
	held, err = redislock.Held(ctx, rdb, "k")
	require.NoError(t, err)
	require.False(t, held)
}

func TestReleaseLeavesAnotherHoldersLock(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mr, rdb := newRedis(t)
	a, err := redislock.Acquire(ctx, rdb, "k", time.Minute, redislock.Options{})
	require.NoError(t, err)
	// a's lock expired (its holder stalled) and b took it.
	mr.Del("k")
	b, err := redislock.Acquire(ctx, rdb, "k", time.Minute, redislock.Options{})
	require.NoError(t, err)
	a.Release()
	held, err := redislock.Held(ctx, rdb, "k")
	require.NoError(t, err)
	require.True(t, held, "a stale holder must not delete the new holder's lock")
	b.Release()
}

func TestHeldLockIsRenewed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mr, rdb := newRedis(t)
	l, err := redislock.Acquire(ctx, rdb, "k", 300*time.Millisecond, redislock.Options{})
	require.NoError(t, err)
	defer l.Release()
	// miniredis moves its clock only when told: take 250 ms off the TTL,
	// then give the holder time for one more renewal (every 100 ms).
	mr.FastForward(250 * time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	ttl, err := rdb.PTTL(ctx, "k").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 150*time.Millisecond, "renewed every third of its TTL")
}

func TestRedisDownIsAnError(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	_, err := redislock.Acquire(context.Background(), rdb, "k", time.Minute, redislock.Options{})
	require.Error(t, err)
	require.False(t, errors.Is(err, redislock.ErrHeld), "an unreachable Redis is not a held lock")
	require.Contains(t, err.Error(), "lock k")
}

func TestReleaseOutlastsAShortRedisOutage(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	mr, rdb := newRedis(t)
	l, err := redislock.Acquire(ctx, rdb, "k", 30*time.Second, redislock.Options{})
	require.NoError(t, err)
	mr.Close() // a failover: Redis does not answer for a moment
	released := make(chan struct{})
	go func() { l.Release(); close(released) }()
	time.Sleep(300 * time.Millisecond)
	select {
	case <-released:
		t.Fatal("Release gave up while Redis was away")
	default:
	}
	require.NoError(t, mr.Restart())
	select {
	case <-released:
	case <-time.After(5 * time.Second):
		t.Fatal("Release did not finish once Redis was back")
	}
	require.False(t, mr.Exists("k"), "the lock was deleted, not left to its 30 s TTL")
}
