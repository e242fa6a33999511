package ledger

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

// Run is one run's history record: the fields runs are filtered by, and the
// worker's full record (with its report), which the ledger keeps as given.
type Run struct {
	ID, Tenant, Mode string
	DryRun           bool
	// State is the worker's run state (queued, running, succeeded, failed).
	State      string
	CreatedAt  time.Time
	FinishedAt time.Time
	// Record is the worker's run record, returned verbatim by Run and Runs.
	Record json.RawMessage
}

// Bounds of RunQuery.Limit.
const (
	// DefaultRunsLimit is the page size when RunQuery.Limit is 0.
	DefaultRunsLimit = 20
	// MaxRunsLimit caps RunQuery.Limit.
	MaxRunsLimit = 100
)

// RunQuery selects runs; empty fields match everything, Since and Until
// bound the creation time (inclusive), Cursor is the next-cursor of the
// previous page.
type RunQuery struct {
	Tenant, Mode, State string
	Since, Until        time.Time
	Limit               int
	Cursor              string
}

func (r Run) hashArgs() ([]any, error) {
	if r.ID == "" {
		return nil, errors.New("run without id")
	}
	if r.Tenant == "" {
		return nil, fmt.Errorf("run %s without tenant", r.ID)
	}
	rec := r.Record
	if len(rec) == 0 {
		rec = json.RawMessage("null")
	}
	fin := ""
	if !r.FinishedAt.IsZero() {
		fin = r.FinishedAt.UTC().Format(time.RFC3339Nano)
	}
	return []any{runMember(r.CreatedAt.UnixMilli(), r.ID),
		"tenant", r.Tenant, "mode", r.Mode, "state", r.State, "dry_run", strconv.FormatBool(r.DryRun),
		"created", r.CreatedAt.UTC().Format(time.RFC3339Nano), "finished", fin, "record", []byte(rec)}, nil
}

// CreateRun stores a new run; false when a run with its id exists (a
// replica started it first).
func (l *Ledger) CreateRun(ctx context.Context, r Run) (bool, error) {
	args, err := r.hashArgs()
	if err != nil {
		return false, err
	}
	n, err := createRunScript.Run(ctx, l.rdb, l.runKeys(r), args...).Int()
	if err != nil {
		return false, fmt.Errorf("create run %s: %w", r.ID, err)
	}
	if n == 0 {
		return false, nil
	}
	return true, l.trimRuns(ctx, r.Tenant)
}

// SaveRun stores a run, new or not, and keeps the newest RunsPerTenant runs
// of its tenant (older records and their index entries are removed).
func (l *Ledger) SaveRun(ctx context.Context, r Run) error {
	args, err := r.hashArgs()
	if err != nil {
		return err
	}
	if err := saveRunScript.Run(ctx, l.rdb, l.runKeys(r), args...).Err(); err != nil {
		return fmt.Errorf("save run %s: %w", r.ID, err)
	}
	return l.trimRuns(ctx, r.Tenant)
}

func (l *Ledger) runKeys(r Run) []string {
	return []string{l.keys.run(r.ID), l.keys.runs(), l.keys.tenantRuns(r.Tenant)}
}

// trimRuns removes a tenant's runs beyond RunsPerTenant, oldest first.
func (l *Ledger) trimRuns(ctx context.Context, tenant string) error {
	key := l.keys.tenantRuns(tenant)
	n, err := l.rdb.ZCard(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("count runs of tenant %s: %w", tenant, err)
	}
	extra := n - int64(l.opt.RunsPerTenant)
	if extra <= 0 {
		return nil
	}
	old, err := l.rdb.ZRange(ctx, key, 0, extra-1).Result()
	if err != nil {
		return fmt.Errorf("list old runs of tenant %s: %w", tenant, err)
	}
	_, err = l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range old {
			_, id, _ := parseRunMember(m)
			p.Del(ctx, l.keys.run(id))
			p.ZRem(ctx, key, m)
			p.ZRem(ctx, l.keys.runs(), m)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove old runs of tenant %s: %w", tenant, err)
	}
	return nil
}

// DeleteRun removes a run and its index entries; deleting a missing run is
// not an error.
func (l *Ledger) DeleteRun(ctx context.Context, id string) error {
	vals, err := l.rdb.HMGet(ctx, l.keys.run(id), "member", "tenant").Result()
	if err != nil {
		return fmt.Errorf("read run %s: %w", id, err)
	}
	m, _ := vals[0].(string)
	t, _ := vals[1].(string)
	_, err = l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, l.keys.run(id))
		if m != "" {
			p.ZRem(ctx, l.keys.runs(), m)
			p.ZRem(ctx, l.keys.tenantRuns(t), m)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete run %s: %w", id, err)
	}
	return nil
}

