package worker

import (
	"context"
	"fmt"
	"strings"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa"
)

// actionKind is what a plan does for one user.
type actionKind int

const (
	actSkip actionKind = iota
	actCreate
	actUpdate
	actError
	actIgnore // outside the run's filters: not processed at all
)

// userPlan is the decision for one user: the only input of apply.
type userPlan struct {
	user    directory.User
	upn     string
	kind    actionKind
	contact psa.Contact // create: the new contact; update: current with the changes applied
	fields  []psa.Field // update: what to write
	// changes are an update's old and new values; a create's are made
	// when needed (written), as every value is new.
	changes []FieldChange
	action  string // report action: an Action* value
	reason  string // skip reason
	errCode string
	errMsg  string
	cause   error // the PSA or Graph error behind errCode, when there was one
	// updateExisting is the run's update_existing, for apply's adoption.
	updateExisting bool
	warnings       []WarningItem
	// link is stored once the write succeeded (or at once for a skip that
	// only found a contact psasync had not cached).
	link *Link
	// deactivation marks a plan the guard may veto.
	deactivation bool
	// orphan marks a plan for a contact whose user no longer exists.
	orphan bool
	// candidates are the contacts a DuplicateContact failure could not
	// choose between: the conflict an operator resolves.
	candidates []psa.Contact
}

// runFilterReasons are Decide's reasons that come from the run's own inputs:
// such users are outside this run, not outside the sync, so they are neither
// processed nor deactivated.
var runFilterReasons = map[string]bool{mapping.ReasonDepartmentFilter: true, mapping.ReasonOfficeLocationFilter: true, mapping.ReasonUPNFilter: true}

// planner plans users of one tenant for one run or job.
type planner struct {
	e      *Engine
	t      Tenant
	mt     mapping.Tenant
	in     RunInputs
	scope  mapping.Scope
	src    contactSource
	links  func(ctx context.Context, user string) (Link, bool, error)
	claims map[string]string // company|email -> upn of the user that claimed it in this run
	// matched maps a contact id to the upn of the user it was matched to in this run.
	matched map[string]string
	// trace, when set, records each decision (sync-user only).
	trace *Trace
}

func (e *Engine) newPlanner(t Tenant, in RunInputs, src contactSource, links func(context.Context, string) (Link, bool, error)) *planner {
	return &planner{
		e: e, t: t, in: in, src: src, links: links, claims: map[string]string{}, matched: map[string]string{},
		mt:    mapping.Tenant{ContactType: t.ContactType, VerifiedDomains: t.VerifiedDomains, SyncFilter: t.SyncFilter},
		scope: mapping.Scope{SkipDisabled: in.SkipDisabledUsers, Departments: in.DepartmentFilter, OfficeLocations: in.OfficeLocationFilter, UserPrincipalNames: in.UserPrincipalNames},
	}
}

// company resolves the PSA company of a user: run input, domain map,
// tenant default.
func (p *planner) company(u directory.User, email string) string {
	c, _ := p.companyRule(u, email)
	return c
}

// companyRule is company with the rule that chose it.
func (p *planner) companyRule(u directory.User, email string) (string, string) {
	if p.in.CompanyID != "" {
		return p.in.CompanyID, "the run's company_id"
	}
	for _, addr := range []string{email, u.Mail, u.UserPrincipalName} {
		if i := strings.LastIndexByte(addr, '@'); i >= 0 {
			if c, ok := p.t.DomainCompanies[strings.ToLower(addr[i+1:])]; ok {
				return c, "domain " + strings.ToLower(addr[i+1:]) + " is mapped to it"
			}
		}
	}
	return p.t.DefaultCompanyID, "the tenant's psa_default_company_id"
}

func (p *planner) fail(plan *userPlan, code, msg string) *userPlan {
	plan.kind, plan.errCode, plan.errMsg = actError, code, msg
	return plan
}

// failErr fails a plan on a PSA or Graph error, keeping it as the cause.
func (p *planner) failErr(plan *userPlan, code string, err error) *userPlan {
	plan.cause = err
	return p.fail(plan, code, err.Error())
}

