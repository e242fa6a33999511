package quota

import "github.com/redis/go-redis/v9"

// Redis keys (Key is Config.Key):
//
//	rate:{Key}             string  GCRA state of the rate budget: the
//	                               theoretical arrival time, in seconds since
//	                               2017-01-01 by Redis TIME. Owned by
//	                               github.com/go-redis/redis_rate, which adds
//	                               the "rate:" prefix; expires when the budget
//	                               is full again.
//	{Key}:slots:{group}    zset    holders of the concurrency slots of one
//	                               endpoint group: member = holder token
//	                               (random, one per admitted call), score =
//	                               end of its lease in ms since the epoch by
//	                               Redis TIME. A holder renews its lease while
//	                               its call runs and removes itself when the
//	                               call returns; a crashed replica's entry
//	                               lapses when its lease ends. The key expires
//	                               when the last lease does.
//	{Key}:tenants          zset    tenants contending for the budget
//	                               (share.go): member = tenant id, score =
//	                               its last call in ms by Redis TIME;
//	                               entries older than ShareWindow are
//	                               dropped, the key expires a window after
//	                               the last call.
//	rate:{Key}:share:{t}   string  GCRA state of tenant t's fair share
//	                               (redis_rate, as rate:{Key}).
//
// Every time comes from Redis TIME so that replicas with skewed clocks agree.

// slotsKey returns the sorted set holding group's concurrency slots.
func slotsKey(ns, group string) string {
	return ns + ":slots:" + group
}

// acquireScript takes a concurrency slot if one is free.
//
//	KEYS[1]  {Key}:slots:{group}
//	ARGV[1]  holder token
//	ARGV[2]  cap: the most holders at once
//	ARGV[3]  lease in ms
//
// Returns {1, 0} when the slot was taken, or {0, ms until the earliest
// lease ends} when all slots are held. Lapsed leases are dropped first.
var acquireScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  redis.call('PEXPIRE', KEYS[1], tonumber(last[2]) - now + 1000)
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now}
`)

// renewScript extends a holder's lease while its call is still running.
//
//	KEYS[1]  {Key}:slots:{group}
//	ARGV[1]  holder token
//	ARGV[2]  lease in ms, counted from now
//
// Returns 1 when the lease was extended, 0 when the holder had lost its slot
// (its lease had already ended); a lapsed entry is removed.
var renewScript = redis.NewScript(`
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIRE', KEYS[1], tonumber(last[2]) - now + 1000)
return 1
`)
