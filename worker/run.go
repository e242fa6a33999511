package worker

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
)

// Run performs a full or incremental run and returns its report. The error
// is only for a run that could not start (bad inputs, unknown or disabled
// tenant, another run of the tenant in progress); failures of Graph or the
// PSA are in the report.
//
// A run's steps, in order: enumerate the users, read the contacts, plan
// each user, guard against mass deactivation, write, report.
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
	if err := e.runQuarantine(ctx, t.ID); err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
	}
	// One writer per tenant: a second run, and user jobs, wait for this one.
	lock, err := e.store.lockTenant(ctx, t.ID, time.Minute)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
	}
	defer lock.Release()

	r := e.newRun(runID, t, in)
	users, deltaLink, err := r.enumerate(ctx)
	if err != nil {
		r.fail(errorCode(err, CodeGraphError), err)
		return r.end(ctx), nil
	}
	links := r.links(ctx)
	src, err := r.contacts(ctx, users, links)
	if err != nil {
		r.fail(errorCode(err, CodePSAConnectionError), err)
		return r.end(ctx), nil
	}
	plans := r.plan(ctx, src, users, links)
	r.settleConflicts(ctx, plans)
	r.guard(ctx, src, links, plans)
	r.changes = changeLog{trigger: RunTrigger(r.rep.RunID, r.rep.SyncMode), rec: e.ledger.NewRecorder(context.WithoutCancel(ctx), 0, recorderFlush)}
	results := r.write(ctx, plans)
	r.closeRecorder()
	r.record(ctx, results, links)
	r.keepDeltaLink(ctx, deltaLink)
	return r.end(ctx), nil
}

// end finishes the report and, for a real run, tells the tenant's
// quarantine how it went.
func (r *run) end(ctx context.Context) *Report {
	rep := r.finish()
	if !r.in.DryRun {
		r.e.noteRunResult(ctx, r.t.ID, rep)
	}
	return rep
}

// run is one run in progress: its inputs, its report as it fills, and how
// far it has got.
type run struct {
	e     *Engine
	t     Tenant
	in    RunInputs
	rep   *Report
	w     *waiter
	log   logrus.FieldLogger
	start time.Time
	// full is the mode the run actually uses (an incremental run without a
	// usable delta link runs full).
	full bool

	mu       sync.Mutex
	progress Progress
	// changes is where the run's writes are logged: a recorder appending
	// them in batches while the run writes.
	changes changeLog
}

func (e *Engine) newRun(runID string, t Tenant, in RunInputs) *run {
	start := e.cfg.Now()
	r := &run{e: e, t: t, in: in, start: start, full: in.SyncMode == ModeFull,
		log: e.log.WithFields(logrus.Fields{"tenant": t.ID, "run": runID, "mode": in.SyncMode, "dry_run": in.DryRun}),
		rep: &Report{
			SyncMode: in.SyncMode, SyncTimestamp: start.UTC(), RunID: runID, TenantID: t.ID, DryRun: in.DryRun, Inputs: in,
			CreatedContacts: []ContactResult{}, UpdatedContacts: []ContactResult{}, Errors: []ErrorItem{}, Warnings: []WarningItem{}, SkippedContacts: []SkipItem{},
		},
		progress: Progress{RunID: runID, Tenant: t.ID, Phase: PhaseEnumerating, Started: start},
	}
	r.w = e.newWaiter(e.cfg.runWaits(), r.log, func(reason string, until time.Time) {
		r.update(func(p *Progress) { p.Waiting, p.WaitUntil = reason, until })
	})
	r.update(func(*Progress) {})
	return r
}

// update changes the run's progress and shows it to Config.Progress.
func (r *run) update(change func(*Progress)) {
	r.mu.Lock()
	change(&r.progress)
	snap := r.progress
	r.mu.Unlock()
	if r.e.cfg.Progress != nil {
		r.e.cfg.Progress(snap)
	}
}

