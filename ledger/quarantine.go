package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Quarantine timing and defaults.
const (
	// DefaultQuarantineThreshold is the consecutive failures that
	// quarantine when the caller passes a threshold of 0.
	DefaultQuarantineThreshold = 3
	// TenantFirstRetry is how long a newly quarantined tenant waits.
	TenantFirstRetry = time.Hour
	// TenantLaterRetry is the wait after each later failure.
	TenantLaterRetry = 24 * time.Hour
)

// Quarantine is a user (or, with UserID "", a whole tenant) whose syncs fail
// permanently, and its consecutive failure count.
type Quarantine struct {
	Tenant string `json:"tenant"`
	// UserID is the user's object id; "" means the tenant itself.
	UserID   string    `json:"office365_id,omitempty"`
	UPN      string    `json:"user_principal_name,omitempty"`
	Code     string    `json:"code"`
	Message  string    `json:"message"`
	Failures int       `json:"failures"`
	Since    time.Time `json:"since,omitzero"`
	// NextRetry is when a quarantined tenant's work runs again.
	NextRetry time.Time `json:"next_retry,omitzero"`
	// Fingerprint is the user's data when it was quarantined: a user that
	// changed in Microsoft 365 is released by the worker.
	Fingerprint string `json:"fingerprint,omitempty"`
}

type quarantineRecord struct {
	Quarantine
	Active bool `json:"active"`
}

// RecordFailure counts a user's permanent failure; the user is quarantined
// once the consecutive count reaches threshold (0 = the default 3). It
// returns the record and whether the user is quarantined now.
func (l *Ledger) RecordFailure(ctx context.Context, tenant, user, upn, code, message, fingerprint string, threshold int) (Quarantine, bool, error) {
	if user == "" {
		return Quarantine{}, false, fmt.Errorf("record failure: user id is required")
	}
	return l.recordFailure(ctx, tenant, user, threshold, func(r *quarantineRecord, fresh bool) {
		r.UPN, r.Fingerprint = upn, fingerprint
		r.Code, r.Message = code, message
	})
}

// RecordTenantFailure counts a tenant's failing run (consent, permission);
// at threshold the tenant is quarantined with NextRetry an hour later, and
// each later failure moves NextRetry a day ahead.
func (l *Ledger) RecordTenantFailure(ctx context.Context, tenant, code, message string, threshold int) (Quarantine, bool, error) {
	return l.recordFailure(ctx, tenant, "", threshold, func(r *quarantineRecord, fresh bool) {
		r.Code, r.Message = code, message
		if !r.Active {
			return
		}
		if fresh {
			r.NextRetry = r.Since.Add(TenantFirstRetry)
		} else {
			r.NextRetry = l.now().Add(TenantLaterRetry)
		}
	})
}

func (l *Ledger) recordFailure(ctx context.Context, tenant, user string, threshold int,
	set func(r *quarantineRecord, fresh bool)) (Quarantine, bool, error) {
	if threshold <= 0 {
		threshold = DefaultQuarantineThreshold
	}
	var out quarantineRecord
	key := l.keys.quarantine(tenant, user)
	err := l.update(ctx, key, 0, func(old []byte) ([]byte, func(redis.Pipeliner), error) {
		r, err := decodeJSON[quarantineRecord](old)
		if err != nil {
			return nil, nil, err
		}
		r.Tenant, r.UserID = tenant, user
		r.Failures++
		fresh := false
		if !r.Active && r.Failures >= threshold {
			r.Active, r.Since, fresh = true, l.now(), true
		}
		set(&r, fresh)
		out = r
		b, err := json.Marshal(r)
		return b, func(p redis.Pipeliner) {
			if r.Active {
				p.SAdd(ctx, l.keys.quarantined(), userMember(tenant, user))
			} else {
				p.Expire(ctx, key, l.opt.Retention) // a count alone fades
			}
		}, err
	})
	if err != nil {
		return Quarantine{}, false, fmt.Errorf("record failure of %s: %w", subject(tenant, user), err)
	}
	return out.Quarantine, out.Active, nil
}

func subject(tenant, user string) string {
	if user == "" {
		return "tenant " + tenant
	}
	return "user " + user + " of tenant " + tenant
}

// RecordSuccess resets the failure count of a user (user "" = the tenant)
// and releases it from quarantine.
func (l *Ledger) RecordSuccess(ctx context.Context, tenant, user string) error {
	_, err := l.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, l.keys.quarantine(tenant, user))
		p.SRem(ctx, l.keys.quarantined(), userMember(tenant, user))
		return nil
	})
	if err != nil {
		return fmt.Errorf("record success of %s: %w", subject(tenant, user), err)
	}
	return nil
}

// UserQuarantine returns a user's quarantine; false when the user is not
// quarantined (a failure count below the threshold is not a quarantine).
func (l *Ledger) UserQuarantine(ctx context.Context, tenant, user string) (Quarantine, bool, error) {
	var r quarantineRecord
	ok, err := l.getJSON(ctx, l.keys.quarantine(tenant, user), &r)
	if err != nil {
		return Quarantine{}, false, fmt.Errorf("read quarantine of %s: %w", subject(tenant, user), err)
	}
	if !ok || !r.Active {
		return Quarantine{}, false, nil
	}
	return r.Quarantine, true, nil
}

// TenantQuarantine returns a tenant's quarantine; false when it has none.
func (l *Ledger) TenantQuarantine(ctx context.Context, tenant string) (Quarantine, bool, error) {
	return l.UserQuarantine(ctx, tenant, "")
}

// ReleaseUser ends a user's quarantine and resets its count; false when the
// user was not quarantined (releasing twice is a no-op). actor is who
// released it, for the caller's log.
func (l *Ledger) ReleaseUser(ctx context.Context, tenant, user, actor string) (bool, error) {
	_, ok, err := l.UserQuarantine(ctx, tenant, user)
	if err != nil || !ok {
		return false, err
	}
	if err := l.RecordSuccess(ctx, tenant, user); err != nil {
		return false, fmt.Errorf("release by %s: %w", actor, err)
	}
	return true, nil
}

// ReleaseTenant ends a tenant's quarantine; as ReleaseUser.
func (l *Ledger) ReleaseTenant(ctx context.Context, tenant, actor string) (bool, error) {
	return l.ReleaseUser(ctx, tenant, "", actor)
}

// Quarantined lists the quarantined users and tenants of a tenant ("" =
// every tenant), tenants first, then by Since.
func (l *Ledger) Quarantined(ctx context.Context, tenant string) ([]Quarantine, error) {
	recs, err := listIndexed(ctx, l, l.keys.quarantined(), tenant, l.keys.quarantine,
		func(r quarantineRecord) bool { return r.Active })
	if err != nil {
		return nil, fmt.Errorf("list quarantine: %w", err)
	}
	out := make([]Quarantine, len(recs))
	for i, r := range recs {
		out[i] = r.Quarantine
	}
	slices.SortFunc(out, func(a, b Quarantine) int {
		if (a.UserID == "") != (b.UserID == "") {
			if a.UserID == "" {
				return -1
			}
			return 1
		}
		if c := a.Since.Compare(b.Since); c != 0 {
			return c
		}
		return strings.Compare(a.Tenant+a.UserID, b.Tenant+b.UserID)
	})
	return out, nil
}
