package app

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// openRedis connects to the configured Redis, or starts an embedded one.
func (a *App) openRedis(ctx context.Context) error {
	rc := a.cfg.Redis
	if rc.Addr == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		stop := FollowRealTime(mr)
		a.closers = append(a.closers, func() { stop(); mr.Close() })
		a.log.WithField("addr", mr.Addr()).Warn("no redis.addr configured: using an EMBEDDED IN-MEMORY Redis; queues, links and run reports are lost when the process exits")
		rc.Addr = mr.Addr()
	}
	a.redisOp = redis.UniversalOptions{Addrs: []string{rc.Addr}, Username: rc.Username, Password: rc.Password, DB: rc.DB}
	a.rdb = redis.NewUniversalClient(&a.redisOp)
	a.closers = append(a.closers, func() { _ = a.rdb.Close() })
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.rdb.Ping(pctx).Err(); err != nil {
		return unavailable(fmt.Errorf("redis %s: %w", rc.Addr, err))
	}
	return nil
}

// FollowRealTime moves miniredis's clock with the real one until stop is
// called: miniredis only expires keys when told time passed, and psasync's
// locks and coalescing windows rely on expiry. The embedded Redis uses it,
// and so do tests that start a miniredis of their own.
func FollowRealTime(mr *miniredis.Miniredis) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		last := time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				mr.FastForward(now.Sub(last))
				last = now
			}
		}
	}()
	return func() { close(done); <-stopped }
}
