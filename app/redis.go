package app

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"github.com/psasync/psasync/config"
)

// openRedis connects to the configured Redis (one node, a Sentinel-managed
// master or a Cluster), or starts an embedded one. go-redis and asynq get
// the same topology from redisTopology.
func (a *App) openRedis(ctx context.Context) error {
	rc := a.cfg.Redis
	if rc.Embedded() {
		mr := miniredis.NewMiniRedis()
		if err := mr.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("start embedded redis: %w", err)
		}
		stop := FollowRealTime(mr)
		a.closers = append(a.closers, func() { stop(); mr.Close() })
		a.log.WithField("addr", mr.Addr()).Warn("no redis.addr, redis.sentinel or redis.cluster configured: using an EMBEDDED IN-MEMORY Redis; queues, links and run reports are lost when the process exits")
		rc.Addr = mr.Addr()
	}
	var where string
	a.rdb, a.asynqOpt, where = redisTopology(rc)
	a.closers = append(a.closers, func() { _ = a.rdb.Close() })
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := a.rdb.Ping(pctx).Err(); err != nil {
		return unavailable(fmt.Errorf("redis %s: %w", where, err))
	}
	return nil
}

// redisTopology builds the go-redis client and the matching asynq
// connection option for rc, and says where it points (for errors; no
// secret in it).
func redisTopology(rc config.Redis) (redis.UniversalClient, asynq.RedisConnOpt, string) {
	switch {
	case rc.Sentinel.MasterName != "":
		s := rc.Sentinel
		rdb := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.Addrs,
			SentinelUsername: s.SentinelUsername, SentinelPassword: s.SentinelPassword,
			Username: s.Username, Password: s.Password, DB: s.DB})
		opt := asynq.RedisFailoverClientOpt{MasterName: s.MasterName, SentinelAddrs: s.Addrs,
			SentinelUsername: s.SentinelUsername, SentinelPassword: s.SentinelPassword,
			Username: s.Username, Password: s.Password, DB: s.DB}
		return rdb, opt, fmt.Sprintf("sentinel master %s via %s", s.MasterName, strings.Join(s.Addrs, ","))
	case len(rc.Cluster.Addrs) > 0:
		c := rc.Cluster
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, Username: c.Username, Password: c.Password})
		opt := asynq.RedisClusterClientOpt{Addrs: c.Addrs, Username: c.Username, Password: c.Password}
		return rdb, opt, "cluster " + strings.Join(c.Addrs, ",")
	default:
		rdb := redis.NewClient(&redis.Options{Addr: rc.Addr, Username: rc.Username, Password: rc.Password, DB: rc.DB})
		opt := asynq.RedisClientOpt{Addr: rc.Addr, Username: rc.Username, Password: rc.Password, DB: rc.DB}
		return rdb, opt, rc.Addr
	}
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