// Run returns a run's record as stored; false when there is none.
func (l *Ledger) Run(ctx context.Context, id string) (json.RawMessage, bool, error) {
	b, err := l.rdb.HGet(ctx, l.keys.run(id), "record").Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read run %s: %w", id, err)
	}
	return b, true, nil
}

// Runs returns the records of the runs that match q, newest first, and the
// cursor of the next page ("" on the last).
func (l *Ledger) Runs(ctx context.Context, q RunQuery) ([]json.RawMessage, string, error) {
	if q.Limit <= 0 {
		q.Limit = DefaultRunsLimit
	}
	q.Limit = min(q.Limit, MaxRunsLimit)
	key := l.keys.runs()
	if q.Tenant != "" {
		key = l.keys.tenantRuns(q.Tenant)
	}
	hi := "+"
	if !q.Until.IsZero() {
		hi = "(" + fmt.Sprintf("%015d", q.Until.UnixMilli()+1)
	}
	if q.Cursor != "" {
		if _, _, err := parseRunMember(q.Cursor); err != nil {
			return nil, "", fmt.Errorf("cursor: %w", err)
		}
		if c := "(" + q.Cursor; hi == "+" || c < hi {
			hi = c
		}
	}
	lo := "-"
	if !q.Since.IsZero() {
		lo = "[" + fmt.Sprintf("%015d", q.Since.UnixMilli())
	}
	var (
		out     []json.RawMessage
		members []string
	)
	chunk := int64(max(q.Limit+1, 50))
	for len(out) <= q.Limit {
		ms, err := l.rdb.ZRevRangeByLex(ctx, key, &redis.ZRangeBy{Max: hi, Min: lo, Count: chunk}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("list runs: %w", err)
		}
		cmds, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, m := range ms {
				_, id, _ := parseRunMember(m)
				p.HMGet(ctx, l.keys.run(id), "mode", "state", "record")
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, "", fmt.Errorf("read runs: %w", err)
		}
		for i, c := range cmds {
			v, _ := c.(*redis.SliceCmd).Result()
			mode, _ := v[0].(string)
			state, _ := v[1].(string)
			rec, ok := v[2].(string)
			if !ok || (q.Mode != "" && mode != q.Mode) || (q.State != "" && state != q.State) {
				continue
			}
			out = append(out, json.RawMessage(rec))
			members = append(members, ms[i])
			if len(out) > q.Limit {
				break
			}
		}
		if int64(len(ms)) < chunk {
			break
		}
		hi = "(" + ms[len(ms)-1]
	}
	if len(out) > q.Limit {
		return out[:q.Limit], members[q.Limit-1], nil
	}
	if out == nil {
		out = []json.RawMessage{}
	}
	return out, "", nil
}

// parseRunMember splits a run index member (also the runs cursor) into its
// creation time and id.
func parseRunMember(m string) (int64, string, error) {
	a, id, ok := strings.Cut(m, ":")
	ms, err := strconv.ParseInt(a, 10, 64)
	if !ok || err != nil || len(a) != 15 || id == "" {
		return 0, "", fmt.Errorf("%q is not a runs cursor", m)
	}
	return ms, id, nil
}

// LastRuns returns the record of each tenant's newest run in two round
// trips, whatever the number of tenants, for views of every tenant at once
// (the console's overview). A tenant without a run is absent.
func (l *Ledger) LastRuns(ctx context.Context, tenants []string) (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(tenants))
	if len(tenants) == 0 {
		return out, nil
	}
	newest := make([]*redis.StringSliceCmd, len(tenants))
	_, err := l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, t := range tenants {
			newest[i] = p.ZRevRangeByLex(ctx, l.keys.tenantRuns(t), &redis.ZRangeBy{Max: "+", Min: "-", Count: 1})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the newest runs: %w", err)
	}
	type pick struct {
		tenant string
		rec    *redis.StringCmd
	}
	var picks []pick
	_, err = l.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range newest {
			ms := c.Val()
			if len(ms) == 0 {
				continue
			}
			_, id, _ := parseRunMember(ms[0])
			picks = append(picks, pick{tenants[i], p.HGet(ctx, l.keys.run(id), "record")})
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("read the newest runs: %w", err)
	}
	for _, p := range picks {
		if b, err := p.rec.Bytes(); err == nil {
			out[p.tenant] = b
		}
	}
	return out, nil
}