// linked finds the contact psasync linked to the user: the stored link,
// then the object id kept on the contact.
func (p *planner) linked(ctx context.Context, u directory.User, company string) (psa.Contact, *Link, bool, error) {
	l, ok, err := p.links(ctx, u.ID)
	if err != nil {
		// Redis is a cache: without it, fall back to what the PSA holds.
		p.e.log.WithError(err).WithField("user", u.ID).Warn("link cache unavailable; matching in the PSA")
		ok = false
	}
	if ok {
		c, found, err := p.src.byID(ctx, l.CompanyID, l.ContactID)
		if err != nil {
			return psa.Contact{}, nil, false, err
		}
		if found {
			if p.trace != nil {
				p.step(TraceStep{Step: StepMatch, Decision: "contact " + c.ID, Rule: "stored link",
					Candidates: candidates([]psa.Contact{c}, func(psa.Contact) string { return "linked to this user by psasync" })})
			}
			return c, &l, true, nil
		}
		if p.trace != nil {
			p.step(TraceStep{Step: StepMatch, Decision: "no match", Rule: "stored link", Detail: "the linked contact " + l.ContactID + " no longer exists"})
		}
	}
	if company == "" {
		return psa.Contact{}, nil, false, nil
	}
	cs, err := p.src.byExternalID(ctx, company, u.ID)
	if err != nil {
		return psa.Contact{}, nil, false, err
	}
	if len(cs) > 0 {
		c := cs[0]
		for _, x := range cs[1:] { // prefer an active one
			if c.Inactive && !x.Inactive {
				c = x
			}
		}
		if p.trace != nil {
			p.step(TraceStep{Step: StepMatch, Decision: "contact " + c.ID, Rule: "object id on the contact",
				Candidates: candidates(cs, func(x psa.Contact) string { return pick(x.ID == c.ID, "taken", "another contact with this object id") })})
		}
		return c, &Link{ContactID: c.ID, CompanyID: c.CompanyID}, true, nil
	}
	if p.trace != nil {
		p.step(TraceStep{Step: StepMatch, Decision: "no match", Rule: "object id on the contact", Detail: "no contact in company " + company + " has object id " + u.ID})
	}
	return psa.Contact{}, nil, false, nil
}

// plan decides what to do for one user. It reads (links, the contact
// source) but never writes.
func (p *planner) plan(ctx context.Context, u directory.User) *userPlan {
	plan := &userPlan{user: u, upn: u.UserPrincipalName, updateExisting: p.in.UpdateExisting}
	if u.Deleted() {
		if p.trace != nil {
			p.step(TraceStep{Step: StepScope, Decision: "out of scope", Rule: "deleted in Microsoft 365"})
		}
		return p.planRemoval(ctx, plan, "deleted in Microsoft 365")
	}
	d := p.e.mapper.Decide(u, p.mt, p.scope)
	if p.trace != nil {
		p.step(TraceStep{Step: StepScope, Decision: pick(d.InScope, "in scope", "out of scope"), Rule: pick(d.InScope, "the tenant's scope and filters", d.Reason), Detail: d.Detail})
	}
	if !d.InScope {
		if runFilterReasons[d.Reason] {
			plan.kind = actIgnore
			return plan
		}
		if !d.Deactivate() {
			plan.kind, plan.reason = actSkip, skipOutOfScope+d.Reason
			return plan
		}
		return p.planRemoval(ctx, plan, d.Reason)
	}
	desired, issues := p.e.mapper.Desired(u, p.mt)
	for _, is := range issues {
		if is.Warning {
			plan.warnings = append(plan.warnings, WarningItem{UserPrincipalName: u.UserPrincipalName, Code: is.Code, Message: is.Message, Timestamp: p.e.cfg.Now().UTC()})
		} else if plan.kind != actError {
			p.fail(plan, is.Code, is.Message)
		}
	}
	if plan.kind == actError {
		return plan
	}
	company, rule := p.companyRule(u, desired.Email)
	if p.trace != nil {
		p.step(TraceStep{Step: StepCompany, Decision: pick(company != "", "company "+company, "no company"), Rule: rule})
	}
	if company == "" {
		return p.fail(plan, CodeMissingCompanyID, fmt.Sprintf("no PSA company for %s: the run has no company_id, no domain of the user is mapped, and the tenant has no psa_default_company_id", u.UserPrincipalName))
	}
	desired.CompanyID, desired.ExternalID = company, u.ID

	current, link, found, err := p.linked(ctx, u, company)
	if err != nil {
		return p.failErr(plan, errorCode(err, CodePSAConnectionError), err)
	}
	if found && current.CompanyID != "" && current.CompanyID != company {
		plan.warnings = append(plan.warnings, WarningItem{UserPrincipalName: u.UserPrincipalName, Code: WarnCompanyChanged,
			Message: fmt.Sprintf("user now maps to company %s but its contact %s is in company %s; the contact is kept there", company, current.ID, current.CompanyID), Timestamp: p.e.cfg.Now().UTC()})
		desired.CompanyID = current.CompanyID
	}
	if !found {
		c, ok, failed := p.matchByEmail(ctx, plan, u, desired)
		if failed {
			return plan
		}
		if ok {
			current, found = c, true
			link = &Link{ContactID: c.ID, CompanyID: c.CompanyID}
		}
	}
	if found {
		p.matched[current.ID] = u.UserPrincipalName
	}
	if !found {
		key := strings.ToLower(company + "|" + desired.Email)
		if other, dup := p.claims[key]; dup {
			return p.fail(plan, CodeDuplicateContact, fmt.Sprintf("email %s in company %s is also the address of %s; no contact created", desired.Email, company, other))
		}
		p.claims[key] = u.UserPrincipalName
		plan.kind, plan.contact, plan.action = actCreate, desired, ActionCreated
		if p.trace != nil {
			p.step(TraceStep{Step: StepDiff, Decision: "create", Changes: createdChanges(desired)})
		}
		return plan
	}
	return p.planUpdate(plan, current, desired, link)
}

