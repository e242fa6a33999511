package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
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
	a.rdb.AddHook(&a.redisWatch)
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

// redisWatch remembers when Redis last failed to answer (a refused dial, a
// dropped connection, a replica that is no longer writable), so that a job
// that failed because of it is retried within seconds rather than after
// asynq's long default backoff: a Sentinel failover takes a few seconds,
// and a job that hit it should not wait a minute.
type redisWatch struct{ last atomic.Int64 }

// redisRecoveryWindow is how long after a Redis failure a job's network
// error is taken for that failure.
const redisRecoveryWindow = 30 * time.Second

// redisRetryDelay is the retry delay of such a job.
const redisRetryDelay = time.Second

// redisTrouble says err is Redis being unreachable or not (yet) the
// writable master, not an answer.
func redisTrouble(err error) bool {
	if err == nil || errors.Is(err, redis.Nil) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) {
		return true
	}
	msg := err.Error()
	for _, p := range []string{"READONLY", "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "redis: connection pool timeout"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}

func (w *redisWatch) note(err error) {
	if redisTrouble(err) {
		w.last.Store(time.Now().UnixNano())
	}
}

// recovering says a job's err is most likely the Redis failure seen
// within redisRecoveryWindow.
func (w *redisWatch) recovering(err error) bool {
	last := w.last.Load()
	return last != 0 && time.Since(time.Unix(0, last)) < redisRecoveryWindow && redisTrouble(err)
}

// DialHook, ProcessHook and ProcessPipelineHook make redisWatch a
// go-redis hook.
func (w *redisWatch) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		w.note(err)
		return c, err
	}
}

func (w *redisWatch) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		w.note(err)
		return err
	}
}

func (w *redisWatch) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		w.note(err)
		return err
	}
}
