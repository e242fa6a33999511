package ledger

import (
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// keys names every ledger key. All of them share the hash tag {ledger}, so a
// script or MULTI over several of them stays in one Cluster slot.
//
// Keys (P = the configured prefix, e.g. "psasync:"):
//
//	P{ledger}:changes                    stream  the change log; field "e" = JSON Entry (without id); ids "ms-seq" from Entry.Time
//	P{ledger}:changes:last               string  the last stream id given out (ids stay monotonic when the clock goes back)
//	P{ledger}:idem:<key>                 string  an appended entry's idempotency key; expires after Retention
//	P{ledger}:ix:contact:<contact id>    zset    score 0, member = padded stream id (lexMember) of the contact's entries; trimmed to Retention, expires with it
//	P{ledger}:ix:user:<lower id or upn>  zset    the same per user object id and per UPN
//	P{ledger}:ix:tenant:<tenant>         zset    the same per tenant
//	P{ledger}:run:<run id>               hash    member, tenant, mode, state, dry_run, created, finished, record (the worker's JSON)
//	P{ledger}:runs                       zset    score 0, member = "%015d:<run id>" (created unix ms); every run
//	P{ledger}:runs:<tenant>              zset    the same per tenant; holds at most RunsPerTenant
//	P{ledger}:conflict:<tenant>:<user>   string  JSON Conflict (user = lower-case object id)
//	P{ledger}:conflicts                  set     "<tenant>|<user>" of every stored conflict
//	P{ledger}:held:<tenant>:<company>    string  JSON heldRecord: the company's last batch and the standing decisions
//	P{ledger}:held-id:<batch id>         string  "<tenant>|<company>" of a batch id; expires after Retention
//	P{ledger}:held                       set     "<tenant>|<company>" with a held record
//	P{ledger}:quarantine:<tenant>:<user> string  JSON quarantine record (user "" = the tenant itself); failure counts expire after Retention
//	P{ledger}:quarantined                set     "<tenant>|<user>" currently quarantined
type keys struct{ p string }

func (k keys) changes() string            { return k.p + "changes" }
func (k keys) changesLast() string        { return k.p + "changes:last" }
func (k keys) idem(key string) string     { return k.p + "idem:" + key }
func (k keys) contactIx(id string) string { return k.p + "ix:contact:" + id }
func (k keys) userIx(u string) string     { return k.p + "ix:user:" + strings.ToLower(u) }
func (k keys) tenantIx(t string) string   { return k.p + "ix:tenant:" + t }
func (k keys) run(id string) string       { return k.p + "run:" + id }
func (k keys) runs() string               { return k.p + "runs" }
func (k keys) tenantRuns(t string) string { return k.p + "runs:" + t }
func (k keys) conflict(tenant, user string) string {
	return k.p + "conflict:" + tenant + ":" + strings.ToLower(user)
}
func (k keys) conflicts() string { return k.p + "conflicts" }
func (k keys) held(tenant, company string) string {
	return k.p + "held:" + tenant + ":" + company
}
func (k keys) heldID(id string) string { return k.p + "held-id:" + id }
func (k keys) helds() string           { return k.p + "held" }
func (k keys) quarantine(tenant, user string) string {
	return k.p + "quarantine:" + tenant + ":" + strings.ToLower(user)
}
func (k keys) quarantined() string { return k.p + "quarantined" }

// member joins a tenant and a second id for the index sets.
func member(tenant, id string) string { return tenant + "|" + id }

// userMember is member with the user id in lower case, as the keys have it.
func userMember(tenant, user string) string { return member(tenant, strings.ToLower(user)) }

// splitMember undoes member.
func splitMember(m string) (string, string) {
	t, id, _ := strings.Cut(m, "|")
	return t, id
}

// lexMember is a stream id "ms-seq" padded so that index members sort by
// byte order as the ids sort by number.
func lexMember(ms, seq uint64) string { return fmt.Sprintf("%015d-%010d", ms, seq) }

// runMember is a run's index member: its creation time, then its id.
func runMember(createdMS int64, id string) string { return fmt.Sprintf("%015d:%s", createdMS, id) }

// appendScript adds entries to the change log, at most once per idempotency
// key, indexes them, and trims the log and the touched indexes.
//
// KEYS[1]   the change stream
// KEYS[2]   the stream's last-id key
// KEYS[3..] per entry, in order: its idempotency key (when it has one),
//
//	then its index keys
//
// ARGV[1]   MAXLEN (approximate)
// ARGV[2]   retention cutoff, unix ms (entries and index members older are trimmed)
// ARGV[3]   retention in seconds (TTL of idempotency keys and indexes)
// ARGV[4]   number of entries n
// ARGV[5..] per entry 4 values: time (unix ms), JSON body, "1" when it has
//
//	an idempotency key, number of index keys
//
// Returns the stream id given to each entry, "" for a duplicate.
var appendScript = redis.NewScript(`
local ttl = tonumber(ARGV[3])
local cutoff = tonumber(ARGV[2])
local n = tonumber(ARGV[4])
local lms, lseq = 0, -1
local last = redis.call('GET', KEYS[2])
if last then
  local d = string.find(last, '-', 1, true)
  lms = tonumber(string.sub(last, 1, d - 1))
  lseq = tonumber(string.sub(last, d + 1))
end
local k, a = 3, 5
local out, touched = {}, {}
for i = 1, n do
  local ms = tonumber(ARGV[a])
  local body = ARGV[a + 1]
  local hasKey = ARGV[a + 2] == '1'
  local nidx = tonumber(ARGV[a + 3])
  a = a + 4
  local fresh = true
  if hasKey then
    fresh = redis.call('SET', KEYS[k], '1', 'NX', 'EX', ttl)
    k = k + 1
  end
  if fresh then
    if ms > lms then lms = ms; lseq = 0 else lseq = lseq + 1 end
    local id = string.format('%d-%d', lms, lseq)
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], id, 'e', body)
    local m = string.format('%015d-%010d', lms, lseq)
    for j = 0, nidx - 1 do
      redis.call('ZADD', KEYS[k + j], 0, m)
      touched[KEYS[k + j]] = true
    end
    out[i] = id
  else
    out[i] = ''
  end
  k = k + nidx
end
redis.call('SET', KEYS[2], string.format('%d-%d', lms, lseq))
local floor = '(' .. string.format('%015d', cutoff)
for key in pairs(touched) do
  if #redis.call('ZRANGEBYLEX', key, '-', floor, 'LIMIT', 0, 1) > 0 then
    redis.call('ZREMRANGEBYLEX', key, '-', floor)
  end
  redis.call('EXPIRE', key, ttl)
end
redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d-0', cutoff))
return out
`)

// createRunScript stores a new run record and indexes it.
//
// KEYS[1] the run's hash; KEYS[2] the index of all runs; KEYS[3] the
// tenant's index
// ARGV[1] the run's index member; ARGV[2..] field, value pairs of the hash
// Returns 1 when stored, 0 when the run id exists.
var createRunScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'member', ARGV[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1
`)

// saveRunScript upserts a run record and moves its index member when its
// creation time changed.
//
// KEYS and ARGV as createRunScript. Returns 1.
var saveRunScript = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], 'member')
if old and old ~= ARGV[1] then
  redis.call('ZREM', KEYS[2], old)
  redis.call('ZREM', KEYS[3], old)
end
redis.call('HSET', KEYS[1], 'member', ARGV[1], unpack(ARGV, 2))
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
return 1
`)