// matchByEmail finds an existing contact by the user's email, then its
// aliases. failed reports a plan already turned into an error.
func (p *planner) matchByEmail(ctx context.Context, plan *userPlan, u directory.User, desired psa.Contact) (psa.Contact, bool, bool) {
	addrs := []string{desired.Email}
	for _, a := range u.ProxyAddresses {
		if len(a) > 5 && strings.EqualFold(a[:5], "smtp:") && !strings.EqualFold(a[5:], desired.Email) {
			addrs = append(addrs, a[5:])
		}
	}
	for _, addr := range addrs {
		cs, err := p.src.byEmail(ctx, desired.CompanyID, addr)
		if err != nil {
			p.failErr(plan, errorCode(err, CodePSAConnectionError), err)
			return psa.Contact{}, false, true
		}
		rule := pick(addr == desired.Email, "email", "alias "+addr)
		if len(cs) == 0 {
			if p.trace != nil {
				p.step(TraceStep{Step: StepMatch, Decision: "no match", Rule: rule, Detail: "no contact in company " + desired.CompanyID + " has " + addr})
			}
			continue
		}
		c, taken, msg := p.pickByEmail(u, addr, cs)
		if p.trace != nil {
			p.step(TraceStep{Step: StepMatch, Decision: pick(taken, "contact "+c.ID, "conflict"), Rule: rule, Detail: msg,
				Candidates: candidates(cs, func(x psa.Contact) string { return p.verdict(u, x, len(cs)) })})
		}
		if !taken {
			p.fail(plan, CodeDuplicateContact, msg)
			plan.candidates = cs
			return psa.Contact{}, false, true
		}
		return c, true, false
	}
	return psa.Contact{}, false, false
}

// pickByEmail takes the one contact with the user's address, or says why
// it cannot: the address is on a contact of another user, or on several.
func (p *planner) pickByEmail(u directory.User, addr string, cs []psa.Contact) (psa.Contact, bool, string) {
	for _, c := range cs {
		if c.ExternalID != "" && !strings.EqualFold(c.ExternalID, u.ID) {
			return psa.Contact{}, false, fmt.Sprintf("contact %s with email %s is linked to another Microsoft 365 user (%s)", c.ID, addr, c.ExternalID)
		}
		if other, ok := p.matched[c.ID]; ok && other != u.UserPrincipalName {
			return psa.Contact{}, false, fmt.Sprintf("contact %s with email %s is already matched to %s in this run", c.ID, addr, other)
		}
	}
	if len(cs) > 1 {
		ids := make([]string, len(cs))
		for i, c := range cs {
			ids[i] = c.ID
		}
		return psa.Contact{}, false, fmt.Sprintf("%d contacts in company %s have email %s (ids %s); resolve the duplicates in the PSA", len(cs), cs[0].CompanyID, addr, strings.Join(ids, ", "))
	}
	return cs[0], true, ""
}