func (r *run) warn(code, msg string) {
	r.rep.Warnings = append(r.rep.Warnings, WarningItem{Code: code, Message: msg, Timestamp: r.e.cfg.Now().UTC()})
}

// fail records an error of the whole run (no user to name).
func (r *run) fail(code string, err error) {
	r.rep.Errors = append(r.rep.Errors, ErrorItem{Code: code, Message: err.Error(), Timestamp: r.e.cfg.Now().UTC(), PSAError: psaErrorText(err)})
}

// enumerate is step 1: read the users the run covers, as a delta round
// (from scratch for a full run), and count the tenant's enabled users. It
// returns the delta link to keep.
func (r *run) enumerate(ctx context.Context) ([]directory.User, string, error) {
	link := ""
	if !r.full {
		var err error
		if link, err = r.e.store.DeltaLink(ctx, r.t.ID); err != nil {
			return nil, "", err
		}
		if link == "" {
			r.full = true
			r.warn(WarnDeltaReset, "no delta link stored for this tenant; enumerated every user")
		}
	}
	var res directory.DeltaResult
	var err error
	if !r.full {
		res, err = r.delta(ctx, link)
		if errors.Is(err, directory.ErrDeltaExpired) {
			r.full = true
			r.warn(WarnDeltaReset, "the stored delta link has expired; enumerated every user")
		}
	}
	if r.full {
		r.rep.SyncMode = ModeFull
		res, err = r.listAll(ctx)
	}
	if err != nil {
		return nil, "", fmt.Errorf("read users of tenant %s from Microsoft Graph: %w", r.t.ID, err)
	}
	users := res.Users
	if r.full {
		r.rep.Statistics.TotalOffice365Users = countEnabled(users)
	} else {
		if err := r.readPartialUsers(ctx, users); err != nil {
			return nil, "", err
		}
		r.countEnabledUsers(ctx)
	}
	r.update(func(p *Progress) { p.UsersEnumerated = len(users) })
	return users, res.DeltaLink, nil
}

// listAll enumerates the tenant for a full run: first a delta link that
// starts now, then every user in pages of 999 (a tenth of the requests of a
// delta enumeration, whose pages hold 100). A change made while the users
// are listed is in the next delta round as well: it may be seen twice,
// never lost.
func (r *run) listAll(ctx context.Context) (directory.DeltaResult, error) {
	var res directory.DeltaResult
	err := r.w.do(ctx, func() error {
		var err error
		res.DeltaLink, err = r.t.Directory.LatestDeltaLink(ctx)
		return err
	})
	if err != nil {
		return res, err
	}
	err = r.w.do(ctx, func() error {
		res.Users = res.Users[:0]
		for u, err := range r.t.Directory.ListUsers(ctx) {
			if err != nil {
				return err
			}
			res.Users = append(res.Users, u)
			if len(res.Users)%1000 == 0 {
				r.update(func(p *Progress) { p.UsersEnumerated = len(res.Users) })
			}
		}
		return nil
	})
	return res, err
}

func (r *run) delta(ctx context.Context, link string) (directory.DeltaResult, error) {
	var res directory.DeltaResult
	err := r.w.do(ctx, func() error {
		var err error
		res, err = r.t.Directory.Delta(ctx, link)
		return err
	})
	return res, err
}

// readPartialUsers reads whole the delta items that carry only the changed
// properties.
func (r *run) readPartialUsers(ctx context.Context, users []directory.User) error {
	for i, u := range users {
		if u.Deleted() || u.UserPrincipalName != "" {
			continue
		}
		err := r.w.do(ctx, func() error {
			var err error
			users[i], err = r.t.Directory.GetUser(ctx, u.ID)
			return err
		})
		if errors.Is(err, directory.ErrNotFound) {
			users[i] = directory.User{ID: u.ID, Removed: &directory.Removed{Reason: "deleted"}}
		} else if err != nil {
			return fmt.Errorf("read user %s: %w", u.ID, err)
		}
	}
	return nil
}

