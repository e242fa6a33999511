package worker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
)

// Run performs a full or incremental run and returns its report. The error
// is only for a run that could not start (bad inputs, unknown or disabled
// tenant); failures of Graph or the PSA are in the report.
func (e *Engine) Run(ctx context.Context, runID string, in RunInputs) (*Report, error) {
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("run inputs: %w", err)
	}
	t, err := e.tenants.Tenant(ctx, in.Tenant)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", in.Tenant, err)
	}
	if !t.SyncEnabled {
		return nil, fmt.Errorf("tenant %s: %w", in.Tenant, ErrTenantDisabled)
	}
	// One writer per tenant: a second run, and user jobs, wait for this one.
	release, err := e.store.lockTenant(ctx, t.ID, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
	}
	defer release()
	start := e.cfg.Now()
	rep := &Report{
		SyncMode: in.SyncMode, SyncTimestamp: start.UTC(), RunID: runID, TenantID: t.ID, DryRun: in.DryRun, Inputs: in,
		CreatedContacts: []ContactResult{}, UpdatedContacts: []ContactResult{}, Errors: []ErrorItem{}, Warnings: []WarningItem{}, SkippedContacts: []SkipItem{},
	}
	log := e.log.WithFields(logrus.Fields{"tenant": t.ID, "run": runID, "mode": in.SyncMode, "dry_run": in.DryRun})
	w := newWaiter(e, true)
	e.run(ctx, log, w, t, in, rep)
	rep.Throttling = w.throttling()
	if rep.Throttling.Events > 0 {
		rep.Warnings = append(rep.Warnings, WarningItem{Code: WarnThrottled, Timestamp: e.cfg.Now().UTC(),
			Message: fmt.Sprintf("waited %d times, %s in all, as the PSA or Graph asked", rep.Throttling.Events, time.Duration(rep.Throttling.WaitedMS)*time.Millisecond)})
	}
	rep.Statistics.Errors = len(rep.Errors)
	rep.Success = len(rep.Errors) == 0
	rep.DurationMS = e.cfg.Now().Sub(start).Milliseconds()
	sortReport(rep)
	log.WithFields(logrus.Fields{"created": rep.Statistics.ContactsCreated, "updated": rep.Statistics.ContactsUpdated,
		"skipped": rep.Statistics.ContactsSkipped, "errors": rep.Statistics.Errors, "duration_ms": rep.DurationMS}).Info("run finished")
	return rep, nil
}

func (e *Engine) runError(rep *Report, code string, err error) {
	rep.Errors = append(rep.Errors, ErrorItem{Code: code, Message: err.Error(), Timestamp: e.cfg.Now().UTC(), PSAError: psaErrorText(err)})
}

// enumerate reads the users the run covers: a delta round (full: from
// scratch). It reports the delta link to store and whether the run is full.
func (e *Engine) enumerate(ctx context.Context, w *waiter, t Tenant, in RunInputs, rep *Report) ([]directory.User, string, bool, error) {
	full := in.SyncMode == ModeFull
	link := ""
	if !full {
		var err error
		link, err = e.store.DeltaLink(ctx, t.ID)
		if err != nil {
			return nil, "", false, err
		}
		if link == "" {
			full = true
			rep.Warnings = append(rep.Warnings, WarningItem{Code: WarnDeltaReset, Timestamp: e.cfg.Now().UTC(), Message: "no delta link stored for this tenant; enumerated every user"})
		}
	}
	var res directory.DeltaResult
	err := w.do(ctx, func() error {
		var err error
		res, err = t.Directory.Delta(ctx, link)
		return err
	})
	if errors.Is(err, directory.ErrDeltaExpired) && !full {
		full = true
		rep.Warnings = append(rep.Warnings, WarningItem{Code: WarnDeltaReset, Timestamp: e.cfg.Now().UTC(), Message: "the stored delta link has expired; enumerated every user"})
		err = w.do(ctx, func() error {
			var err error
			res, err = t.Directory.Delta(ctx, "")
			return err
		})
	}
	if err != nil {
		return nil, "", full, fmt.Errorf("read users of tenant %s from Microsoft Graph: %w", t.ID, err)
	}
	users := res.Users
	if !full {
		// Delta items may carry only the changed properties: read partial ones whole.
		for i, u := range users {
			if u.Deleted() || u.UserPrincipalName != "" {
				continue
			}
			err := w.do(ctx, func() error {
				var err error
				users[i], err = t.Directory.GetUser(ctx, u.ID)
				return err
			})
			if errors.Is(err, directory.ErrNotFound) {
				users[i] = directory.User{ID: u.ID, Removed: &directory.Removed{Reason: "deleted"}}
			} else if err != nil {
				return nil, "", full, fmt.Errorf("read user %s: %w", u.ID, err)
			}
		}
	}
	return users, res.DeltaLink, full, nil
}

