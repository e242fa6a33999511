package worker

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/ledger"
)

// Conflicts: a DuplicateContact with candidate contacts (several contacts
// with the user's email, or the email on a contact linked to another user)
// becomes an open conflict in the ledger. The run that first meets it
// reports the error; later runs skip the user quietly until an operator
// links it to one contact (the link is stored, so matching finds it first)
// or ignores it (the user is skipped from then on). A conflict whose
// duplicate went away closes itself.

// Skip reasons of users waiting for, or set aside by, an operator.
const (
	skipOpenConflict    = "open conflict: waiting for an operator (psasync conflicts list)"
	skipIgnoredConflict = "ignored by an operator (conflict)"
)

// conflictBook is what a run knows of the tenant's conflicts, read once.
type conflictBook struct {
	open    map[string]bool
	ignored map[string]bool
}

// loadConflicts reads the tenant's open and ignored conflicts; without the
// ledger the run carries on as if there were none.
func (e *Engine) loadConflicts(ctx context.Context, tenant string) conflictBook {
	b := conflictBook{open: map[string]bool{}, ignored: map[string]bool{}}
	for status, set := range map[string]map[string]bool{ledger.ConflictOpen: b.open, ledger.ConflictIgnored: b.ignored} {
		cs, err := e.ledger.Conflicts(ctx, tenant, status)
		if err != nil {
			e.log.WithError(err).WithField("tenant", tenant).Warn("could not read the tenant's conflicts")
			continue
		}
		for _, c := range cs {
			set[c.UserID] = true
		}
	}
	return b
}

// settleConflict updates the ledger with what planning found for one user
// and turns the plan into what follows: the first sighting stays an error,
// later ones and ignored users become quiet skips, and an open conflict
// that planned without a duplicate closes.
func (e *Engine) settleConflict(ctx context.Context, tenant string, p *userPlan, wasOpen, ignored bool) {
	if p.user.ID == "" {
		return
	}
	if ignored {
		p.kind, p.reason, p.warnings = actSkip, skipIgnoredConflict, nil
		return
	}
	duplicate := p.kind == actError && p.errCode == CodeDuplicateContact && len(p.candidates) > 0
	if !duplicate {
		if wasOpen && p.kind != actError {
			if _, err := e.ledger.CloseConflict(ctx, tenant, p.user.ID); err != nil {
				e.log.WithError(err).WithField("user", p.user.ID).Warn("could not close a conflict that went away")
			}
		}
		return
	}
	c, err := e.ledger.OpenConflict(ctx, conflictOf(tenant, p, e.cfg.Now()))
	if err != nil {
		e.log.WithError(err).WithField("user", p.user.ID).Warn("could not record the conflict")
		return
	}
	switch c.Status {
	case ledger.ConflictOpen:
		if !c.FirstSeen.Equal(c.LastSeen) {
			p.kind, p.reason = actSkip, skipOpenConflict
		} else {
			p.errMsg += fmt.Sprintf("; or link the user to one of them: psasync conflicts resolve --tenant %s --user %s --contact <id>", tenant, p.user.ID)
		}
	case ledger.ConflictIgnored:
		p.kind, p.reason = actSkip, skipIgnoredConflict
	case ledger.ConflictResolved:
		// The operator's link was lost (Redis state): restore it, and the
		// next sync matches the chosen contact first.
		if err := e.store.SetLink(ctx, tenant, p.user.ID, Link{ContactID: c.ResolvedContactID, CompanyID: c.CompanyID}); err != nil {
			e.log.WithError(err).WithField("user", p.user.ID).Warn("could not restore an operator's link")
		}
		p.kind, p.reason = actSkip, "conflict resolved by an operator; its link is restored for the next sync"
	}
}

// conflictOf describes a DuplicateContact plan as a ledger conflict.
func conflictOf(tenant string, p *userPlan, now time.Time) ledger.Conflict {
	c := ledger.Conflict{Tenant: tenant, UserID: p.user.ID, UPN: p.upn, Email: p.contact.Email,
		Code: p.errCode, Message: p.errMsg, LastSeen: now.UTC()}
	for _, x := range p.candidates {
		if c.CompanyID == "" {
			c.CompanyID = x.CompanyID
		}
		if c.Email == "" {
			c.Email = x.Email
		}
		c.Candidates = append(c.Candidates, ledger.Candidate{ContactID: x.ID, CompanyID: x.CompanyID, FirstName: x.FirstName,
			LastName: x.LastName, Email: x.Email, Phone: x.Phone, Title: x.JobTitle, LinkedUserID: x.ExternalID, Inactive: x.Inactive})
	}
	return c
}

