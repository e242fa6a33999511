package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The per-tenant run index lets a view of many tenants (the console's
// overview) read each tenant's newest run in one call, and one tenant's
// recent runs without walking every tenant's:
//
//	P runs:tenant:{tenant}  zset  the tenant's run ids scored by creation time (unix ms)
//	P runs:last             hash  tenant -> "<created ms, 13 digits> <JSON RunSummary>" of its newest run
//
// Both are written with the run record (SaveRun, createRun).

func (s *Store) tenantRunsKey(tenant string) string { return s.prefix + "runs:tenant:" + tenant }
func (s *Store) lastRunsKey() string                { return s.prefix + "runs:last" }

// RunSummary is a run record without its report's item lists: what a list
// of runs shows, small enough to read for every tenant at once.
type RunSummary struct {
	ID         string     `json:"id"`
	State      string     `json:"state"`
	Tenant     string     `json:"tenant"`
	SyncMode   string     `json:"sync_mode"`
	DryRun     bool       `json:"dry_run"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Error is the record's error (no report could be made).
	Error string `json:"error,omitempty"`
	// Report is false until the run produced a report; Success and
	// Statistics are the report's then.
	Report     bool       `json:"report"`
	Success    bool       `json:"success"`
	Statistics Statistics `json:"statistics"`
	DurationMS int64      `json:"duration_ms"`
}

// Summary is r without the report's item lists.
func (r RunRecord) Summary() RunSummary {
	s := RunSummary{ID: r.ID, State: r.State, Tenant: r.Inputs.Tenant, SyncMode: r.Inputs.SyncMode, DryRun: r.Inputs.DryRun,
		CreatedAt: r.CreatedAt, FinishedAt: r.FinishedAt, Error: r.Error}
	if r.Report != nil {
		s.Report, s.Success, s.Statistics, s.DurationMS = true, r.Report.Success, r.Report.Statistics, r.Report.DurationMS
	}
	return s
}

// setLastRun keeps the summary of a tenant's newest run: it replaces the
// stored one unless that one belongs to a run created later.
// KEYS[1] runs:last; ARGV[1] tenant; ARGV[2] "<created ms> <json>".
// Returns 1 when written, 0 when a newer run's summary was kept.
var setLastRun = redis.NewScript(`
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and string.sub(old, 1, 13) > string.sub(ARGV[2], 1, 13) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// indexRun queues on p the writes that index r by tenant.
func (s *Store) indexRun(ctx context.Context, p redis.Pipeliner, r RunRecord) error {
	t := r.Inputs.Tenant
	if t == "" {
		return nil
	}
	b, err := json.Marshal(r.Summary())
	if err != nil {
		return fmt.Errorf("encode run summary %s: %w", r.ID, err)
	}
	ms := r.CreatedAt.UnixMilli()
	p.ZAdd(ctx, s.tenantRunsKey(t), redis.Z{Score: float64(ms), Member: r.ID})
	setLastRun.Eval(ctx, p, []string{s.lastRunsKey()}, t, fmt.Sprintf("%013d %s", ms, b))
	return nil
}

// unindexRun drops a run that never got its task from its tenant's index.
func (s *Store) unindexRun(ctx context.Context, tenant, id string) {
	if tenant == "" {
		return
	}
	s.rdb.ZRem(ctx, s.tenantRunsKey(tenant), id)
	if last, ok, err := s.decodeLast(s.rdb.HGet(ctx, s.lastRunsKey(), tenant)); err == nil && ok && last.ID == id {
		s.rdb.HDel(ctx, s.lastRunsKey(), tenant)
	}
}

// LastRuns returns the summary of each tenant's newest run; a tenant
// without a run is absent from the map.
func (s *Store) LastRuns(ctx context.Context, tenants []string) (map[string]RunSummary, error) {
	out := make(map[string]RunSummary, len(tenants))
	if len(tenants) == 0 {
		return out, nil
	}
	vals, err := s.rdb.HMGet(ctx, s.lastRunsKey(), tenants...).Result()
	if err != nil {
		return nil, fmt.Errorf("read last runs: %w", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		sum, err := decodeSummary(str)
		if err != nil {
			return nil, fmt.Errorf("decode last run of tenant %s: %w", tenants[i], err)
		}
		out[tenants[i]] = sum
	}
	return out, nil
}

func (s *Store) decodeLast(cmd *redis.StringCmd) (RunSummary, bool, error) {
	str, err := cmd.Result()
	if errors.Is(err, redis.Nil) {
		return RunSummary{}, false, nil
	}
	if err != nil {
		return RunSummary{}, false, err
	}
	sum, err := decodeSummary(str)
	return sum, err == nil, err
}

func decodeSummary(v string) (RunSummary, error) {
	var sum RunSummary
	_, js, ok := strings.Cut(v, " ")
	if !ok {
		return sum, errors.New("no created time before the summary")
	}
	return sum, json.Unmarshal([]byte(js), &sum)
}

// TenantRuns lists the tenant's runs created at or after since, newest
// first, at most limit (default 100). Ids whose record expired are dropped
// from the index as they are met.
func (s *Store) TenantRuns(ctx context.Context, tenant string, since time.Time, limit int) ([]RunRecord, error) {
	if limit <= 0 {
		limit = 100
	}
	key := s.tenantRunsKey(tenant)
	ids, err := s.rdb.ZRevRangeByScore(ctx, key, &redis.ZRangeBy{
		Max: "+inf", Min: strconv.FormatInt(since.UnixMilli(), 10), Count: int64(limit),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("list runs of tenant %s: %w", tenant, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	// One GET per record in a pipeline (not MGET), so that a Redis Cluster
	// can answer keys of different slots.
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.Get(ctx, s.runKey(id))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read runs of tenant %s: %w", tenant, err)
	}
	out := make([]RunRecord, 0, len(ids))
	for i, cmd := range cmds {
		b, err := cmd.Bytes()
		if errors.Is(err, redis.Nil) {
			s.rdb.ZRem(ctx, key, ids[i])
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read run %s: %w", ids[i], err)
		}
		var r RunRecord
		if err := json.Unmarshal(b, &r); err != nil {
			return nil, fmt.Errorf("decode run %s: %w", ids[i], err)
		}
		out = append(out, r)
	}
	return out, nil
}
