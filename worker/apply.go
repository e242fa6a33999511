package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// outcome is what applying one plan did.
type outcome struct {
	plan    *userPlan
	written psa.Contact
	err     *ErrorItem
	cause   error // the failed call's error, with its retry delay
}

// apply carries out one plan: the single place psasync writes to a PSA.
// Plans come from fresh reads (a per-user job asks the PSA by email while
// planning, so a job re-run after a crash adopts the contact its first
// attempt made). verify asks again right before the create; apply uses it
// when the PSA refused a create as a duplicate, i.e. someone made the
// contact after the plan's read.
func (e *Engine) apply(ctx context.Context, w *waiter, tenant string, p *userPlan, dryRun, verify bool) outcome {
	out := outcome{plan: p}
	log := e.log.WithFields(logrus.Fields{"tenant": tenant, "user": p.user.ID})
	if dryRun || (p.kind != actCreate && p.kind != actUpdate) {
		out.written = p.contact
		return out
	}
	switch p.kind {
	case actCreate:
		if verify {
			live := liveSource{e: e, w: w}
			cs, err := live.byEmail(ctx, p.contact.CompanyID, p.contact.Email)
			if err != nil {
				out.err, out.cause = e.errorItem(p, errorCode(err, CodeContactCreationFailed), err), err
				return out
			}
			if len(cs) > 0 {
				// Someone (a previous attempt, or a person) created it meanwhile:
				// plan again as an update of that contact.
				p2 := &planner{e: e, in: RunInputs{UpdateExisting: p.updateExisting}}
				if len(cs) > 1 {
					out.cause = fmt.Errorf("%d contacts in company %s have email %s", len(cs), p.contact.CompanyID, p.contact.Email)
					out.err = &ErrorItem{UserPrincipalName: p.upn, Code: CodeDuplicateContact, Message: out.cause.Error(), Timestamp: e.cfg.Now().UTC()}
					return out
				}
				*p = *p2.planUpdate(&userPlan{user: p.user, upn: p.upn, warnings: p.warnings, updateExisting: p.updateExisting}, cs[0], p.contact, &Link{ContactID: cs[0].ID, CompanyID: cs[0].CompanyID})
				if p.kind == actSkip {
					out.written = cs[0]
					e.storeLink(ctx, tenant, p)
					return out
				}
				return e.apply(ctx, w, tenant, p, false, false)
			}
		}
		var created psa.Contact
		err := w.do(ctx, func() error {
			var err error
			created, err = e.psa.CreateContact(ctx, p.contact)
			return err
		})
		if errors.Is(err, psa.ErrDuplicate) && !verify {
			// The PSA has the contact already (made since the run read the
			// company): adopt it instead of reporting a duplicate.
			return e.apply(ctx, w, tenant, p, false, true)
		}
		if err != nil {
			code := errorCode(err, CodeContactCreationFailed)
			out.cause = fmt.Errorf("create contact for %s in company %s: %w", p.upn, p.contact.CompanyID, err)
			out.err = e.errorItem(p, code, out.cause)
			log.WithError(err).WithField("code", code).Warn("create failed")
			return out
		}
		out.written = created
		p.link = &Link{ContactID: created.ID, CompanyID: created.CompanyID}
		if p.link.CompanyID == "" {
			p.link.CompanyID = p.contact.CompanyID
		}
	case actUpdate:
		var updated psa.Contact
		err := w.do(ctx, func() error {
			var err error
			updated, err = e.psa.UpdateContact(ctx, p.contact, p.fields)
			return err
		})
		if err != nil {
			code := errorCode(err, CodeContactUpdateFailed)
			out.cause = fmt.Errorf("update contact %s (%v) for %s: %w", p.contact.ID, p.fields, p.upn, err)
			out.err = e.errorItem(p, code, out.cause)
			log.WithError(err).WithField("code", code).Warn("update failed")
			return out
		}
		if updated.ID == "" {
			updated = p.contact
		}
		out.written = updated
	}
	e.storeLink(ctx, tenant, p)
	return out
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

func (e *Engine) errorItem(p *userPlan, code string, err error) *ErrorItem {
	return &ErrorItem{UserPrincipalName: p.upn, Code: code, Message: err.Error(), Timestamp: e.cfg.Now().UTC(), PSAError: psaErrorText(err)}
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
