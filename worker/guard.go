package worker

import (
	"context"
	"fmt"

	"github.com/psasync/psasync/ledger"
)

// guard is step 4 of a run: it vetoes a company's deactivations when they
// exceed the configured share of its linked contacts, so a scope mistake
// cannot deactivate a company's contacts wholesale. The contacts it holds
// back wait in the ledger as one batch per company for an operator to
// approve or reject (held.go); the warning is given once per batch, not on
// every run while it waits.
func (r *run) guard(ctx context.Context, src contactSource, links map[string]Link, plans []*userPlan) {
	cfg := r.e.cfg
	planned := map[string][]*userPlan{}
	for _, p := range plans {
		if p.kind == actUpdate && p.deactivation {
			planned[p.contact.CompanyID] = append(planned[p.contact.CompanyID], p)
		}
	}
	for company, ps := range planned {
		var held []*userPlan
		var waiting ledger.HeldBatch
		if !r.in.DryRun {
			var ok bool
			if ps, held, waiting, ok = r.decided(ctx, company, ps); !ok {
				continue
			}
		}
		linked := linkedContacts(src, links, company)
		allowed := max(int(cfg.DeactivationGuard*float64(linked)), cfg.DeactivationGuardMin)
		if len(ps) <= allowed {
			skipAll(held, "deactivation held for approval (batch "+waiting.ID+")")
			continue
		}
		msg := fmt.Sprintf("run would deactivate %d of %d linked contacts in company %s (more than %.0f%%); deactivated none", len(ps)+len(held), linked, company, cfg.DeactivationGuard*100)
		if r.in.DryRun {
			r.warn(WarnDeactivationGuard, msg+". Check the tenant's scope settings; a real run holds them for an operator to approve")
			skipAll(ps, "deactivation guard")
			continue
		}
		r.hold(ctx, company, append(held, ps...), msg)
	}
}

// decided applies what an operator decided about a company's
// deactivations (one ledger read): rejected ones (for the same reason)
// stay active, and those of the pending batch stay held whatever the guard
// says now, as a batch waits for a person, not for the company's share to
// change. It returns the deactivations left to the guard, those still
// held, and the pending batch; ok is false when the ledger could not be
// read, and then every deactivation of the company is held back.
func (r *run) decided(ctx context.Context, company string, ps []*userPlan) (rest, held []*userPlan, waiting ledger.HeldBatch, ok bool) {
	st, err := r.e.ledger.HeldState(ctx, r.t.ID, company)
	if err != nil {
		r.log.WithError(err).Warn("could not read the held deactivations; holding every deactivation of the company")
		skipAll(ps, "deactivation guard")
		return nil, nil, ledger.HeldBatch{}, false
	}
	pending := map[string]string{}
	for _, c := range st.Pending.Contacts {
		if c.Status == ledger.HeldPending {
			pending[c.ContactID] = c.Reason
		}
	}
	for _, p := range ps {
		if reason, ok := st.Rejected[p.contact.ID]; ok && reason == p.reason {
			p.kind, p.reason = actSkip, "deactivation rejected by an operator"
			continue
		}
		if reason, ok := pending[p.contact.ID]; ok && reason == p.reason {
			held = append(held, p)
			continue
		}
		rest = append(rest, p)
	}
	return rest, held, st.Pending, true
}

// hold keeps a company's vetoed deactivations as a pending batch.
func (r *run) hold(ctx context.Context, company string, ps []*userPlan, msg string) {
	held := make([]ledger.HeldContact, 0, len(ps))
	for _, p := range ps {
		held = append(held, ledger.HeldContact{ContactID: p.contact.ID, UserID: p.user.ID, UPN: p.upn, Reason: p.reason})
	}
	b, fresh, err := r.e.ledger.Hold(ctx, r.t.ID, company, held)
	if err != nil {
		r.warn(WarnDeactivationGuard, msg+". They could not be held for approval ("+err.Error()+"); check the tenant's scope settings, then run again with a higher deactivation guard if this is intended")
		skipAll(ps, "deactivation guard")
		return
	}
	if fresh {
		r.warn(WarnDeactivationGuard, fmt.Sprintf("%s. They are held for approval as batch %s: psasync held list --tenant %s, then psasync held approve %s (or reject)", msg, b.ID, r.t.ID, b.ID))
	}
	pending := map[string]bool{}
	for _, c := range b.Contacts {
		if c.Status == ledger.HeldPending {
			pending[c.ContactID] = true
		}
	}
	for _, p := range ps {
		if pending[p.contact.ID] {
			p.kind, p.reason = actSkip, "deactivation held for approval (batch "+b.ID+")"
		} else {
			p.kind, p.reason = actSkip, "deactivation rejected by an operator"
		}
	}
}

func skipAll(ps []*userPlan, reason string) {
	for _, p := range ps {
		p.kind, p.reason = actSkip, reason
	}
}

// linkedContacts counts a company's active contacts linked to a user: from
// the contacts the run read, else from the stored links.
func linkedContacts(src contactSource, links map[string]Link, company string) int {
	n := 0
	if idx, ok := src.(*bulkIndex); ok && idx.companies[company] != nil {
		for _, c := range idx.companies[company].all {
			if c.ExternalID != "" && !c.Inactive {
				n++
			}
		}
		return n
	}
	for _, l := range links {
		if l.CompanyID == company {
			n++
		}
	}
	return n
}
