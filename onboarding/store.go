package onboarding

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Store keeps discovery's proposals, the operator's decisions and the
// accepted mappings in Redis. Every key shares the hash tag {onboarding},
// so the accept script's keys sit in one Cluster slot:
//
//	P{onboarding}:proposals  hash  tenant id → JSON Proposal of the last discovery (proposed, needs_review)
//	P{onboarding}:accepted   hash  tenant id → JSON Proposal with status accepted (the live mappings)
//	P{onboarding}:companies  hash  company id → tenant id of its accepted mapping
//	P{onboarding}:rejected   hash  tenant id → JSON Proposal with status rejected
//
// Tenant ids are stored lower-case.
type Store struct {
	rdb       redis.UniversalClient
	proposals string
	accepted  string
	companies string
	rejected  string
}

// NewStore returns the store under the key prefix.
func NewStore(rdb redis.UniversalClient, prefix string) *Store {
	k := prefix + "{onboarding}:"
	return &Store{rdb: rdb, proposals: k + "proposals", accepted: k + "accepted", companies: k + "companies", rejected: k + "rejected"}
}

// acceptScript records an accepted mapping unless the tenant is accepted
// already or the company belongs to another tenant.
//
//	KEYS[1] accepted hash, KEYS[2] companies hash, KEYS[3] rejected hash, KEYS[4] proposals hash
//	ARGV[1] tenant id, ARGV[2] company id, ARGV[3] JSON Proposal
//	returns {0, ""} done; {1, ""} tenant already accepted; {2, owner} company taken
var acceptScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return {1, ''} end
local owner = redis.call('HGET', KEYS[2], ARGV[2])
if owner and owner ~= ARGV[1] then return {2, owner} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
return {0, ''}
`)

// SaveAccepted stores p (status accepted) as the tenant's live mapping.
// Its errors wrap ErrAlreadyAccepted or ErrCompanyTaken, and then nothing
// is written.
func (s *Store) SaveAccepted(ctx context.Context, p Proposal) error {
	tid := strings.ToLower(p.TenantID)
	if p.Company == nil {
		return fmt.Errorf("onboarding: accept %s: no company", tid)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("onboarding: accept %s: %w", tid, err)
	}
	res, err := acceptScript.Run(ctx, s.rdb, []string{s.accepted, s.companies, s.rejected, s.proposals}, tid, p.Company.CompanyID, b).Slice()
	if err != nil {
		return fmt.Errorf("onboarding: accept %s: %w", tid, err)
	}
	code, _ := res[0].(int64)
	switch code {
	case 0:
		return nil
	case 1:
		return fmt.Errorf("tenant %s is %w", tid, ErrAlreadyAccepted)
	default:
		owner, _ := res[1].(string)
		return fmt.Errorf("company %s is %w (%s)", p.Company.CompanyID, ErrCompanyTaken, owner)
	}
}

// UpdateAccepted rewrites an accepted mapping in place (consent re-checks,
// write-back); it does nothing when the tenant is not accepted.
func (s *Store) UpdateAccepted(ctx context.Context, p Proposal) error {
	tid := strings.ToLower(p.TenantID)
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return updateIfPresent.Run(ctx, s.rdb, []string{s.accepted}, tid, b).Err()
}

// updateIfPresent sets a hash field only when it exists.
//
//	KEYS[1] hash; ARGV[1] field, ARGV[2] value; returns 1 when set, else 0
var updateIfPresent = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// SaveRejected records the operator's rejection; discovery keeps it.
func (s *Store) SaveRejected(ctx context.Context, p Proposal) error {
	tid := strings.ToLower(p.TenantID)
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.HSet(ctx, s.rejected, tid, b)
		pipe.HDel(ctx, s.proposals, tid)
		return nil
	})
	return err
}

// ReplaceProposals stores the open proposals of one discovery, dropping
// the previous discovery's.
func (s *Store) ReplaceProposals(ctx context.Context, ps []Proposal) error {
	_, err := s.rdb.TxPipelined(ctx, func(pipe redis.Pipeliner) error {
		pipe.Del(ctx, s.proposals)
		if len(ps) == 0 {
			return nil
		}
		vals := make([]any, 0, 2*len(ps))
		for _, p := range ps {
			b, err := json.Marshal(p)
			if err != nil {
				return err
			}
			vals = append(vals, strings.ToLower(p.TenantID), b)
		}
		pipe.HSet(ctx, s.proposals, vals...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("onboarding: store proposals: %w", err)
	}
	return nil
}

// Accepted returns the tenant's accepted mapping; ok is false when there
// is none.
func (s *Store) Accepted(ctx context.Context, tenantID string) (Proposal, bool, error) {
	return s.get(ctx, s.accepted, tenantID)
}

// Get returns what the store knows of a tenant: its accepted mapping, its
// rejection, or its open proposal, in that order.
func (s *Store) Get(ctx context.Context, tenantID string) (Proposal, bool, error) {
	for _, key := range []string{s.accepted, s.rejected, s.proposals} {
		p, ok, err := s.get(ctx, key, tenantID)
		if err != nil || ok {
			return p, ok, err
		}
	}
	return Proposal{}, false, nil
}

func (s *Store) get(ctx context.Context, key, tenantID string) (Proposal, bool, error) {
	b, err := s.rdb.HGet(ctx, key, strings.ToLower(tenantID)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Proposal{}, false, nil
	}
	if err != nil {
		return Proposal{}, false, fmt.Errorf("onboarding: read %s: %w", tenantID, err)
	}
	var p Proposal
	if err := json.Unmarshal(b, &p); err != nil {
		return Proposal{}, false, fmt.Errorf("onboarding: decode %s: %w", tenantID, err)
	}
	return p, true, nil
}

// AcceptedAll returns every accepted mapping, by tenant id.
func (s *Store) AcceptedAll(ctx context.Context) ([]Proposal, error) {
	return s.all(ctx, s.accepted)
}

// CompanyOwners maps each accepted company id to its tenant.
func (s *Store) CompanyOwners(ctx context.Context) (Taken, error) {
	m, err := s.rdb.HGetAll(ctx, s.companies).Result()
	if err != nil {
		return nil, fmt.Errorf("onboarding: read company owners: %w", err)
	}
	return Taken(m), nil
}

// List returns the tenants with the status ("" for all), by tenant id.
func (s *Store) List(ctx context.Context, status Status) ([]Proposal, error) {
	var keys []string
	switch status {
	case StatusAccepted:
		keys = []string{s.accepted}
	case StatusRejected:
		keys = []string{s.rejected}
	case StatusProposed, StatusNeedsReview:
		keys = []string{s.proposals}
	default:
		keys = []string{s.accepted, s.rejected, s.proposals}
	}
	var out []Proposal
	for _, k := range keys {
		ps, err := s.all(ctx, k)
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			if status == "" || p.Status == status {
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b Proposal) int { return strings.Compare(a.TenantID, b.TenantID) })
	return out, nil
}

// Rejected returns the rejected tenants by lower-case tenant id.
func (s *Store) Rejected(ctx context.Context) (map[string]Proposal, error) {
	ps, err := s.all(ctx, s.rejected)
	if err != nil {
		return nil, err
	}
	out := make(map[string]Proposal, len(ps))
	for _, p := range ps {
		out[strings.ToLower(p.TenantID)] = p
	}
	return out, nil
}

func (s *Store) all(ctx context.Context, key string) ([]Proposal, error) {
	m, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, fmt.Errorf("onboarding: read %s: %w", key, err)
	}
	out := make([]Proposal, 0, len(m))
	for tid, b := range m {
		var p Proposal
		if err := json.Unmarshal([]byte(b), &p); err != nil {
			return nil, fmt.Errorf("onboarding: decode %s: %w", tid, err)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Proposal) int { return strings.Compare(a.TenantID, b.TenantID) })
	return out, nil
}
