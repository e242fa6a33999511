package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa"
)

// The per-user path: a change notification becomes a user:sync job
// (ingest.go), and UserSyncHandler runs it here: read the user from Graph,
// plan (plan.go), write (apply.go), keep the outcome.

// UserSyncHandler runs user:sync jobs.
type UserSyncHandler struct {
	Engine *Engine
	Log    logrus.FieldLogger
	// LockTTL bounds how long a crashed worker's lock blocks the user; the
	// lock is renewed while the job runs (default 30 s).
	LockTTL time.Duration
	// Observe, when set, sees every outcome (metrics).
	Observe func(UserOutcome)
}

// ProcessTask syncs one user under its per-user lock; a run of the tenant
// in progress sends the job back to the queue (one writer per tenant).
func (h *UserSyncHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p UserSyncPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.Tenant == "" || p.User == "" {
		return fmt.Errorf("user:sync payload %q: want tenant and user: %w", t.Payload(), asynq.SkipRetry)
	}
	s := h.Engine.store
	if busy, err := s.tenantBusy(ctx, p.Tenant); err != nil {
		return err
	} else if busy {
		return ErrTenantBusy
	}
	ttl := h.LockTTL
	if ttl <= 0 {
		ttl = 30 * time.Second
	}
	lock, err := s.lockUser(ctx, p.Tenant, p.User, ttl, 0)
	if err != nil {
		return err
	}
	defer lock.Release()
	log := h.logger().WithFields(logrus.Fields{"tenant": p.Tenant, "user": p.User})
	if id, ok := asynq.GetTaskID(ctx); ok {
		log = log.WithField("task_id", id)
		// From here on a change needs a job of its own: this one reads the
		// user now.
		if err := s.jobStarted(ctx, p.Tenant, p.User, id); err != nil {
			return err
		}
	}

	out, err := h.Engine.SyncUser(ctx, p.Tenant, p.User)
	log = log.WithField("action", out.Action)
	if serr := s.SaveUserOutcome(ctx, out); serr != nil {
		log.WithError(serr).Warn("could not keep the job's outcome")
	}
	if h.Observe != nil {
		h.Observe(out)
	}
	var perm *PermanentError
	switch {
	case errors.As(err, &perm):
		log.WithField("code", out.Code).Warn(out.Message)
		return fmt.Errorf("%s %s (tenant %s): %w: %w", out.Code, out.UserPrincipalName, p.Tenant, err, asynq.SkipRetry)
	case err != nil:
		log.WithError(err).WithField("code", out.Code).Warn("user sync failed; will retry")
		return fmt.Errorf("%s %s (tenant %s): %w", out.Code, out.UserPrincipalName, p.Tenant, err)
	}
	log.WithField("changed_fields", out.ChangedFields).Info("user synced")
	return nil
}

func (h *UserSyncHandler) logger() logrus.FieldLogger {
	if h.Log != nil {
		return h.Log
	}
	return h.Engine.log
}

// Outcome actions of a per-user job beyond the report's Action* values.
const (
	OutcomeSkipped = "skipped"
	OutcomeFailed  = "failed"
)

// UserOutcome is what one per-user job did: kept in the store as the
// user's last outcome, and seen by metrics and logs.
type UserOutcome struct {
	TenantID          string `json:"tenant_id"`
	UserID            string `json:"user_id"`
	UserPrincipalName string `json:"user_principal_name"`
	// Action is an Action* value, OutcomeSkipped or OutcomeFailed.
	Action        string    `json:"action"`
	ChangedFields []string  `json:"changed_fields,omitempty"`
	ContactID     string    `json:"contact_id,omitempty"`
	Reason        string    `json:"reason,omitempty"`
	Code          string    `json:"code,omitempty"`
	Message       string    `json:"message,omitempty"`
	PSAError      string    `json:"psa_error,omitempty"`
	Warnings      []string  `json:"warnings,omitempty"`
	At            time.Time `json:"at"`
}

// PermanentError marks a per-user failure that retrying cannot fix; the
// asynq handler turns it into SkipRetry.
type PermanentError struct{ Outcome UserOutcome }

func (e *PermanentError) Error() string {
	return fmt.Sprintf("%s: %s", e.Outcome.Code, e.Outcome.Message)
}

