package worker

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// Run performs a full or incremental run and returns its report. The error
// is only for a run that could not start (bad inputs, unknown or disabled
// tenant, another run of the tenant in progress); failures of Graph or the
// PSA are in the report.
//
// A run's steps, in order: enumerate the users (enumerate.go), read the
// contacts, plan each user (plan step: runplan.go), guard against mass
// deactivation, write, report. A full run lists its users while it plans
// them, page by page, and keeps only the plans that write or need
// attention, so its memory follows the changes, not the tenant's size.
func (e *Engine) Run(ctx context.Context, runID string, in RunInputs) (*Report, error) {
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("run inputs: %w", err)
	}
	ctx = psa.WithTenant(ctx, in.Tenant) // its PSA calls count against the tenant's fair share
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
	links := r.links(ctx)
	users, deltaLink, err := r.enumerate(ctx)
	if err != nil {
		r.fail(errorCode(err, CodeGraphError), err)
		return r.end(ctx), nil
	}
	src, err := r.contacts(ctx, users, links)
	if err != nil {
		r.fail(errorCode(err, CodePSAConnectionError), err)
		return r.end(ctx), nil
	}
	plans, err := r.plan(ctx, src, users, links)
	if err != nil {
		r.fail(errorCode(err, CodeGraphError), err)
		return r.end(ctx), nil
	}
	if r.full {
		deltaLink = plans.deltaLink
	}
	r.guard(ctx, src, links, plans.kept)
	r.changes = changeLog{trigger: RunTrigger(r.rep.RunID, r.rep.SyncMode), rec: e.ledger.NewRecorder(context.WithoutCancel(ctx), 0, recorderFlush)}
	results := r.write(ctx, plans.kept)
	r.closeRecorder()
	r.record(ctx, results, links, plans)
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
			results[i].slim(r.in.DryRun)
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