// countEnabled counts the enabled users of a full enumeration.
func countEnabled(users []directory.User) int {
	n := 0
	for _, u := range users {
		if !u.Deleted() && u.Enabled() {
			n++
		}
	}
	return n
}

// countEnabledUsers asks Graph for the tenant's enabled users (one
// request): an incremental run sees only the users that changed.
func (r *run) countEnabledUsers(ctx context.Context) {
	var n int
	err := r.w.do(ctx, func() error {
		var err error
		n, err = r.t.Directory.CountEnabledUsers(ctx)
		return err
	})
	if err != nil {
		r.warn(WarnUserCountUnavailable, "could not count the tenant's enabled users, so total_office365_users is 0: "+err.Error())
		return
	}
	r.rep.Statistics.TotalOffice365Users = n
}

// links reads the tenant's stored user-contact links; without Redis the
// run matches in the PSA instead.
func (r *run) links(ctx context.Context) map[string]Link {
	links, err := r.e.store.Links(ctx, r.t.ID)
	if err != nil {
		r.log.WithError(err).Warn("link cache unavailable; matching by object id and email")
		return map[string]Link{}
	}
	return links
}

// contacts is step 2: read, once and in pages, every company the run's
// users map to and every company a stored link points to; a small
// incremental run asks the PSA per user instead.
func (r *run) contacts(ctx context.Context, users []directory.User, links map[string]Link) (contactSource, error) {
	if !r.full && len(users) <= r.e.cfg.BulkThreshold {
		return liveSource{e: r.e, w: r.w}, nil
	}
	r.update(func(p *Progress) { p.Phase = PhaseReading })
	want := map[string]bool{}
	pl := r.e.newPlanner(r.t, r.in, nil, nil)
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
		cs, err := r.e.listContacts(ctx, r.w, c)
		if err != nil {
			return nil, err
		}
		idx.companies[c] = newCompanyContacts(cs)
	}
	return idx, nil
}

// plan is step 3: decide for every user, and, in a full run of the whole
// tenant, for the contacts whose users are gone.
func (r *run) plan(ctx context.Context, src contactSource, users []directory.User, links map[string]Link) []*userPlan {
	r.update(func(p *Progress) { p.Phase = PhasePlanning })
	linkOf := func(_ context.Context, user string) (Link, bool, error) { l, ok := links[user]; return l, ok, nil }
	pl := r.e.newPlanner(r.t, r.in, src, linkOf)
	plans := make([]*userPlan, 0, len(users))
	seen := make(map[string]bool, len(users))
	for _, u := range users {
		seen[u.ID] = true
		if p := pl.plan(ctx, u); p.kind != actIgnore {
			plans = append(plans, p)
		}
	}
	if r.full && !r.in.narrowed() {
		if idx, ok := src.(*bulkIndex); ok {
			addExclusiveLinks(r.t, idx, links, seen)
		}
		plans = append(plans, planOrphans(ctx, pl, links, seen)...)
	}
	planned := 0
	for _, p := range plans {
		if p.kind == actCreate || p.kind == actUpdate {
			planned++
		}
	}
	r.update(func(p *Progress) { p.Planned = planned })
	return plans
}

// settleConflicts is step 3b: the plans meet the operator's decisions on
// conflicts (a dry run honours them but records nothing).
func (r *run) settleConflicts(ctx context.Context, plans []*userPlan) {
	book := r.e.loadConflicts(ctx, r.t.ID)
	for _, p := range plans {
		if r.in.DryRun {
			if book.ignored[p.user.ID] {
				p.kind, p.reason = actSkip, skipIgnoredConflict
			}
			continue
		}
		r.e.settleConflict(ctx, r.t.ID, p, book.open[p.user.ID], book.ignored[p.user.ID])
	}
}

