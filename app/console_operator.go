package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/psasync/psasync/console"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

// consoleOperator carries out the console's decisions through the
// engine's operator actions, the path the API and the CLI take (operator),
// and classes refusals as the API does (refusal).
type consoleOperator struct{ e *worker.Engine }

// refused marks what the operator API answers 4xx as a refusal the
// console shows.
func refused(err error) error { return shown(refusal(err)) }

// shown turns an API class of refusal (a *webhook.StatusError or
// *webhook.RequestError) into the console's, keeping its words.
func shown(err error) error {
	var se *webhook.StatusError
	var re *webhook.RequestError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("%w: %s", console.ErrRefused, se.Message)
	case errors.As(err, &re):
		return fmt.Errorf("%w: %s", console.ErrRefused, re.Message)
	}
	return err
}

func (o consoleOperator) ResolveConflict(ctx context.Context, tenant, user, contactID, actor string) (string, error) {
	c, out, err := o.e.ResolveConflict(ctx, tenant, user, contactID, actor)
	if err != nil {
		return "", refused(err)
	}
	return fmt.Sprintf("%s is linked to contact %s and was synced (%s).", c.UPN, contactID, firstNonEmpty(out.Action, "no change")), nil
}

func (o consoleOperator) IgnoreConflict(ctx context.Context, tenant, user, actor string) (string, error) {
	c, err := o.e.IgnoreConflict(ctx, tenant, user, actor)
	if err != nil {
		return "", refused(err)
	}
	return fmt.Sprintf("%s is ignored: syncs leave it alone until its conflict reopens.", c.UPN), nil
}

func (o consoleOperator) ApproveHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (string, error) {
	res, err := o.e.ApproveHeld(ctx, batchID, contactIDs, actor)
	if err != nil {
		return "", refused(err)
	}
	msg := fmt.Sprintf("Approved: %d contacts deactivated, %d needed no write.", len(res.Deactivated), len(res.Skipped))
	for _, sk := range res.Skipped {
		msg += fmt.Sprintf(" %s: %s.", sk.UserPrincipalName, sk.Reason)
	}
	if len(res.Errors) > 0 {
		var codes []string
		for _, e := range res.Errors {
			codes = append(codes, e.UserPrincipalName+" ("+e.Code+")")
		}
		msg += fmt.Sprintf(" The PSA refused %d: %s.", len(res.Errors), strings.Join(codes, ", "))
	}
	return msg, nil
}

func (o consoleOperator) RejectHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (string, error) {
	b, err := o.e.RejectHeld(ctx, batchID, contactIDs, actor)
	if err != nil {
		return "", refused(err)
	}
	n := 0
	for _, c := range b.Contacts {
		if c.Status == ledger.HeldRejected {
			n++
		}
	}
	return fmt.Sprintf("Rejected: %d contacts of the batch stay active and are not held again while their reason stands.", n), nil
}

// SyncUser syncs one user now through the engine's sync-user path.
func (o consoleOperator) SyncUser(ctx context.Context, tenant, user string, dryRun bool, actor string) (*worker.Trace, error) {
	tr, err := o.e.SyncUserTrace(ctx, tenant, user, dryRun, actor)
	if err != nil {
		return nil, refused(err)
	}
	return tr, nil
}

func (o consoleOperator) Release(ctx context.Context, tenant, user, actor string) (string, error) {
	var (
		ok  bool
		err error
	)
	what := "user " + user
	if user == "" {
		what = "tenant " + tenant
		ok, err = o.e.ReleaseTenant(ctx, tenant, actor)
	} else {
		ok, err = o.e.ReleaseUser(ctx, tenant, user, actor)
	}
	if err != nil {
		return "", refused(err)
	}
	if !ok {
		return "", fmt.Errorf("%w: %s is not quarantined", console.ErrRefused, what)
	}
	return fmt.Sprintf("Released %s: its jobs run again.", what), nil
}
