package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store keeps the worker's state in Redis. Redis is a cache here: losing it
// costs time (matching falls back to the PSA), never a duplicate.
//
// Keys (prefix P, default "psasync:"):
//
//	P link:{tenant}              hash   user id -> JSON link {contact_id, company_id}
//	P delta:{tenant}             string the tenant's Graph delta link
//	P run:{run id}               string JSON RunRecord, expires after RunTTL
//	P runs                       zset   run ids scored by start time (unix ms)
//	P outcome:{tenant}:{user}    string JSON of the user's last job outcome
//	P lock:user:{tenant}:{user}  string per-user lock token (SET NX PX)
//	P lock:tenant:{tenant}       string per-tenant run lock token, renewed while a run runs
type Store struct {
	rdb    redis.UniversalClient
	prefix string
	// RunTTL is how long run reports are kept.
	RunTTL time.Duration
}

// NewStore wraps a Redis client; prefix "" means "psasync:".
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	if prefix == "" {
		prefix = "psasync:"
	}
	return &Store{rdb: rdb, prefix: prefix, RunTTL: 30 * 24 * time.Hour}
}

// Link is the stored association of a Microsoft 365 user with a PSA contact.
type Link struct {
	ContactID string `json:"contact_id"`
	CompanyID string `json:"company_id"`
}

func (s *Store) linkKey(tenant string) string { return s.prefix + "link:" + tenant }

// Links returns every stored link of a tenant, by user id.
func (s *Store) Links(ctx context.Context, tenant string) (map[string]Link, error) {
	raw, err := s.rdb.HGetAll(ctx, s.linkKey(tenant)).Result()
	if err != nil {
		return nil, fmt.Errorf("read links of tenant %s: %w", tenant, err)
	}
	out := make(map[string]Link, len(raw))
	for user, v := range raw {
		var l Link
		if err := json.Unmarshal([]byte(v), &l); err != nil {
			continue // a corrupt cache entry only costs a lookup in the PSA
		}
		out[user] = l
	}
	return out, nil
}

// GetLink returns the stored link of one user.
func (s *Store) GetLink(ctx context.Context, tenant, user string) (Link, bool, error) {
	v, err := s.rdb.HGet(ctx, s.linkKey(tenant), user).Result()
	if errors.Is(err, redis.Nil) {
		return Link{}, false, nil
	}
	if err != nil {
		return Link{}, false, fmt.Errorf("read link of user %s: %w", user, err)
	}
	var l Link
	if err := json.Unmarshal([]byte(v), &l); err != nil {
		return Link{}, false, nil
	}
	return l, true, nil
}

// SetLink stores the link of one user.
func (s *Store) SetLink(ctx context.Context, tenant, user string, l Link) error {
	b, _ := json.Marshal(l)
	if err := s.rdb.HSet(ctx, s.linkKey(tenant), user, b).Err(); err != nil {
		return fmt.Errorf("store link of user %s: %w", user, err)
	}
	return nil
}

// DeltaLink returns the tenant's stored delta link ("" when none).
func (s *Store) DeltaLink(ctx context.Context, tenant string) (string, error) {
	v, err := s.rdb.Get(ctx, s.prefix+"delta:"+tenant).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read delta link of tenant %s: %w", tenant, err)
	}
	return v, nil
}

// SetDeltaLink stores the tenant's delta link ("" deletes it).
func (s *Store) SetDeltaLink(ctx context.Context, tenant, link string) error {
	key := s.prefix + "delta:" + tenant
	var err error
	if link == "" {
		err = s.rdb.Del(ctx, key).Err()
	} else {
		err = s.rdb.Set(ctx, key, link, 0).Err()
	}
	if err != nil {
		return fmt.Errorf("store delta link of tenant %s: %w", tenant, err)
	}
	return nil
}

// Run states.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// RunRecord is what the runs API shows: the run's state and, once done, its
// report.
type RunRecord struct {
	ID         string     `json:"id"`
	State      string     `json:"state"`
	Inputs     RunInputs  `json:"inputs"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Error is set when the run could not produce a report at all.
	Error  string  `json:"error,omitempty"`
	Report *Report `json:"report,omitempty"`
}

// SaveRun writes a run record and indexes it.
func (s *Store) SaveRun(ctx context.Context, r RunRecord) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, s.prefix+"run:"+r.ID, b, s.RunTTL)
		p.ZAdd(ctx, s.prefix+"runs", redis.Z{Score: float64(r.CreatedAt.UnixMilli()), Member: r.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("store run %s: %w", r.ID, err)
	}
	return nil
}

// createRun stores a new run record; false when the id exists already.
func (s *Store) createRun(ctx context.Context, r RunRecord) (bool, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return false, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	ok, err := s.rdb.SetNX(ctx, s.prefix+"run:"+r.ID, b, s.RunTTL).Result()
	if err != nil {
		return false, fmt.Errorf("store run %s: %w", r.ID, err)
	}
	if !ok {
		return false, nil
	}
	if err := s.rdb.ZAdd(ctx, s.prefix+"runs", redis.Z{Score: float64(r.CreatedAt.UnixMilli()), Member: r.ID}).Err(); err != nil {
		return false, fmt.Errorf("index run %s: %w", r.ID, err)
	}
	return true, nil
}

// deleteRun removes a run record that never got its task.
func (s *Store) deleteRun(ctx context.Context, id string) {
	s.rdb.Del(ctx, s.prefix+"run:"+id)
	s.rdb.ZRem(ctx, s.prefix+"runs", id)
}

// Run reads one run record.
func (s *Store) Run(ctx context.Context, id string) (RunRecord, bool, error) {
	b, err := s.rdb.Get(ctx, s.prefix+"run:"+id).Bytes()
	if errors.Is(err, redis.Nil) {
		return RunRecord{}, false, nil
	}
	if err != nil {
		return RunRecord{}, false, fmt.Errorf("read run %s: %w", id, err)
	}
	var r RunRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return RunRecord{}, false, fmt.Errorf("decode run %s: %w", id, err)
	}
	return r, true, nil
}

// Runs lists the newest runs first, at most limit of them.
func (s *Store) Runs(ctx context.Context, limit int) ([]RunRecord, error) {
	if limit <= 0 {
		limit = 20
	}
	ids, err := s.rdb.ZRevRange(ctx, s.prefix+"runs", 0, int64(limit-1)).Result()
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	out := make([]RunRecord, 0, len(ids))
	for _, id := range ids {
		r, ok, err := s.Run(ctx, id)
		if err != nil {
			return nil, err
		}
		if !ok { // expired: drop it from the index
			s.rdb.ZRem(ctx, s.prefix+"runs", id)
			continue
		}
		out = append(out, r)
	}
	return out, nil
}
