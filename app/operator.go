package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

// operator carries out an operator's actions on the engine, for the API
// (webhook.Operator) and the CLI alike.
type operator struct{ e *worker.Engine }

var _ webhook.Operator = operator{}

func (o operator) ResolveConflict(ctx context.Context, tenant, user, contactID, actor string) (json.RawMessage, error) {
	c, out, err := o.e.ResolveConflict(ctx, tenant, user, contactID, actor)
	return answer(struct {
		Conflict ledger.Conflict    `json:"conflict"`
		Outcome  worker.UserOutcome `json:"outcome"`
	}{c, out}, err)
}

func (o operator) IgnoreConflict(ctx context.Context, tenant, user, actor string) (json.RawMessage, error) {
	c, err := o.e.IgnoreConflict(ctx, tenant, user, actor)
	return answer(struct {
		Conflict ledger.Conflict `json:"conflict"`
	}{c}, err)
}

func (o operator) ApproveHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (json.RawMessage, error) {
	res, err := o.e.ApproveHeld(ctx, batchID, contactIDs, actor)
	return answer(res, err)
}

func (o operator) RejectHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (json.RawMessage, error) {
	b, err := o.e.RejectHeld(ctx, batchID, contactIDs, actor)
	return answer(struct {
		Batch ledger.HeldBatch `json:"batch"`
	}{b}, err)
}

func (o operator) ReleaseUser(ctx context.Context, tenant, user, actor string) (json.RawMessage, error) {
	ok, err := o.e.ReleaseUser(ctx, tenant, user, actor)
	return answer(map[string]bool{"released": ok}, err)
}

func (o operator) ReleaseTenant(ctx context.Context, tenant, actor string) (json.RawMessage, error) {
	ok, err := o.e.ReleaseTenant(ctx, tenant, actor)
	return answer(map[string]bool{"released": ok}, err)
}

func (o operator) SyncUser(ctx context.Context, tenant, user string, dryRun bool, actor string) (json.RawMessage, error) {
	tr, err := o.e.SyncUserTrace(ctx, tenant, user, dryRun, actor)
	return answer(tr, err)
}

