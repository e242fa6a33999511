// Package redislock is psasync's one lock on Redis, shared by the worker's
// tenant and user locks and the subscription store's tenant lock: SET NX PX
// with a random token, renewed while it is held, deleted only by its holder.
// A holder that dies stops renewing, so its lock frees itself within one TTL.
package redislock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrHeld is returned when another holder kept the lock for longer than the
// caller was willing to wait.
var ErrHeld = errors.New("lock is held by another holder")

// renew extends the lock only if it is still ours.
// KEYS[1] lock key; ARGV[1] token; ARGV[2] ttl (ms). Returns 1 when renewed.
var renew = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

// release deletes the lock only if it is still ours.
// KEYS[1] lock key; ARGV[1] token. Returns 1 when deleted.
var release = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Options tune Acquire; zero values take the defaults.
type Options struct {
	// Wait is how long to keep trying while another holder has the lock
	// (0: try once).
	Wait time.Duration
	// Poll is the pause between tries (default 100 ms).
	Poll time.Duration
}

// Lock is a held lock; Release gives it up.
type Lock struct {
	// Contended says another holder had the lock when Acquire started, so
	// what the caller read before taking it may be stale.
	Contended bool
	release   func()
}

// Acquire takes the lock at key for ttl, renewing it every third of ttl
// until Release. It returns ErrHeld when the lock stayed taken for o.Wait.
func Acquire(ctx context.Context, rdb redis.UniversalClient, key string, ttl time.Duration, o Options) (*Lock, error) {
	if o.Poll <= 0 {
		o.Poll = 100 * time.Millisecond
	}
	token := newToken()
	deadline := time.Now().Add(o.Wait)
	contended := false
	for {
		ok, err := rdb.SetNX(ctx, key, token, ttl).Result()
		if err != nil {
			return nil, fmt.Errorf("lock %s: %w", key, err)
		}
		if ok {
			return &Lock{Contended: contended, release: keep(rdb, key, token, ttl)}, nil
		}
		contended = true
		if !time.Now().Add(o.Poll).Before(deadline) {
			return nil, fmt.Errorf("lock %s: %w", key, ErrHeld)
		}
		t := time.NewTimer(o.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("lock %s: %w", key, ctx.Err())
		case <-t.C:
		}
	}
}

// Release stops renewing and deletes the lock if it is still ours. It is
// safe to call more than once.
func (l *Lock) Release() { l.release() }

// Held reports whether anyone holds the lock at key.
func Held(ctx context.Context, rdb redis.UniversalClient, key string) (bool, error) {
	n, err := rdb.Exists(ctx, key).Result()
	if err != nil {
		return false, fmt.Errorf("check lock %s: %w", key, err)
	}
	return n > 0, nil
}

func keep(rdb redis.UniversalClient, key, token string, ttl time.Duration) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				renew.Run(context.Background(), rdb, []string{key}, token, ttl.Milliseconds())
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			releaseRetrying(rdb, key, token, min(ttl, maxReleaseRetry))
		})
	}
}

// maxReleaseRetry bounds how long a release keeps trying while Redis does
// not answer.
const maxReleaseRetry = 10 * time.Second

// releaseRetrying deletes the lock if it is still ours, trying again for up
// to within while Redis does not answer: during a Sentinel failover the
// first tries fail, and a lock left behind would keep the next holder out
// for its whole TTL. Past within, the TTL frees it.
func releaseRetrying(rdb redis.UniversalClient, key, token string, within time.Duration) {
	deadline := time.Now().Add(within)
	pause := 100 * time.Millisecond
	for {
		err := release.Run(context.Background(), rdb, []string{key}, token).Err()
		if err == nil || errors.Is(err, redis.Nil) || !time.Now().Add(pause).Before(deadline) {
			return
		}
		time.Sleep(pause)
		pause = min(2*pause, time.Second)
	}
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
