package quota

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// The budget is shared between tenants, not taken first-come. A call made
// for a tenant (psa.WithTenant) first passes that tenant's fair share, then the
// shared budget: the share is the budget divided by the tenants that
// contend for it, those that made a call within Config.ShareWindow, counted
// across all replicas in Redis. Each share is a GCRA of its own (rate and
// burst divided by the contenders), so a tenant with many jobs waiting
// cannot take the budget of a tenant with few, and no contending tenant is
// starved: each gets its own steady rate. A tenant alone gets the whole
// budget. Calls without a tenant (none in this codebase's wiring) pass the
// shared budget only.

// DefaultShareWindow is Config.ShareWindow when unset.
const DefaultShareWindow = 30 * time.Second

// contendersKey returns the sorted set of the tenants contending for ns.
func contendersKey(ns string) string { return ns + ":tenants" }

// shareKey returns the GCRA key of one tenant's share (redis_rate adds
// "rate:").
func shareKey(ns, tenant string) string { return ns + ":share:" + tenant }

// contendScript notes a tenant's call and counts the contenders.
//
//	KEYS[1]  {Key}:tenants
//	ARGV[1]  tenant id
//	ARGV[2]  share window in ms
//
// Returns the number of tenants with a call within the window, this one
// included. Older entries are dropped; the key expires a window after the
// last call.
var contendScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
redis.call('PEXPIRE', KEYS[1], window)
return redis.call('ZCARD', KEYS[1])
`)

// shareLimit divides the shared limit between n contenders, keeping at
// least one call per period and a burst of one for each.
func shareLimit(l redis_rate.Limit, n int) redis_rate.Limit {
	if n <= 1 {
		return l
	}
	return redis_rate.Limit{Rate: max(1, l.Rate/n), Burst: max(1, l.Burst/n), Period: l.Period}
}

// admitShare spends one unit of the tenant's fair share, or refuses the
// call with psa.ErrRateLimited and the time its share allows the next one.
func (c *Client) admitShare(ctx context.Context, op, tenant string) error {
	n, err := contendScript.Run(ctx, c.rdb, []string{contendersKey(c.cfg.Key)}, tenant, c.cfg.ShareWindow.Milliseconds()).Int()
	if err != nil {
		return c.storeError(ctx, op, "count the tenants sharing the budget", err)
	}
	res, err := c.limiter.Allow(ctx, shareKey(c.cfg.Key, tenant), shareLimit(c.limit, n))
	if err != nil {
		return c.storeError(ctx, op, "check the tenant's share of the budget", err)
	}
	if res.Allowed > 0 {
		return nil
	}
	c.limited.Add(1)
	c.shareLimited.Add(1)
	wait := max(res.RetryAfter, time.Millisecond)
	c.log.WithFields(logrus.Fields{"op": op, "tenant": tenant, "tenants": n, "retry_after": wait}).Debug("quota: tenant's share spent")
	return &psa.Error{Op: op, Kind: psa.ErrRateLimited, RetryAfter: wait, Err: psa.ErrOwnQuota,
		Message: fmt.Sprintf("tenant %s has spent its share of psasync's quota for %s (1/%d of %d requests per %s while %d tenants contend); the next call is allowed in %s",
			tenant, c.name, n, c.cfg.Requests, c.cfg.Period, n, wait.Round(time.Millisecond))}
}
