package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/ledger"
)

// Quarantine: a user whose job fails permanently QuarantineThreshold times
// in a row gets no more writes tried until an operator releases it or the
// user changes in Microsoft 365 (its data no longer matches the fingerprint
// taken at quarantine). A tenant whose runs keep failing on consent or
// permission is quarantined too: its runs wait for the ledger's NextRetry
// (an hour, then a day) and its user jobs are skipped, so a tenant that
// withdrew consent stops costing Graph and PSA calls.

// ErrTenantQuarantined is returned for a run of a quarantined tenant
// before its next retry.
var ErrTenantQuarantined = errors.New("tenant is quarantined")

// fingerprint identifies the user's data: a change in Microsoft 365
// changes it.
func fingerprint(u directory.User) string {
	b, _ := json.Marshal(u)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// jobSync is SyncUser as a per-user job runs it: skipped while the user or
// its tenant is quarantined, and counting permanent failures.
func (e *Engine) jobSync(ctx context.Context, tenantID, userID string, o userSync) (UserOutcome, error) {
	log := e.log.WithFields(logrus.Fields{"tenant": tenantID, "user": userID})
	if tq, ok, err := e.ledger.TenantQuarantine(ctx, tenantID); err != nil {
		log.WithError(err).Warn("could not read the tenant's quarantine")
	} else if ok {
		return UserOutcome{TenantID: tenantID, UserID: userID, At: e.cfg.Now().UTC(), Action: OutcomeSkipped,
			Reason: fmt.Sprintf("tenant quarantined (%s); next retry %s", tq.Code, tq.NextRetry.Format("2006-01-02 15:04 MST"))}, nil
	}
	if q, ok, err := e.ledger.UserQuarantine(ctx, tenantID, userID); err != nil {
		log.WithError(err).Warn("could not read the user's quarantine")
	} else if ok {
		o.quarantine = &q
	}
	out, u, err := e.syncUser(ctx, tenantID, userID, o)
	var perm *PermanentError
	switch {
	case errors.As(err, &perm) && u.ID != "":
		q, quarantined, qerr := e.ledger.RecordFailure(ctx, tenantID, userID, out.UserPrincipalName, out.Code, out.Message, fingerprint(u), e.cfg.QuarantineThreshold)
		if qerr != nil {
			log.WithError(qerr).Warn("could not count the permanent failure")
		} else if quarantined && q.Failures == e.cfg.QuarantineThreshold {
			log.WithField("code", out.Code).Warnf("user quarantined after %d permanent failures in a row", q.Failures)
		}
	case err == nil && out.Reason != skipQuarantined:
		if serr := e.ledger.RecordSuccess(ctx, tenantID, userID); serr != nil {
			log.WithError(serr).Warn("could not reset the failure count")
		}
	}
	return out, err
}

// skipQuarantined is the skip reason of a quarantined user that has not
// changed.
const skipQuarantined = "quarantined: waiting for an operator or a change in Microsoft 365 (psasync quarantine list)"

// stillQuarantined reports whether a quarantined user is unchanged; a user
// whose data changed is released, and synced.
func (e *Engine) stillQuarantined(ctx context.Context, q *ledger.Quarantine, u directory.User) bool {
	if q == nil {
		return false
	}
	if fingerprint(u) == q.Fingerprint {
		return true
	}
	if _, err := e.ledger.ReleaseUser(ctx, q.Tenant, q.UserID, "changed in Microsoft 365"); err != nil {
		e.log.WithError(err).WithField("user", q.UserID).Warn("could not release a user that changed")
	}
	return false
}

// ReleaseUser ends a user's quarantine: its next notification syncs it.
// false when the user was not quarantined (releasing twice is a no-op).
func (e *Engine) ReleaseUser(ctx context.Context, tenant, user, actor string) (bool, error) {
	if _, err := e.tenants.Tenant(ctx, tenant); err != nil {
		return false, fmt.Errorf("tenant %s: %w", tenant, err)
	}
	ok, err := e.ledger.ReleaseUser(ctx, tenant, user, actor)
	if ok {
		e.log.WithFields(logrus.Fields{"tenant": tenant, "user": user, "actor": actor}).Info("user released from quarantine")
	}
	return ok, err
}

// ReleaseTenant ends a tenant's quarantine: its runs and jobs start again.
func (e *Engine) ReleaseTenant(ctx context.Context, tenant, actor string) (bool, error) {
	if _, err := e.tenants.Tenant(ctx, tenant); err != nil {
		return false, fmt.Errorf("tenant %s: %w", tenant, err)
	}
	ok, err := e.ledger.ReleaseTenant(ctx, tenant, actor)
	if ok {
		e.log.WithFields(logrus.Fields{"tenant": tenant, "actor": actor}).Info("tenant released from quarantine")
	}
	return ok, err
}

// runQuarantine refuses a run of a quarantined tenant before its next
// retry.
func (e *Engine) runQuarantine(ctx context.Context, tenant string) error {
	q, ok, err := e.ledger.TenantQuarantine(ctx, tenant)
	if err != nil {
		e.log.WithError(err).WithField("tenant", tenant).Warn("could not read the tenant's quarantine")
		return nil
	}
	if ok && e.cfg.Now().Before(q.NextRetry) {
		return fmt.Errorf("%w after %d failed runs (%s: %s); next retry %s, or release it with psasync quarantine release --tenant %s",
			ErrTenantQuarantined, q.Failures, q.Code, q.Message, q.NextRetry.UTC().Format("2006-01-02 15:04 MST"), tenant)
	}
	return nil
}

// noteRunResult counts a run that failed on consent or permission towards
// the tenant's quarantine, and releases the tenant after a run that went
// through.
func (e *Engine) noteRunResult(ctx context.Context, tenant string, rep *Report) {
	log := e.log.WithField("tenant", tenant)
	for _, it := range rep.Errors {
		if it.UserPrincipalName == "" && it.Code == CodePermissionDenied {
			q, quarantined, err := e.ledger.RecordTenantFailure(ctx, tenant, it.Code, it.Message, e.cfg.QuarantineThreshold)
			if err != nil {
				log.WithError(err).Warn("could not count the failed run")
			} else if quarantined {
				log.WithField("next_retry", q.NextRetry).Warn("tenant quarantined: its runs keep failing on consent or permission")
			}
			return
		}
	}
	if rep.Success {
		if err := e.ledger.RecordSuccess(ctx, tenant, ""); err != nil {
			log.WithError(err).Warn("could not reset the tenant's failure count")
		}
	}
}