// ErrContactGone is returned when an operator links a user to a contact
// the PSA no longer has.
var ErrContactGone = errors.New("the contact no longer exists in the PSA")

// ResolveConflict links the user of an open conflict to one of its
// candidate contacts, then syncs the user at once (the write names the
// operator). Resolving again with the same contact changes nothing.
func (e *Engine) ResolveConflict(ctx context.Context, tenant, user, contactID, actor string) (ledger.Conflict, UserOutcome, error) {
	if _, err := e.tenants.Tenant(ctx, tenant); err != nil {
		return ledger.Conflict{}, UserOutcome{}, fmt.Errorf("tenant %s: %w", tenant, err)
	}
	c, ok, err := e.ledger.Conflict(ctx, tenant, user)
	switch {
	case err != nil:
		return ledger.Conflict{}, UserOutcome{}, err
	case !ok:
		return ledger.Conflict{}, UserOutcome{}, fmt.Errorf("conflict of user %s in tenant %s: %w", user, tenant, ledger.ErrNotFound)
	case c.Status == ledger.ConflictResolved && c.ResolvedContactID == contactID:
		return c, UserOutcome{}, nil
	}
	if c.Status != ledger.ConflictOpen {
		return c, UserOutcome{}, fmt.Errorf("conflict of user %s is %s: %w", user, c.Status, ledger.ErrNotOpen)
	}
	cand, ok := candidate(c, contactID)
	if !ok {
		return c, UserOutcome{}, fmt.Errorf("contact %s for user %s: %w (candidates: %s)", contactID, user, ledger.ErrNotCandidate, candidateIDs(c))
	}
	w := e.newWaiter(jobWaits(), e.log, nil)
	if _, found, err := (liveSource{e: e, w: w}).byID(ctx, cand.CompanyID, contactID); err != nil {
		return c, UserOutcome{}, fmt.Errorf("read contact %s: %w", contactID, err)
	} else if !found {
		return c, UserOutcome{}, fmt.Errorf("contact %s: %w", contactID, ErrContactGone)
	}
	lock, err := e.store.lockUser(ctx, tenant, user, 30*time.Second, 10*time.Second)
	if err != nil {
		return c, UserOutcome{}, fmt.Errorf("wait for the job of user %s: %w", user, err)
	}
	defer lock.Release()
	if err := e.store.SetLink(ctx, tenant, user, Link{ContactID: contactID, CompanyID: cand.CompanyID}); err != nil {
		return c, UserOutcome{}, fmt.Errorf("link user %s to contact %s: %w", user, contactID, err)
	}
	if c, err = e.ledger.ResolveConflict(ctx, tenant, user, contactID, actor); err != nil {
		return c, UserOutcome{}, err
	}
	e.log.WithFields(logrus.Fields{"tenant": tenant, "user": user, "contact": contactID, "actor": actor}).Info("conflict resolved")
	out, _, err := e.syncUser(ctx, tenant, user, userSync{trigger: OperatorTrigger(actor)})
	return c, out, err
}

// IgnoreConflict sets a conflicting user aside: syncs skip it until the
// conflict reopens. Ignoring twice changes nothing.
func (e *Engine) IgnoreConflict(ctx context.Context, tenant, user, actor string) (ledger.Conflict, error) {
	if _, err := e.tenants.Tenant(ctx, tenant); err != nil {
		return ledger.Conflict{}, fmt.Errorf("tenant %s: %w", tenant, err)
	}
	if c, ok, err := e.ledger.Conflict(ctx, tenant, user); err == nil && ok && c.Status == ledger.ConflictIgnored {
		return c, nil
	}
	c, err := e.ledger.IgnoreConflict(ctx, tenant, user, actor)
	if err == nil {
		e.log.WithFields(logrus.Fields{"tenant": tenant, "user": user, "actor": actor}).Info("conflict ignored")
	}
	return c, err
}

func candidate(c ledger.Conflict, contactID string) (ledger.Candidate, bool) {
	for _, x := range c.Candidates {
		if x.ContactID == contactID {
			return x, true
		}
	}
	return ledger.Candidate{}, false
}

func candidateIDs(c ledger.Conflict) string {
	ids := make([]string, len(c.Candidates))
	for i, x := range c.Candidates {
		ids[i] = x.ContactID
	}
	return strings.Join(ids, ", ")
}
