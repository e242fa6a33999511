package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// applyResult is what carrying out one plan did.
type applyResult struct {
	plan    *userPlan
	written psa.Contact
	err     *ErrorItem
	cause   error // the failed call's error, with its retry delay
	// refusedAsDuplicate: the PSA refused a create because the contact
	// exists (made after the plan's read).
	refusedAsDuplicate bool
}

// slim drops what the report does not need of a written plan, so that a
// first sync holds a few fields per contact until its report is done (a
// dry run's creates keep their contact: the report shows its values).
func (res *applyResult) slim(dryRun bool) {
	w := res.written
	res.written = psa.Contact{ID: w.ID, CompanyID: w.CompanyID, FirstName: w.FirstName, LastName: w.LastName}
	if p := res.plan; !dryRun && p.kind == actCreate {
		p.contact = psa.Contact{ID: p.contact.ID, CompanyID: p.contact.CompanyID}
	}
}

// write carries out a plan: the one place psasync writes to a PSA. Plans
// come from fresh reads, so a job re-run after a crash adopts the contact
// its first attempt made. When the PSA refuses a create as a duplicate,
// write reads the company by email once and carries out what follows from
// that (an update of the contact found, or nothing); it never loops.
//
// Every write, and every failed attempt, goes to the change log cl, with
// what made psasync write.
func (e *Engine) write(ctx context.Context, w *waiter, tenant string, p *userPlan, dryRun bool, cl changeLog) applyResult {
	if dryRun || (p.kind != actCreate && p.kind != actUpdate) {
		return applyResult{plan: p, written: p.contact}
	}
	res := e.apply(ctx, w, tenant, p)
	if res.refusedAsDuplicate {
		res = e.adopt(ctx, w, tenant, p)
	}
	if res.err == nil {
		e.storeLink(ctx, tenant, res.plan)
	}
	if res.plan.kind == actCreate || res.plan.kind == actUpdate {
		e.logWrite(ctx, tenant, res, cl)
	}
	return res
}

// adopt handles a create the PSA refused as a duplicate: it finds the
// contact that now has the user's email and applies the update plan for it.
// When the lookup finds nothing, the create is tried once more.
func (e *Engine) adopt(ctx context.Context, w *waiter, tenant string, p *userPlan) applyResult {
	cs, err := liveSource{e: e, w: w}.byEmail(ctx, p.contact.CompanyID, p.contact.Email)
	if err != nil {
		return e.failed(p, errorCode(err, CodeContactCreationFailed), err)
	}
	switch len(cs) {
	case 0:
		res := e.apply(ctx, w, tenant, p)
		if res.refusedAsDuplicate {
			return e.failed(p, CodeDuplicateContact, res.cause)
		}
		return res
	case 1:
	default:
		return e.failed(p, CodeDuplicateContact, fmt.Errorf("%d contacts in company %s have email %s", len(cs), p.contact.CompanyID, p.contact.Email))
	}
	pl := &planner{e: e, in: RunInputs{UpdateExisting: p.updateExisting}}
	next := pl.planUpdate(&userPlan{user: p.user, upn: p.upn, warnings: p.warnings, updateExisting: p.updateExisting},
		cs[0], p.contact, &Link{ContactID: cs[0].ID, CompanyID: cs[0].CompanyID})
	if next.kind != actUpdate {
		return applyResult{plan: next, written: cs[0]}
	}
	return e.apply(ctx, w, tenant, next)
}

// apply makes the one PSA call a create or update plan needs.
func (e *Engine) apply(ctx context.Context, w *waiter, tenant string, p *userPlan) applyResult {
	log := e.log.WithFields(logrus.Fields{"tenant": tenant, "user": p.user.ID})
	if p.kind == actCreate {
		created, err := doValue(ctx, w, func() (psa.Contact, error) { return e.psa.CreateContact(ctx, p.contact) })
		if errors.Is(err, psa.ErrDuplicate) {
			return applyResult{plan: p, refusedAsDuplicate: true, cause: err}
		}
		if err != nil {
			code := errorCode(err, CodeContactCreationFailed)
			log.WithError(err).WithField("code", code).Warn("create failed")
			return e.failed(p, code, fmt.Errorf("create contact for %s in company %s: %w", p.upn, p.contact.CompanyID, err))
		}
		p.link = &Link{ContactID: created.ID, CompanyID: created.CompanyID}
		if p.link.CompanyID == "" {
			p.link.CompanyID = p.contact.CompanyID
		}
		return applyResult{plan: p, written: created}
	}
	updated, err := doValue(ctx, w, func() (psa.Contact, error) { return e.psa.UpdateContact(ctx, p.contact, p.fields) })
	if err != nil {
		code := errorCode(err, CodeContactUpdateFailed)
		log.WithError(err).WithField("code", code).Warn("update failed")
		return e.failed(p, code, fmt.Errorf("update contact %s (%v) for %s: %w", p.contact.ID, p.fields, p.upn, err))
	}
	if updated.ID == "" {
		updated = p.contact
	}
	return applyResult{plan: p, written: updated}
}

// failed is the result of a write that failed with code.
func (e *Engine) failed(p *userPlan, code string, err error) applyResult {
	return applyResult{plan: p, cause: err,
		err: &ErrorItem{UserPrincipalName: p.upn, Code: code, Message: err.Error(), Timestamp: e.cfg.Now().UTC(), PSAError: psaErrorText(err)}}
}

// storeLink caches the user-contact link; a failure only costs a lookup later.
func (e *Engine) storeLink(ctx context.Context, tenant string, p *userPlan) {
	if p.link == nil || p.user.ID == "" {
		return
	}
	if err := e.store.SetLink(ctx, tenant, p.user.ID, *p.link); err != nil {
		e.log.WithError(err).WithFields(logrus.Fields{"tenant": tenant, "user": p.user.ID}).Warn("could not cache contact link")
	}
}

// permanent reports whether a failed job should not be retried: the input
// or the PSA's content rules are wrong, and trying again changes nothing.
func permanent(code string, err error) bool {
	switch code {
	case CodeUserDataIncomplete, CodeInvalidFieldMapping, CodeDuplicateContact, CodeMissingCompanyID:
		return true
	}
	return err != nil && errors.Is(err, psa.ErrInvalid)
}
