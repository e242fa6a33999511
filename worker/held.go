package worker

import (
	"context"
	"fmt"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa"
)

// Held deactivations: the guard (guard.go) keeps the deactivations it
// vetoed as one pending batch per company. An operator approves all or some
// of a batch, and ApproveHeld deactivates those contacts at once, each write
// in the change log under the operator's name; or rejects them, and the
// guard does not propose them again until their reason changes.

// HeldResult is what approving a batch did.
type HeldResult struct {
	Batch ledger.HeldBatch `json:"batch"`
	// Deactivated are the contacts the approval deactivated.
	Deactivated []ContactResult `json:"deactivated"`
	// Skipped are the approved contacts that needed no write (already
	// inactive, or gone from the PSA), with why.
	Skipped []SkipItem `json:"skipped"`
	// Errors are the deactivations the PSA refused.
	Errors []ErrorItem `json:"errors"`
}

// heldApplyWithin bounds how long an approval's deactivations may take once
// the caller has gone away.
const heldApplyWithin = 30 * time.Minute

// ApproveHeld approves contacts of a pending batch (none named = all) and
// deactivates them under the tenant's lock, so no run writes the tenant
// meanwhile. A batch that a later run replaced is stale (ledger.ErrStale).
func (e *Engine) ApproveHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (HeldResult, error) {
	b, ok, err := e.ledger.HeldBatch(ctx, batchID)
	if err != nil {
		return HeldResult{}, err
	}
	if !ok {
		return HeldResult{}, fmt.Errorf("held batch %s: %w", batchID, ledger.ErrNotFound)
	}
	ctx = psa.WithTenant(ctx, b.Tenant)
	lock, err := e.store.lockTenant(ctx, b.Tenant, time.Minute)
	if err != nil {
		return HeldResult{}, fmt.Errorf("tenant %s: %w", b.Tenant, err)
	}
	defer lock.Release()
	b, approved, err := e.ledger.ApproveHeld(ctx, batchID, contactIDs, actor)
	if err != nil {
		return HeldResult{}, err
	}
	e.log.WithFields(logrus.Fields{"tenant": b.Tenant, "batch": batchID, "contacts": len(approved), "actor": actor}).Info("held deactivations approved")
	// The approval is on the record now: apply it in full even when the
	// caller goes away (a console tab closed, an API client's timeout), so
	// that the PSA does not stop half way through an operator's decision.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), heldApplyWithin)
	defer cancel()
	res := HeldResult{Batch: b, Deactivated: []ContactResult{}, Skipped: []SkipItem{}, Errors: []ErrorItem{}}
	w := e.newWaiter(jobWaits(), e.log.WithField("tenant", b.Tenant), nil)
	for _, hc := range approved {
		current, found, err := liveSource{e: e, w: w}.byID(ctx, b.CompanyID, hc.ContactID)
		switch {
		case err != nil:
			res.Errors = append(res.Errors, ErrorItem{UserPrincipalName: hc.UPN, Code: errorCode(err, CodePSAConnectionError), Message: err.Error(), Timestamp: e.cfg.Now().UTC(), PSAError: psaErrorText(err)})
			continue
		case !found:
			res.Skipped = append(res.Skipped, SkipItem{UserPrincipalName: hc.UPN, Reason: "contact " + hc.ContactID + " no longer exists in the PSA"})
			continue
		case current.Inactive:
			res.Skipped = append(res.Skipped, SkipItem{UserPrincipalName: hc.UPN, Reason: "already inactive"})
			continue
		}
		next := current
		next.Inactive = true
		p := &userPlan{user: directory.User{ID: hc.UserID}, upn: hc.UPN, kind: actUpdate, contact: next,
			fields: []psa.Field{psa.FieldInactive}, action: ActionDeactivated, reason: hc.Reason, deactivation: true}
		p.changes = fieldChanges(current, next, p.fields)
		out := e.write(ctx, w, b.Tenant, p, false, changeLog{trigger: OperatorTrigger(actor)})
		if out.err != nil {
			res.Errors = append(res.Errors, *out.err)
			continue
		}
		res.Deactivated = append(res.Deactivated, contactResult(p.user, p.upn, out.written, p.fields, p.action, p.changes))
	}
	return res, nil
}

// RejectHeld rejects contacts of a pending batch (none named = all): they
// stay active, and the guard does not hold them again while their reason
// stands.
func (e *Engine) RejectHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (ledger.HeldBatch, error) {
	b, err := e.ledger.RejectHeld(ctx, batchID, contactIDs, actor)
	if err == nil {
		e.log.WithFields(logrus.Fields{"tenant": b.Tenant, "batch": batchID, "actor": actor}).Info("held deactivations rejected")
	}
	return b, err
}