// write is step 5: carry out the plans, a few at a time, each under its
// user's lock.
func (r *run) write(ctx context.Context, plans []*userPlan) []applyResult {
	r.update(func(p *Progress) { p.Phase = PhaseApplying })
	results := make([]applyResult, len(plans))
	sem := make(chan struct{}, r.e.cfg.Concurrency)
	var wg sync.WaitGroup
	for i, p := range plans {
		if p.kind != actCreate && p.kind != actUpdate {
			results[i] = applyResult{plan: p}
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			results[i] = r.writeLocked(ctx, p)
			r.update(func(pr *Progress) {
				if results[i].err != nil {
					pr.Failed++
				} else {
					pr.Written++
				}
			})
		}()
	}
	wg.Wait()
	return results
}

// writeLocked writes a run's plan under the user's lock, so a per-user job
// that started before the run cannot write the same contact at the same
// time. When the lock was contended, a job has just synced the user from
// fresher Graph data than the run's: the run's plan is stale, so it is
// skipped (the next run sees the result).
func (r *run) writeLocked(ctx context.Context, p *userPlan) applyResult {
	if r.in.DryRun || p.user.ID == "" {
		return r.e.write(ctx, r.w, r.t.ID, p, r.in.DryRun, r.changes)
	}
	lock, err := r.e.store.lockUser(ctx, r.t.ID, p.user.ID, 30*time.Second, 2*time.Minute)
	if err != nil {
		return r.e.failed(p, CodePSAConnectionError, fmt.Errorf("wait for the job of user %s: %w", p.upn, err))
	}
	defer lock.Release()
	if lock.Contended {
		p.kind, p.reason = actSkip, "synced by a per-user job during the run"
		return applyResult{plan: p}
	}
	return r.e.write(ctx, r.w, r.t.ID, p, false, r.changes)
}

// recorderFlush bounds how long a run's change-log entry waits for its
// batch: what a crash of the process can cost the log.
const recorderFlush = 100 * time.Millisecond

// closeRecorder appends the run's last entries; entries the log could not
// take are a warning of the run (the writes themselves went through).
func (r *run) closeRecorder() {
	if err := r.changes.rec.Close(); err != nil {
		r.warn(WarnChangeLogIncomplete, "some writes of this run are missing from the change log: "+err.Error())
	}
}

// keepDeltaLink stores the new delta link when the run saw the whole tenant
// and everything went through, so the next incremental run starts there.
func (r *run) keepDeltaLink(ctx context.Context, link string) {
	if len(r.rep.Errors) > 0 || r.in.DryRun || r.in.narrowed() || link == "" {
		return
	}
	if err := r.e.store.SetDeltaLink(ctx, r.t.ID, link); err != nil {
		r.warn(WarnDeltaReset, "could not store the new delta link; the next incremental run enumerates every user: "+err.Error())
	}
}

// finish completes the report: totals, throttling, duration, order.
func (r *run) finish() *Report {
	rep := r.rep
	rep.Throttling = r.w.throttling()
	if rep.Throttling.Events > 0 {
		r.warn(WarnThrottled, fmt.Sprintf("waited %d times, %s in all, as the PSA or Graph asked", rep.Throttling.Events, time.Duration(rep.Throttling.WaitedMS)*time.Millisecond))
	}
	rep.Statistics.Errors = len(rep.Errors)
	rep.Success = len(rep.Errors) == 0
	rep.DurationMS = r.e.cfg.Now().Sub(r.start).Milliseconds()
	sortReport(rep)
	r.update(func(p *Progress) { p.Phase, p.Waiting = PhaseDone, "" })
	r.log.WithFields(logrus.Fields{"created": rep.Statistics.ContactsCreated, "updated": rep.Statistics.ContactsUpdated,
		"skipped": rep.Statistics.ContactsSkipped, "errors": rep.Statistics.Errors, "duration_ms": rep.DurationMS}).Info("run finished")
	return rep
}