func (e *Engine) run(ctx context.Context, log logrus.FieldLogger, w *waiter, t Tenant, in RunInputs, rep *Report) {
	users, deltaLink, full, err := e.enumerate(ctx, w, t, in, rep)
	if full {
		rep.SyncMode = ModeFull
	}
	if err != nil {
		e.runError(rep, errorCode(err, CodeGraphError), err)
		return
	}
	rep.Statistics.TotalOffice365Users = len(users)
	links, err := e.store.Links(ctx, t.ID)
	if err != nil {
		log.WithError(err).Warn("link cache unavailable; matching by object id and email")
		links = map[string]Link{}
	}
	linkOf := func(_ context.Context, user string) (Link, bool, error) { l, ok := links[user]; return l, ok, nil }

	var src contactSource
	bulk := full || len(users) > e.cfg.BulkThreshold
	if bulk {
		idx, err := e.readCompanies(ctx, w, t, in, users, links)
		if err != nil {
			e.runError(rep, errorCode(err, CodePSAConnectionError), err)
			return
		}
		src = idx
	} else {
		src = liveSource{e: e, w: w}
	}
	pl := e.newPlanner(t, in, src, linkOf)

	plans := make([]*userPlan, 0, len(users))
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		seen[u.ID] = true
		p := pl.plan(ctx, u)
		if p.kind == actIgnore {
			continue
		}
		plans = append(plans, p)
	}
	if full && !in.narrowed() {
		if idx, ok := src.(*bulkIndex); ok {
			addExclusiveLinks(t, idx, links, seen)
		}
		plans = append(plans, e.planOrphans(ctx, pl, links, seen)...)
	}
	e.guard(ctx, t, in, src, links, plans, rep)

	outs := make([]outcome, len(plans))
	sem := make(chan struct{}, e.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, p := range plans {
		if p.kind != actCreate && p.kind != actUpdate {
			outs[i] = outcome{plan: p}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			outs[i] = e.applyLocked(ctx, w, t.ID, p, in.DryRun)
		}()
	}
	wg.Wait()
	for _, o := range outs {
		if o.plan.kind == actSkip && o.plan.link != nil && !in.DryRun {
			if l, ok := links[o.plan.user.ID]; !ok || l != *o.plan.link {
				e.storeLink(ctx, t.ID, o.plan)
			}
		}
		e.record(rep, o)
	}
	if len(rep.Errors) == 0 && !in.DryRun && !in.narrowed() && deltaLink != "" {
		if err := e.store.SetDeltaLink(ctx, t.ID, deltaLink); err != nil {
			rep.Warnings = append(rep.Warnings, WarningItem{Code: WarnDeltaReset, Timestamp: e.cfg.Now().UTC(), Message: "could not store the new delta link; the next incremental run enumerates every user: " + err.Error()})
		}
	}
}