// verdict says why a contact with the user's address was or was not taken.
func (p *planner) verdict(u directory.User, c psa.Contact, n int) string {
	switch {
	case c.ExternalID != "" && !strings.EqualFold(c.ExternalID, u.ID):
		return "linked to another Microsoft 365 user"
	case p.matched[c.ID] != "" && p.matched[c.ID] != u.UserPrincipalName:
		return "matched to another user in this run"
	case n > 1:
		return "one of several contacts with this email"
	}
	return "taken"
}

// planUpdate compares the current contact with the desired one.
func (p *planner) planUpdate(plan *userPlan, current, desired psa.Contact, link *Link) *userPlan {
	fields := p.e.supported(p.e.mapper.Diff(current, desired))
	plan.action = ActionUpdated
	if current.Inactive {
		fields = append(fields, psa.FieldInactive)
		plan.action = ActionReactivated
	}
	if !strings.EqualFold(current.ExternalID, desired.ExternalID) {
		fields = append(fields, psa.FieldExternalID)
		if len(fields) == 1 {
			plan.action = ActionLinked
		}
	}
	plan.link = link
	plan.contact = current // what a skip checked; replaced below for an update
	if len(fields) == 0 {
		plan.kind, plan.reason = actSkip, SkipUnchanged
		if p.trace != nil {
			p.step(TraceStep{Step: StepDiff, Decision: "unchanged", Detail: "the contact already holds what the user maps to"})
		}
		return plan
	}
	next := current
	for _, f := range fields {
		next.Set(f, desired.Get(f))
	}
	changes := fieldChanges(current, next, fields)
	if !p.in.UpdateExisting {
		plan.kind, plan.reason = actSkip, "update_existing is false"
		if p.trace != nil {
			p.step(TraceStep{Step: StepDiff, Decision: "not updated", Rule: "update_existing is false", Changes: changes})
		}
		return plan
	}
	plan.kind, plan.contact, plan.fields = actUpdate, next, fields
	plan.changes = changes
	if p.trace != nil {
		p.step(TraceStep{Step: StepDiff, Decision: plan.action, Changes: changes})
	}
	return plan
}

// planRemoval deactivates the contact psasync linked to a user who is gone
// or out of scope; contacts it never linked are left alone.
func (p *planner) planRemoval(ctx context.Context, plan *userPlan, why string) *userPlan {
	current, link, found, err := p.linked(ctx, plan.user, p.companyForRemoval(plan.user))
	if err != nil {
		return p.failErr(plan, errorCode(err, CodePSAConnectionError), err)
	}
	if plan.upn == "" && found {
		plan.upn = current.Email
	}
	if !found || current.Inactive {
		plan.kind, plan.reason = actSkip, skipOutOfScope+why
		if p.trace != nil {
			p.step(TraceStep{Step: StepDiff, Decision: "nothing to deactivate", Detail: pick(found, "the linked contact is inactive already", "psasync linked no contact to this user")})
		}
		return plan
	}
	next := current
	next.Inactive = true
	fields := []psa.Field{psa.FieldInactive}
	if !p.in.UpdateExisting {
		plan.kind, plan.reason = actSkip, "update_existing is false"
		return plan
	}
	plan.kind, plan.contact, plan.fields, plan.action = actUpdate, next, fields, ActionDeactivated
	plan.changes = fieldChanges(current, next, plan.fields)
	if p.trace != nil {
		p.step(TraceStep{Step: StepDiff, Decision: ActionDeactivated, Rule: why, Changes: plan.changes})
	}
	plan.link, plan.deactivation = link, true
	plan.reason = why
	return plan
}

func (p *planner) companyForRemoval(u directory.User) string {
	if u.UserPrincipalName == "" && u.Mail == "" {
		if p.in.CompanyID != "" {
			return p.in.CompanyID
		}
		return p.t.DefaultCompanyID
	}
	return p.company(u, u.Mail)
}

// pick is a if cond, else b.
func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}
