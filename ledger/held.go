package ledger

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// States of a held contact and of a batch.
const (
	// HeldPending waits for an operator.
	HeldPending = "pending"
	// HeldApproved: the operator let the deactivation through.
	HeldApproved = "approved"
	// HeldRejected: the operator refused it; the contact is not held again
	// while its reason stays the same.
	HeldRejected = "rejected"
	// BatchDone: every contact of the batch was approved or rejected.
	BatchDone = "done"
)

// HeldContact is one deactivation the guard held back, and why.
type HeldContact struct {
	ContactID string `json:"psa_contact_id"`
	UserID    string `json:"office365_id"`
	UPN       string `json:"user_principal_name"`
	// Reason is why the contact would be deactivated (user disabled,
	// deleted, out of scope), in the worker's words.
	Reason string `json:"reason"`
	// Status is HeldPending, HeldApproved or HeldRejected.
	Status    string    `json:"status"`
	Actor     string    `json:"actor,omitempty"`
	DecidedAt time.Time `json:"decided_at,omitzero"`
}

// HeldBatch is the guard's vetoed deactivations of one company.
type HeldBatch struct {
	ID          string        `json:"id"`
	Tenant      string        `json:"tenant"`
	CompanyID   string        `json:"psa_company_id"`
	Contacts    []HeldContact `json:"contacts"`
	Created     time.Time     `json:"created"`
	Status      string        `json:"status"`
	Fingerprint string        `json:"fingerprint"`
}

// heldRecord is what one company's key stores: its last batch and the
// standing decisions by contact id.
type heldRecord struct {
	Batch     HeldBatch           `json:"batch"`
	Decisions map[string]decision `json:"decisions,omitempty"`
}

type decision struct {
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// fingerprint identifies a set of held contacts with their reasons.
func fingerprint(cs []HeldContact) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.ContactID + "\x00" + c.Reason
	}
	slices.Sort(parts)
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x01")))
	return hex.EncodeToString(sum[:12])
}

// Hold records the deactivations the guard held back for one company. Contacts
// an operator decided before (approved or rejected) whose reason is the same
// are dropped; decisions about contacts no longer held are forgotten (their
// set changed). Then: nothing left gives a zero batch and fresh false; the
// same set as the pending batch gives that batch and fresh false (no repeated
// warning); otherwise a new pending batch (new ID) replaces the old one and
// fresh is true.
func (l *Ledger) Hold(ctx context.Context, tenant, company string, contacts []HeldContact) (HeldBatch, bool, error) {
	var (
		out   HeldBatch
		fresh bool
	)
	key := l.keys.held(tenant, company)
	err := l.update(ctx, key, 0, func(old []byte) ([]byte, func(redis.Pipeliner), error) {
		rec, err := decodeJSON[heldRecord](old)
		if err != nil {
			return nil, nil, err
		}
		out, fresh = HeldBatch{}, false
		keep := map[string]decision{}
		var held []HeldContact
		seen := map[string]bool{}
		for _, c := range contacts {
			if seen[c.ContactID] {
				continue
			}
			seen[c.ContactID] = true
			if d, ok := rec.Decisions[c.ContactID]; ok && d.Reason == c.Reason {
				keep[c.ContactID] = d
				continue
			}
			c.Status, c.Actor, c.DecidedAt = HeldPending, "", time.Time{}
			held = append(held, c)
		}
		rec.Decisions = keep
		fp := fingerprint(held)
		switch {
		case len(held) == 0:
			if rec.Batch.Status == HeldPending {
				rec.Batch.Status = BatchDone // nothing waits any more
			}
		case rec.Batch.Status == HeldPending && fingerprint(pendingOf(rec.Batch.Contacts)) == fp:
			out = rec.Batch
		default:
			rec.Batch = HeldBatch{ID: newID(), Tenant: tenant, CompanyID: company, Contacts: held,
				Created: l.now(), Status: HeldPending, Fingerprint: fp}
			out, fresh = rec.Batch, true
		}
		b, err := json.Marshal(rec)
		return b, func(p redis.Pipeliner) {
			p.SAdd(ctx, l.keys.helds(), member(tenant, company))
			if fresh {
				p.Set(ctx, l.keys.heldID(out.ID), member(tenant, company), l.opt.Retention)
			}
		}, err
	})
	if err != nil {
		return HeldBatch{}, false, fmt.Errorf("hold deactivations of company %s: %w", company, err)
	}
	return out, fresh, nil
}

// pendingOf is the contacts still waiting for a decision.
func pendingOf(cs []HeldContact) []HeldContact {
	var out []HeldContact
	for _, c := range cs {
		if c.Status == HeldPending {
			out = append(out, c)
		}
	}
	return out
}

// heldKeyOf finds the company key of a batch id; ErrNotFound when unknown.
func (l *Ledger) heldKeyOf(ctx context.Context, id string) (string, error) {
	m, err := l.rdb.Get(ctx, l.keys.heldID(id)).Result()
	if errors.Is(err, redis.Nil) {
		return "", fmt.Errorf("held batch %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read held batch %s: %w", id, err)
	}
	return l.keys.held(splitMember(m)), nil
}

// HeldBatch returns a batch by id: the company's current batch when the id
// is still current; false when the id is unknown or was replaced.
func (l *Ledger) HeldBatch(ctx context.Context, id string) (HeldBatch, bool, error) {
	key, err := l.heldKeyOf(ctx, id)
	if errors.Is(err, ErrNotFound) {
		return HeldBatch{}, false, nil
	}
	if err != nil {
		return HeldBatch{}, false, err
	}
	var rec heldRecord
	ok, err := l.getJSON(ctx, key, &rec)
	if err != nil || !ok || rec.Batch.ID != id {
		return HeldBatch{}, false, err
	}
	return rec.Batch, true, nil
}