// applyLocked applies a run's plan under the user's lock, so a per-user job
// that started before the run cannot write the same contact at the same
// time. When the lock was contended, a job has just synced the user from
// fresher Graph data than the run's: the run's plan is stale, so it is
// skipped (the next run sees the result).
func (e *Engine) applyLocked(ctx context.Context, w *waiter, tenant string, p *userPlan, dryRun bool) outcome {
	if dryRun || p.user.ID == "" {
		return e.apply(ctx, w, tenant, p, dryRun, false)
	}
	release, waited, err := e.store.lockUser(ctx, tenant, p.user.ID, 30*time.Second, 2*time.Minute)
	if err != nil {
		cause := fmt.Errorf("wait for the job of user %s: %w", p.upn, err)
		return outcome{plan: p, cause: cause, err: &ErrorItem{UserPrincipalName: p.upn, Code: CodePSAConnectionError, Message: cause.Error(), Timestamp: e.cfg.Now().UTC()}}
	}
	defer release()
	if waited {
		p.kind, p.reason = actSkip, "synced by a per-user job during the run"
		return outcome{plan: p}
	}
	return e.apply(ctx, w, tenant, p, false, false)
}

// readCompanies reads, once and in pages, every company the run's users map
// to and every company a stored link points to.
func (e *Engine) readCompanies(ctx context.Context, w *waiter, t Tenant, in RunInputs, users []directory.User, links map[string]Link) (*bulkIndex, error) {
	want := map[string]bool{}
	pl := e.newPlanner(t, in, nil, nil)
	for _, u := range users {
		if c := pl.company(u, u.Mail); c != "" {
			want[c] = true
		}
	}
	for _, l := range links {
		if l.CompanyID != "" {
			want[l.CompanyID] = true
		}
	}
	ids := make([]string, 0, len(want))
	for c := range want {
		ids = append(ids, c)
	}
	sort.Strings(ids)
	idx := &bulkIndex{companies: make(map[string]*companyContacts, len(ids))}
	for _, c := range ids {
		cs, err := e.listContacts(ctx, w, c)
		if err != nil {
			return nil, err
		}
		idx.companies[c] = newCompanyContacts(cs)
	}
	return idx, nil
}

// addExclusiveLinks adds, as links, the contacts in the tenant's exclusive
// companies that carry an object id the tenant no longer has, so that
// planOrphans sees them even when Redis lost its links.
func addExclusiveLinks(t Tenant, idx *bulkIndex, links map[string]Link, seen map[string]bool) {
	for _, company := range t.ExclusiveCompanies {
		cc := idx.companies[company]
		if cc == nil {
			continue
		}
		for _, c := range cc.all {
			if c.ExternalID == "" || c.Inactive || seen[c.ExternalID] {
				continue
			}
			if _, ok := links[c.ExternalID]; !ok {
				links[c.ExternalID] = Link{ContactID: c.ID, CompanyID: c.CompanyID}
			}
		}
	}
}

// planOrphans deactivates contacts linked to users that no longer exist in
// the tenant (hard-deleted, so no delta item names them).
func (e *Engine) planOrphans(ctx context.Context, pl *planner, links map[string]Link, seen map[string]bool) []*userPlan {
	var out []*userPlan
	ids := make([]string, 0)
	for user := range links {
		if !seen[user] {
			ids = append(ids, user)
		}
	}
	sort.Strings(ids)
	for _, user := range ids {
		p := pl.planRemoval(ctx, &userPlan{user: directory.User{ID: user}}, "user no longer exists in Microsoft 365")
		if p.kind == actUpdate || p.kind == actError {
			out = append(out, p)
		}
	}
	return out
}