// SyncUser syncs one user now: read the user from Graph, plan against the
// contact found live in the PSA, write. It does not wait on the PSA's or
// Graph's rate limits: the error carries the delay for the queue's retry.
//
// Its writes are logged as triggered by a notification (the job's task id,
// when it runs as one).
func (e *Engine) SyncUser(ctx context.Context, tenantID, userID string) (UserOutcome, error) {
	trig := ledger.Trigger{Kind: ledger.TriggerNotification}
	trig.TaskID, _ = asynq.GetTaskID(ctx)
	if e.cfg.SubscriptionOf != nil {
		trig.SubscriptionID = e.cfg.SubscriptionOf(ctx, tenantID)
	}
	return e.jobSync(ctx, tenantID, userID, userSync{trigger: trig})
}

// userSync is how one user is synced: by a job, or on demand.
type userSync struct {
	dryRun bool
	// trace, when set, records every step (sync on demand).
	trace *Trace
	// trigger is what the change log says made the write.
	trigger ledger.Trigger
	// quarantine is the user's quarantine, when it has one: an unchanged
	// user is skipped.
	quarantine *ledger.Quarantine
}

// syncUser is SyncUser with its options; it also returns the user as read.
func (e *Engine) syncUser(ctx context.Context, tenantID, userID string, o userSync) (UserOutcome, directory.User, error) {
	ctx = psa.WithTenant(ctx, tenantID) // its PSA calls count against the tenant's fair share
	out := UserOutcome{TenantID: tenantID, UserID: userID, At: e.cfg.Now().UTC()}
	t, err := e.tenants.Tenant(ctx, tenantID)
	if err != nil {
		out.Action, out.Code, out.Message = OutcomeFailed, CodeUnknownTenant, err.Error()
		return out, directory.User{}, &PermanentError{Outcome: out}
	}
	if !t.SyncEnabled {
		out.Action, out.Reason = OutcomeSkipped, "office365_sync_enabled is false"
		return out, directory.User{}, nil
	}
	u, err := t.Directory.GetUser(ctx, userID)
	if errors.Is(err, directory.ErrNotFound) {
		u = directory.User{ID: userID, Removed: &directory.Removed{Reason: "deleted"}}
	} else if err != nil {
		out.Action, out.Code, out.Message = OutcomeFailed, errorCode(err, CodeGraphError), err.Error()
		return out, directory.User{}, fmt.Errorf("read user %s: %w", userID, err)
	}
	out.UserPrincipalName = u.UserPrincipalName
	if e.stillQuarantined(ctx, o.quarantine, u) {
		out.Action, out.Reason = OutcomeSkipped, skipQuarantined
		return out, u, nil
	}
	if o.trace != nil {
		o.trace.User = traceUser(u)
		o.trace.Steps = append(o.trace.Steps, TraceStep{Step: StepRead, Decision: pick(u.Deleted(), "not found in Microsoft 365", "read"), Rule: "GET /users/{id}"})
	}

	w := e.newWaiter(jobWaits(), e.log.WithFields(logrus.Fields{"tenant": tenantID, "user": userID}), nil)
	in := DefaultRunInputs(tenantID)
	in.DryRun = o.dryRun
	pl := e.newPlanner(t, in, liveSource{e: e, w: w}, func(ctx context.Context, user string) (Link, bool, error) {
		return e.store.GetLink(ctx, tenantID, user)
	})
	pl.trace = o.trace
	prior, known, err := e.ledger.Conflict(ctx, tenantID, userID)
	if err != nil {
		e.log.WithError(err).WithField("user", userID).Warn("could not read the user's conflict")
	}
	p := pl.plan(ctx, u)
	wasOpen, ignored := known && prior.Status == ledger.ConflictOpen, known && prior.Status == ledger.ConflictIgnored
	if o.dryRun {
		if ignored {
			p.kind, p.reason = actSkip, skipIgnoredConflict
		}
	} else {
		e.settleConflict(ctx, tenantID, p, wasOpen, ignored)
	}
	res := e.write(ctx, w, tenantID, p, o.dryRun, changeLog{trigger: o.trigger})
	if res.plan.kind == actSkip && res.plan.link != nil && !o.dryRun {
		e.storeLink(ctx, tenantID, res.plan)
	}
	out, err = e.userOutcome(out, res)
	if o.trace != nil {
		o.trace.Steps = append(o.trace.Steps, writeStep(res, o.dryRun))
	}
	return out, u, err
}