// answer encodes what an action did, or says why it was refused.
func answer(v any, err error) (json.RawMessage, error) {
	if err != nil {
		return nil, refusal(err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode the answer: %w", err)
	}
	return b, nil
}

// refusal classes an action's error for the caller: unknown things are
// 404, stale ones 409, wrong choices 400, each with the error's words.
func refusal(err error) error {
	switch {
	case errors.Is(err, worker.ErrUnknownTenant), errors.Is(err, worker.ErrUnknownUser), errors.Is(err, ledger.ErrNotFound):
		return webhook.NotFound("%v", err)
	case errors.Is(err, ledger.ErrNotOpen), errors.Is(err, ledger.ErrStale), errors.Is(err, worker.ErrTenantBusy),
		errors.Is(err, worker.ErrContactGone), errors.Is(err, worker.ErrUserLocked):
		return webhook.Conflict("%v", err)
	case errors.Is(err, ledger.ErrNotCandidate), errors.Is(err, ledger.ErrNotInBatch):
		return webhook.BadRequest("%v", err)
	}
	return err
}

// Operator actions of the CLI.
const (
	ActionResolveConflict = "resolve-conflict"
	ActionIgnoreConflict  = "ignore-conflict"
	ActionApproveHeld     = "approve-held"
	ActionRejectHeld      = "reject-held"
	ActionReleaseUser     = "release-user"
	ActionReleaseTenant   = "release-tenant"
	ActionSyncUser        = "sync-user"
)

// OperateOptions are the inputs of an operator's command (psasync
// conflicts resolve|ignore, held approve|reject, quarantine release,
// sync-user).
type OperateOptions struct {
	Source Source
	// Action is one of the Action* constants.
	Action string
	// Tenant is an id or name; empty means the only configured tenant.
	Tenant, User, Contact, Batch string
	// UPN names the user by principal name (sync-user), instead of User.
	UPN      string
	Contacts []string
	DryRun   bool
	// Stdout gets the JSON answer; Stderr the logs.
	Stdout, Stderr io.Writer
}

// Operate carries out one operator action and writes what it did. A
// refusal (an unknown tenant, user, conflict or batch, a stale one, a
// contact that is not a candidate) is ErrBadConfig naming what was wrong,
// and changes nothing.
func Operate(ctx context.Context, o OperateOptions) error {
	if err := o.check(); err != nil {
		return badConfig(err)
	}
	tenant := o.Tenant
	a, closeApp, err := o.Source.openApp(ctx, o.Stderr, func(cfg *config.Config, _ *logrus.Logger, _ *Options) error {
		if o.Action == ActionApproveHeld || o.Action == ActionRejectHeld {
			return nil
		}
		t, err := cfg.SelectTenant(o.Tenant)
		switch {
		case errors.Is(err, config.ErrUnknownTenant) && o.Tenant != "":
			return nil // an accepted (onboarded) tenant, or a 404 from the engine
		case err != nil:
			return badConfig(fmt.Errorf("--tenant: %w", err))
		}
		tenant = t.ID
		return nil
	})
	if err != nil {
		return err
	}
	defer closeApp()
	op, actor := operator{e: a.engine}, cliActor()
	var out json.RawMessage
	switch o.Action {
	case ActionResolveConflict:
		out, err = op.ResolveConflict(ctx, tenant, o.User, o.Contact, actor)
	case ActionIgnoreConflict:
		out, err = op.IgnoreConflict(ctx, tenant, o.User, actor)
	case ActionApproveHeld:
		out, err = op.ApproveHeld(ctx, o.Batch, o.Contacts, actor)
	case ActionRejectHeld:
		out, err = op.RejectHeld(ctx, o.Batch, o.Contacts, actor)
	case ActionReleaseUser:
		out, err = op.ReleaseUser(ctx, tenant, o.User, actor)
	case ActionReleaseTenant:
		out, err = op.ReleaseTenant(ctx, tenant, actor)
	case ActionSyncUser:
		who := o.User
		if who == "" {
			who = o.UPN
		}
		out, err = op.SyncUser(ctx, tenant, who, o.DryRun, actor)
	default:
		return badConfig(fmt.Errorf("unknown operator action %q", o.Action))
	}
	var refused *webhook.StatusError
	switch {
	case errors.As(err, &refused), errors.Is(err, webhook.ErrBadRequest):
		return badConfig(err)
	case err != nil:
		return classify(err, ErrRunFailed)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, out, "", "  "); err != nil {
		return classify(fmt.Errorf("format the answer: %w", err), ErrRunFailed)
	}
	buf.WriteByte('\n')
	if _, err := o.Stdout.Write(buf.Bytes()); err != nil {
		return classify(fmt.Errorf("write the answer: %w", err), ErrRunFailed)
	}
	return nil
}

// cliActor names the person at the command line for the change log.
func cliActor() string {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	host, _ := os.Hostname()
	return "cli (" + name + "@" + host + ")"
}

// check names the flag an action is missing.
func (o OperateOptions) check() error {
	need := map[string][]struct{ flag, value string }{
		ActionResolveConflict: {{"--user", o.User}, {"--contact", o.Contact}},
		ActionIgnoreConflict:  {{"--user", o.User}},
		ActionApproveHeld:     {{"BATCH", o.Batch}},
		ActionRejectHeld:      {{"BATCH", o.Batch}},
		ActionReleaseUser:     {{"--user", o.User}},
		ActionSyncUser:        {{"--user or --upn", o.User + o.UPN}},
	}
	for _, n := range need[o.Action] {
		if n.value == "" {
			return fmt.Errorf("%s: required", n.flag)
		}
	}
	if o.User != "" && o.UPN != "" {
		return errors.New("--user and --upn: give one of them")
	}
	return nil
}

// DecisionListOptions are the inputs of psasync conflicts|held|quarantine
// list.
type DecisionListOptions struct {
	Source Source
	// What is "conflicts", "held" or "quarantine".
	What           string
	Tenant, Status string
	Stdout, Stderr io.Writer
}

// ListDecisions prints what waits for an operator, as JSON.
func ListDecisions(ctx context.Context, o DecisionListOptions) error {
	return withLedger(ctx, LedgerQueryOptions{Source: o.Source, Stdout: o.Stdout, Stderr: o.Stderr}, func(l *ledger.Ledger) error {
		var v any
		var err error
		switch o.What {
		case "conflicts":
			v, err = l.Conflicts(ctx, o.Tenant, o.Status)
		case "held":
			v, err = l.HeldBatches(ctx, o.Tenant)
		case "quarantine":
			v, err = l.Quarantined(ctx, o.Tenant)
		default:
			return badConfig(fmt.Errorf("unknown list %q", o.What))
		}
		var pe *ledger.ParamError
		if errors.As(err, &pe) {
			return flagParamError(err)
		}
		if err != nil {
			return unavailable(err)
		}
		return writeJSON(o.Stdout, map[string]any{o.What: v})
	})
}
