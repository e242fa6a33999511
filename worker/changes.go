package worker

import (
	"context"
	"strconv"
	"strings"

	"github.com/hibiken/asynq"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa"
)

// FieldChange is one field's old and new value in a write: what the change
// log records and what a report (a dry run's too) shows for each item.
type FieldChange = ledger.FieldChange

// fieldChanges lists the old and new value of each field an update writes.
func fieldChanges(current, next psa.Contact, fields []psa.Field) []FieldChange {
	out := make([]FieldChange, 0, len(fields))
	for _, f := range fields {
		out = append(out, FieldChange{Field: string(f), Old: current.Get(f), New: next.Get(f)})
	}
	return out
}

// createdChanges lists the values a new contact is created with (old is
// empty for every field).
func createdChanges(c psa.Contact) []FieldChange {
	var out []FieldChange
	for _, f := range append(psa.CanonicalFields, psa.FieldExternalID) {
		if v := c.Get(f); v != "" && !(f == psa.FieldInactive && v == "false") {
			out = append(out, FieldChange{Field: string(f), New: v})
		}
	}
	return out
}

// written is what the plan writes, field by field: an update's old and
// new values, or every value of a create.
func (p *userPlan) written() []FieldChange {
	if p.kind == actCreate {
		return createdChanges(p.contact)
	}
	return p.changes
}

// RunTrigger is the change-log trigger of a run's writes.
func RunTrigger(runID, mode string) ledger.Trigger {
	return ledger.Trigger{Kind: ledger.TriggerRun, RunID: runID, Mode: mode}
}

// OperatorTrigger is the change-log trigger of an operator's action; actor
// names the token or user that acted.
func OperatorTrigger(actor string) ledger.Trigger {
	return ledger.Trigger{Kind: ledger.TriggerOperator, Actor: actor}
}

// changeLog is where a write's entry goes: what triggered it and, for a
// run, the recorder that appends its entries in batches beside the writes.
type changeLog struct {
	trigger ledger.Trigger
	// rec is nil for a job or an operator's action: their entry is
	// appended at once.
	rec *ledger.Recorder
}

// logWrite appends a write (or failed attempt) to the change log. The PSA
// has already answered, so a change log that cannot be reached costs the
// entry and a warning, never the write.
func (e *Engine) logWrite(ctx context.Context, tenant string, res applyResult, cl changeLog) {
	if e.cfg.ChangeLogOff {
		return
	}
	trig := cl.trigger
	p := res.plan
	ent := ledger.Entry{
		Time: e.cfg.Now().UTC(), Tenant: tenant, UserID: p.user.ID, UPN: p.upn,
		CompanyID: p.contact.CompanyID, ContactID: res.written.ID, Action: p.action, Changes: p.written(),
		Trigger: trig, Result: ledger.ResultWritten,
	}
	if ent.ContactID == "" {
		ent.ContactID = p.contact.ID
	}
	if res.written.CompanyID != "" {
		ent.CompanyID = res.written.CompanyID
	}
	if res.err != nil {
		ent.Result, ent.ErrorCode, ent.PSAError = ledger.ResultFailed, res.err.Code, res.err.PSAError
		if ent.PSAError == "" {
			ent.PSAError = res.err.Message
		}
	}
	ent.Key = entryKey(ctx, trig, ent)
	if cl.rec != nil {
		cl.rec.Add(ent)
		return
	}
	if err := e.ledger.Append(ctx, ent); err != nil {
		e.log.WithError(err).WithFields(logrus.Fields{"tenant": tenant, "user": p.user.ID, "contact": ent.ContactID}).
			Warn("could not append the write to the change log")
	}
}

// entryKey makes an entry idempotent per attempt: a job or run retried by
// the queue writes anew (a new attempt), but the same attempt never
// appends twice.
func entryKey(ctx context.Context, trig ledger.Trigger, ent ledger.Entry) string {
	attempt, _ := asynq.GetRetryCount(ctx)
	by := trig.RunID
	if trig.Kind != ledger.TriggerRun {
		by = trig.TaskID
	}
	if by == "" {
		return "" // a CLI run or an operator action happens once
	}
	return strings.Join([]string{trig.Kind, by, strconv.Itoa(attempt), ent.UserID, ent.ContactID, ent.Action, ent.Result}, "|")
}