// guard vetoes a company's deactivations when they exceed the configured
// share of its linked contacts.
func (e *Engine) guard(ctx context.Context, t Tenant, in RunInputs, src contactSource, links map[string]Link, plans []*userPlan, rep *Report) {
	planned := map[string]int{}
	for _, p := range plans {
		if p.kind == actUpdate && p.deactivation {
			planned[p.contact.CompanyID]++
		}
	}
	for company, n := range planned {
		linked := 0
		if idx, ok := src.(*bulkIndex); ok && idx.companies[company] != nil {
			for _, c := range idx.companies[company].all {
				if c.ExternalID != "" && !c.Inactive {
					linked++
				}
			}
		} else {
			for _, l := range links {
				if l.CompanyID == company {
					linked++
				}
			}
		}
		allowed := int(e.cfg.DeactivationGuard * float64(linked))
		if allowed < e.cfg.DeactivationGuardMin {
			allowed = e.cfg.DeactivationGuardMin
		}
		if n <= allowed {
			continue
		}
		rep.Warnings = append(rep.Warnings, WarningItem{Code: WarnDeactivationGuard, Timestamp: e.cfg.Now().UTC(),
			Message: fmt.Sprintf("run would deactivate %d of %d linked contacts in company %s (more than %.0f%%); deactivated none. Check the tenant's scope settings, then run again with a higher deactivation guard if this is intended", n, linked, company, e.cfg.DeactivationGuard*100)})
		for _, p := range plans {
			if p.kind == actUpdate && p.deactivation && p.contact.CompanyID == company {
				p.kind, p.reason = actSkip, "deactivation guard"
			}
		}
	}
}

// record adds one outcome to the report.
func (e *Engine) record(rep *Report, o outcome) {
	p := o.plan
	rep.Statistics.UsersProcessed++
	rep.Warnings = append(rep.Warnings, p.warnings...)
	switch {
	case o.err != nil:
		rep.Errors = append(rep.Errors, *o.err)
	case p.kind == actError:
		rep.Errors = append(rep.Errors, ErrorItem{UserPrincipalName: p.upn, Code: p.errCode, Message: p.errMsg, Timestamp: e.cfg.Now().UTC(), PSAError: psaErrorText(p.cause)})
	case p.kind == actCreate:
		rep.Statistics.ContactsCreated++
		rep.CreatedContacts = append(rep.CreatedContacts, contactResult(p.user, o.written, nil, p.action))
	case p.kind == actUpdate:
		rep.Statistics.ContactsUpdated++
		switch p.action {
		case "deactivated":
			rep.Statistics.ContactsDeactivated++
		case "reactivated":
			rep.Statistics.ContactsReactivated++
		}
		r := contactResult(p.user, o.written, p.fields, p.action)
		r.UserPrincipalName = p.upn
		rep.UpdatedContacts = append(rep.UpdatedContacts, r)
	default:
		rep.Statistics.ContactsSkipped++
		rep.SkippedContacts = append(rep.SkippedContacts, SkipItem{UserPrincipalName: p.upn, Reason: p.reason})
	}
}

func sortReport(rep *Report) {
	sort.SliceStable(rep.CreatedContacts, func(i, j int) bool {
		return lessFold(rep.CreatedContacts[i].UserPrincipalName, rep.CreatedContacts[j].UserPrincipalName)
	})
	sort.SliceStable(rep.UpdatedContacts, func(i, j int) bool {
		return lessFold(rep.UpdatedContacts[i].UserPrincipalName, rep.UpdatedContacts[j].UserPrincipalName)
	})
	sort.SliceStable(rep.Errors, func(i, j int) bool { return lessFold(rep.Errors[i].UserPrincipalName, rep.Errors[j].UserPrincipalName) })
	sort.SliceStable(rep.SkippedContacts, func(i, j int) bool {
		return lessFold(rep.SkippedContacts[i].UserPrincipalName, rep.SkippedContacts[j].UserPrincipalName)
	})
}

func lessFold(a, b string) bool { return strings.ToLower(a) < strings.ToLower(b) }

