package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Conflict states.
const (
	// ConflictOpen waits for an operator.
	ConflictOpen = "open"
	// ConflictResolved: an operator linked the user to one candidate; the
	// engine honours it and never reports the conflict again.
	ConflictResolved = "resolved"
	// ConflictIgnored: an operator chose to leave the user unsynced.
	ConflictIgnored = "ignored"
	// ConflictClosed: the conflict went away by itself (a duplicate was
	// deleted in the PSA).
	ConflictClosed = "closed"
)

// Candidate is one PSA contact the user could be, with the fields an
// operator compares side by side.
type Candidate struct {
	ContactID    string `json:"psa_contact_id"`
	CompanyID    string `json:"psa_company_id"`
	FirstName    string `json:"first_name"`
	LastName     string `json:"last_name"`
	Email        string `json:"email"`
	Phone        string `json:"phone"`
	Title        string `json:"job_title"`
	LinkedUserID string `json:"linked_office365_id,omitempty"`
	Inactive     bool   `json:"inactive"`
}

// Conflict is a user that several contacts could be (DuplicateContact).
type Conflict struct {
	Tenant     string      `json:"tenant"`
	UserID     string      `json:"office365_id"`
	UPN        string      `json:"user_principal_name"`
	Email      string      `json:"email"`
	CompanyID  string      `json:"psa_company_id"`
	Code       string      `json:"code"`
	Message    string      `json:"message"`
	Candidates []Candidate `json:"candidates"`
	FirstSeen  time.Time   `json:"first_seen"`
	LastSeen   time.Time   `json:"last_seen"`
	Status     string      `json:"status"`
	// ResolvedContactID is the candidate an operator linked the user to.
	ResolvedContactID string `json:"resolved_contact_id,omitempty"`
	// Actor is the operator who resolved or ignored it.
	Actor      string    `json:"actor,omitempty"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
}

// OpenConflict records that the engine met the conflict c: a new one opens
// (FirstSeen now); an open one gets LastSeen and its candidates refreshed; a
// closed one opens again. A resolved or ignored conflict is returned as it
// stands, so the engine honours the operator's decision.
func (l *Ledger) OpenConflict(ctx context.Context, c Conflict) (Conflict, error) {
	if c.Tenant == "" || c.UserID == "" {
		return Conflict{}, fmt.Errorf("open conflict: tenant and user id are required")
	}
	now := l.now()
	var out Conflict
	key := l.keys.conflict(c.Tenant, c.UserID)
	err := l.update(ctx, key, 0, func(old []byte) ([]byte, func(redis.Pipeliner), error) {
		cur, err := decodeConflict(old)
		if err != nil {
			return nil, nil, err
		}
		switch {
		case cur != nil && (cur.Status == ConflictResolved || cur.Status == ConflictIgnored):
			out = *cur
			return old, nil, nil
		case cur != nil && cur.Status == ConflictOpen:
			c.FirstSeen = cur.FirstSeen
		default:
			c.FirstSeen = now
		}
		c.LastSeen, c.Status = now, ConflictOpen
		c.ResolvedContactID, c.Actor, c.ResolvedAt = "", "", time.Time{}
		out = c
		b, err := json.Marshal(c)
		return b, func(p redis.Pipeliner) {
			p.SAdd(ctx, l.keys.conflicts(), userMember(c.Tenant, c.UserID))
		}, err
	})
	if err != nil {
		return Conflict{}, fmt.Errorf("open conflict of user %s: %w", c.UserID, err)
	}
	return out, nil
}

// decodeConflict decodes a stored conflict; nil when absent.
func decodeConflict(b []byte) (*Conflict, error) {
	if b == nil {
		return nil, nil
	}
	c, err := decodeJSON[Conflict](b)
	return &c, err
}

// Conflict returns the tenant's conflict of a user, named by object id or
// UPN (case-insensitive); false when there is none.
func (l *Ledger) Conflict(ctx context.Context, tenant, user string) (Conflict, bool, error) {
	var c Conflict
	ok, err := l.getJSON(ctx, l.keys.conflict(tenant, user), &c)
	if err != nil || ok {
		return c, ok, err
	}
	all, err := l.Conflicts(ctx, tenant, "all")
	if err != nil {
		return Conflict{}, false, err
	}
	for _, c := range all {
		if strings.EqualFold(c.UPN, user) {
			return c, true, nil
		}
	}
	return Conflict{}, false, nil
}

// CloseConflict closes an open conflict that went away by itself; false
// (and no change) when there is no open conflict for the user.
func (l *Ledger) CloseConflict(ctx context.Context, tenant, user string) (bool, error) {
	closed := false
	err := l.update(ctx, l.keys.conflict(tenant, user), 0, func(old []byte) ([]byte, func(redis.Pipeliner), error) {
		cur, err := decodeConflict(old)
		if err != nil || cur == nil || cur.Status != ConflictOpen {
			return old, nil, err
		}
		cur.Status, cur.LastSeen, closed = ConflictClosed, l.now(), true
		b, err := json.Marshal(cur)
		return b, nil, err
	})
	if err != nil {
		return false, fmt.Errorf("close conflict of user %s: %w", user, err)
	}
	return closed, nil
}

// ResolveConflict links the user to one of the open conflict's candidates.
// ErrNotFound when there is no conflict, ErrNotOpen when it was resolved,
// ignored or closed already (resolving again with the same contact returns
// it unchanged), ErrNotCandidate when contactID is not a candidate.
func (l *Ledger) ResolveConflict(ctx context.Context, tenant, user, contactID, actor string) (Conflict, error) {
	return l.decideConflict(ctx, tenant, user, actor, func(c *Conflict) error {
		if c.Status == ConflictResolved && c.ResolvedContactID == contactID {
			return errUnchanged
		}
		if c.Status != ConflictOpen {
			return fmt.Errorf("conflict of user %s is %s: %w", user, c.Status, ErrNotOpen)
		}
		if !slices.ContainsFunc(c.Candidates, func(k Candidate) bool { return k.ContactID == contactID }) {
			return fmt.Errorf("contact %s is not a candidate of user %s: %w", contactID, user, ErrNotCandidate)
		}
		c.Status, c.ResolvedContactID = ConflictResolved, contactID
		return nil
	})
}

// IgnoreConflict marks an open conflict as ignored: the user stays unsynced
// and is not reported again. Errors as ResolveConflict.
func (l *Ledger) IgnoreConflict(ctx context.Context, tenant, user, actor string) (Conflict, error) {
	return l.decideConflict(ctx, tenant, user, actor, func(c *Conflict) error {
		if c.Status == ConflictIgnored {
			return errUnchanged
		}
		if c.Status != ConflictOpen {
			return fmt.Errorf("conflict of user %s is %s: %w", user, c.Status, ErrNotOpen)
		}
		c.Status = ConflictIgnored
		return nil
	})
}

// errUnchanged makes a repeated operator action a no-op that succeeds.
var errUnchanged = errors.New("unchanged")

func (l *Ledger) decideConflict(ctx context.Context, tenant, user, actor string, decide func(*Conflict) error) (Conflict, error) {
	found, ok, err := l.Conflict(ctx, tenant, user) // resolves a UPN to the stored id
	if err != nil {
		return Conflict{}, err
	}
	if !ok {
		return Conflict{}, fmt.Errorf("no conflict for user %s in tenant %s: %w", user, tenant, ErrNotFound)
	}
	var out Conflict
	err = l.update(ctx, l.keys.conflict(tenant, found.UserID), 0, func(old []byte) ([]byte, func(redis.Pipeliner), error) {
		cur, err := decodeConflict(old)
		if err != nil {
			return nil, nil, err
		}
		if cur == nil {
			return nil, nil, fmt.Errorf("no conflict for user %s in tenant %s: %w", user, tenant, ErrNotFound)
		}
		if err := decide(cur); err != nil {
			out = *cur
			return nil, nil, err
		}
		cur.Actor, cur.ResolvedAt = actor, l.now()
		out = *cur
		b, err := json.Marshal(cur)
		return b, nil, err
	})
	if errors.Is(err, errUnchanged) {
		return out, nil
	}
	if err != nil {
		return Conflict{}, err
	}
	return out, nil
}

// Conflicts lists conflicts by tenant ("" = every tenant) and status (""
// = open, "all" = every status), oldest first seen first. An unknown
// status is a *ParamError naming "status".
func (l *Ledger) Conflicts(ctx context.Context, tenant, status string) ([]Conflict, error) {
	switch status {
	case "":
		status = ConflictOpen
	case ConflictOpen, ConflictResolved, ConflictIgnored, ConflictClosed, "all":
	default:
		return nil, &ParamError{"status", fmt.Sprintf("%q is not one of open, resolved, ignored, closed, all", status)}
	}
	out, err := listIndexed(ctx, l, l.keys.conflicts(), tenant, l.keys.conflict, func(c Conflict) bool {
		return status == "all" || c.Status == status
	})
	if err != nil {
		return nil, fmt.Errorf("list conflicts: %w", err)
	}
	slices.SortFunc(out, func(a, b Conflict) int {
		if c := a.FirstSeen.Compare(b.FirstSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Tenant+a.UserID, b.Tenant+b.UserID)
	})
	return out, nil
}