// HeldBatches lists the pending batches of a tenant ("" = every tenant).
func (l *Ledger) HeldBatches(ctx context.Context, tenant string) ([]HeldBatch, error) {
	recs, err := listIndexed(ctx, l, l.keys.helds(), tenant, l.keys.held,
		func(r heldRecord) bool { return r.Batch.Status == HeldPending })
	if err != nil {
		return nil, fmt.Errorf("list held batches: %w", err)
	}
	out := make([]HeldBatch, len(recs))
	for i, r := range recs {
		out[i] = r.Batch
	}
	slices.SortFunc(out, func(a, b HeldBatch) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// HeldState is what a company's held deactivations stand at, read at
// once: its pending batch (zero ID when none waits) and the operator's
// standing decisions, by contact id with the reason decided.
type HeldState struct {
	Pending            HeldBatch
	Approved, Rejected map[string]string
}

// HeldState reads a company's held deactivations: the guard keeps a
// pending batch's contacts held and rejected ones active.
func (l *Ledger) HeldState(ctx context.Context, tenant, company string) (HeldState, error) {
	var rec heldRecord
	if _, err := l.getJSON(ctx, l.keys.held(tenant, company), &rec); err != nil {
		return HeldState{}, fmt.Errorf("read held batch of company %s: %w", company, err)
	}
	st := HeldState{Approved: map[string]string{}, Rejected: map[string]string{}}
	if rec.Batch.Status == HeldPending {
		st.Pending = rec.Batch
	}
	for id, d := range rec.Decisions {
		switch d.Status {
		case HeldApproved:
			st.Approved[id] = d.Reason
		case HeldRejected:
			st.Rejected[id] = d.Reason
		}
	}
	return st, nil
}

// ApproveHeld approves contacts of a pending batch (none named = every
// pending one) and returns those newly approved, for the caller to apply.
// ErrNotFound for an unknown id, ErrStale when the id is not the company's
// pending batch, ErrNotInBatch for a contact the batch does not hold,
// ErrNotOpen for a contact rejected already. Approving twice is a no-op.
func (l *Ledger) ApproveHeld(ctx context.Context, id string, contactIDs []string, actor string) (HeldBatch, []HeldContact, error) {
	return l.decideHeld(ctx, id, contactIDs, actor, HeldApproved)
}

// RejectHeld rejects contacts of a pending batch (none named = every pending
// one); Hold drops them while their reason stays the same. Errors as
// ApproveHeld.
func (l *Ledger) RejectHeld(ctx context.Context, id string, contactIDs []string, actor string) (HeldBatch, error) {
	b, _, err := l.decideHeld(ctx, id, contactIDs, actor, HeldRejected)
	return b, err
}

func (l *Ledger) decideHeld(ctx context.Context, id string, contactIDs []string, actor, status string) (HeldBatch, []HeldContact, error) {
	key, err := l.heldKeyOf(ctx, id)
	if err != nil {
		return HeldBatch{}, nil, err
	}
	var (
		out     HeldBatch
		decided []HeldContact
	)
	err = l.update(ctx, key, 0, func(old []byte) ([]byte, func(redis.Pipeliner), error) {
		rec, err := decodeJSON[heldRecord](old)
		if err != nil {
			return nil, nil, err
		}
		b := &rec.Batch
		if b.ID != id || b.Status != HeldPending {
			return nil, nil, fmt.Errorf("held batch %s is no longer pending: %w", id, ErrStale)
		}
		decided = nil
		pick, err := pickHeld(b.Contacts, contactIDs, status)
		if err != nil {
			return nil, nil, fmt.Errorf("held batch %s: %w", id, err)
		}
		if rec.Decisions == nil {
			rec.Decisions = map[string]decision{}
		}
		now := l.now()
		for _, i := range pick {
			c := &b.Contacts[i]
			c.Status, c.Actor, c.DecidedAt = status, actor, now
			rec.Decisions[c.ContactID] = decision{Status: status, Reason: c.Reason}
			decided = append(decided, *c)
		}
		if !slices.ContainsFunc(b.Contacts, func(c HeldContact) bool { return c.Status == HeldPending }) {
			b.Status = BatchDone
		}
		out = *b
		v, err := json.Marshal(rec)
		return v, nil, err
	})
	if err != nil {
		return HeldBatch{}, nil, err
	}
	return out, decided, nil
}

// pickHeld returns the indexes of the contacts to decide: the named ones
// (skipping those decided the same way already), or every pending one.
func pickHeld(cs []HeldContact, ids []string, status string) ([]int, error) {
	var out []int
	if len(ids) == 0 {
		for _, c := range pendingOf(cs) {
			ids = append(ids, c.ContactID)
		}
	}
	for _, id := range ids {
		i := slices.IndexFunc(cs, func(c HeldContact) bool { return c.ContactID == id })
		switch {
		case i < 0:
			return nil, fmt.Errorf("contact %s: %w", id, ErrNotInBatch)
		case cs[i].Status == status || slices.Contains(out, i):
		case cs[i].Status != HeldPending:
			return nil, fmt.Errorf("contact %s is %s already: %w", id, cs[i].Status, ErrNotOpen)
		default:
			out = append(out, i)
		}
	}
	return out, nil
}