// UserOutcome is what one per-user job did, kept for the runs API and logs.
type UserOutcome struct {
	TenantID          string    `json:"tenant_id"`
	UserID            string    `json:"user_id"`
	UserPrincipalName string    `json:"user_principal_name"`
	Action            string    `json:"action"` // created, updated, deactivated, reactivated, linked, skipped, failed
	ChangedFields     []string  `json:"changed_fields,omitempty"`
	ContactID         string    `json:"contact_id,omitempty"`
	Reason            string    `json:"reason,omitempty"`
	Code              string    `json:"code,omitempty"`
	Message           string    `json:"message,omitempty"`
	PSAError          string    `json:"psa_error,omitempty"`
	Warnings          []string  `json:"warnings,omitempty"`
	At                time.Time `json:"at"`
}

// PermanentError marks a per-user failure that retrying cannot fix; the
// asynq handler turns it into SkipRetry.
type PermanentError struct{ Outcome UserOutcome }

func (e *PermanentError) Error() string {
	return fmt.Sprintf("%s: %s", e.Outcome.Code, e.Outcome.Message)
}

// SyncUser syncs one user now: the path of a change notification. It reads
// the user from Graph and the contact from the PSA, and does not wait on
// rate limits: the error carries the delay for the queue's retry.
func (e *Engine) SyncUser(ctx context.Context, tenantID, userID string) (UserOutcome, error) {
	out := UserOutcome{TenantID: tenantID, UserID: userID, At: e.cfg.Now().UTC()}
	t, err := e.tenants.Tenant(ctx, tenantID)
	if err != nil {
		out.Action, out.Code, out.Message = "failed", CodeUnknownTenant, err.Error()
		return out, &PermanentError{Outcome: out}
	}
	if !t.SyncEnabled {
		out.Action, out.Reason = "skipped", "office365_sync_enabled is false"
		return out, nil
	}
	u, err := t.Directory.GetUser(ctx, userID)
	if errors.Is(err, directory.ErrNotFound) {
		u = directory.User{ID: userID, Removed: &directory.Removed{Reason: "deleted"}}
	} else if err != nil {
		out.Action, out.Code, out.Message = "failed", errorCode(err, CodeGraphError), err.Error()
		return out, fmt.Errorf("read user %s: %w", userID, err)
	}
	out.UserPrincipalName = u.UserPrincipalName
	w := newJobWaiter(e)
	in := DefaultRunInputs(tenantID)
	pl := e.newPlanner(t, in, liveSource{e: e, w: w}, func(ctx context.Context, user string) (Link, bool, error) {
		return e.store.GetLink(ctx, tenantID, user)
	})
	p := pl.plan(ctx, u)
	o := e.apply(ctx, w, tenantID, p, false, false)
	if p.kind == actSkip && p.link != nil {
		e.storeLink(ctx, tenantID, p)
	}
	for _, wi := range p.warnings {
		out.Warnings = append(out.Warnings, wi.Code)
	}
	if p.upn != "" {
		out.UserPrincipalName = p.upn
	}
	out.ContactID = o.written.ID
	switch {
	case o.err != nil:
		out.Action, out.Code, out.Message, out.PSAError = "failed", o.err.Code, o.err.Message, o.err.PSAError
		if permanent(o.err.Code, nil) {
			return out, &PermanentError{Outcome: out}
		}
		return out, o.cause
	case p.kind == actError:
		out.Action, out.Code, out.Message = "failed", p.errCode, p.errMsg
		out.PSAError = psaErrorText(p.cause)
		if permanent(p.errCode, p.cause) {
			return out, &PermanentError{Outcome: out}
		}
		if p.cause != nil {
			return out, p.cause
		}
		return out, errors.New(p.errMsg)
	case p.kind == actCreate, p.kind == actUpdate:
		out.Action = p.action
		for _, f := range p.fields {
			out.ChangedFields = append(out.ChangedFields, string(f))
		}
	default:
		out.Action, out.Reason = "skipped", p.reason
	}
	return out, nil
}