// writeStep is the trace's last step: the action and the PSA's answer.
func writeStep(res applyResult, dryRun bool) TraceStep {
	p := res.plan
	switch {
	case res.err != nil:
		return TraceStep{Step: StepWrite, Decision: "failed", Rule: res.err.Code, Detail: res.err.Message + pick(res.err.PSAError != "", "; the PSA said: "+res.err.PSAError, "")}
	case p.kind == actError:
		return TraceStep{Step: StepWrite, Decision: "not written", Rule: p.errCode, Detail: p.errMsg}
	case p.kind != actCreate && p.kind != actUpdate:
		return TraceStep{Step: StepWrite, Decision: "nothing written", Rule: p.reason}
	case dryRun:
		return TraceStep{Step: StepWrite, Decision: "dry run: " + p.action + " not written", Changes: p.written()}
	}
	return TraceStep{Step: StepWrite, Decision: p.action, Detail: "the PSA answered with contact " + res.written.ID + " in company " + res.written.CompanyID, Changes: p.written()}
}

// ErrUnknownUser is returned by SyncUserTrace for a user Microsoft 365
// does not have and psasync never linked.
var ErrUnknownUser = errors.New("unknown user")

// SyncUserTrace syncs one user on demand, under the user's lock like a
// job, and returns every step. user is an object id or a user principal
// name. A dry run plans and writes nothing. Writes are logged as the
// operator actor's.
func (e *Engine) SyncUserTrace(ctx context.Context, tenantID, user string, dryRun bool, actor string) (*Trace, error) {
	start := e.cfg.Now()
	t, err := e.tenants.Tenant(ctx, tenantID)
	if err != nil {
		return nil, fmt.Errorf("tenant %s: %w", tenantID, err)
	}
	u, err := t.Directory.GetUser(ctx, user)
	switch {
	case errors.Is(err, directory.ErrNotFound):
		if _, linked, lerr := e.store.GetLink(ctx, tenantID, user); lerr != nil || !linked {
			return nil, fmt.Errorf("user %s in tenant %s: %w", user, tenantID, ErrUnknownUser)
		}
		u.ID = user // linked, now deleted: the sync deactivates its contact
	case err != nil:
		return nil, fmt.Errorf("read user %s: %w", user, err)
	}
	if busy, err := e.store.tenantBusy(ctx, tenantID); err != nil {
		return nil, err
	} else if busy && !dryRun {
		return nil, fmt.Errorf("tenant %s: %w", tenantID, ErrTenantBusy)
	}
	tr := &Trace{Tenant: tenantID, DryRun: dryRun}
	if !dryRun {
		lock, err := e.store.lockUser(ctx, tenantID, u.ID, 30*time.Second, 10*time.Second)
		if err != nil {
			return nil, fmt.Errorf("wait for the job of user %s: %w", user, err)
		}
		defer lock.Release()
	}
	tr.Outcome, _, err = e.syncUser(ctx, tenantID, u.ID, userSync{dryRun: dryRun, trace: tr, trigger: OperatorTrigger(actor)})
	tr.DurationMS = e.cfg.Now().Sub(start).Milliseconds()
	var perm *PermanentError
	if err != nil && !errors.As(err, &perm) {
		return tr, err
	}
	return tr, nil
}

// userOutcome turns a write's result into the job's outcome and error.
func (e *Engine) userOutcome(out UserOutcome, res applyResult) (UserOutcome, error) {
	p := res.plan
	for _, wi := range p.warnings {
		out.Warnings = append(out.Warnings, wi.Code)
	}
	if p.upn != "" {
		out.UserPrincipalName = p.upn
	}
	out.ContactID = res.written.ID
	// A failed write is retried unless its code says the data is wrong; a
	// failed plan is permanent also when the PSA called the input invalid.
	var code, msg string
	var cause, permanentCause error
	switch {
	case res.err != nil:
		code, msg, cause = res.err.Code, res.err.Message, res.cause
	case p.kind == actError:
		code, msg, cause = p.errCode, p.errMsg, p.cause
		permanentCause = p.cause
	case p.kind == actCreate, p.kind == actUpdate:
		out.Action = p.action
		for _, f := range p.fields {
			out.ChangedFields = append(out.ChangedFields, string(f))
		}
		return out, nil
	default:
		out.Action, out.Reason = OutcomeSkipped, p.reason
		return out, nil
	}
	out.Action, out.Code, out.Message, out.PSAError = OutcomeFailed, code, msg, psaErrorText(cause)
	if permanent(code, permanentCause) {
		return out, &PermanentError{Outcome: out}
	}
	if cause == nil {
		cause = errors.New(msg)
	}
	return out, cause
}
