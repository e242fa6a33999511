package app

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/psasync/psasync/console"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/worker"
)

// consoleOperator carries out the console's decisions through the
// engine's operator actions, the path the CLI and the API take.
type consoleOperator struct{ e *worker.Engine }

// refused marks the errors that mean "not done as asked" for the console.
func refused(err error) error {
	for _, target := range []error{ledger.ErrNotFound, ledger.ErrNotOpen, ledger.ErrNotCandidate, ledger.ErrStale,
		ledger.ErrNotInBatch, worker.ErrContactGone, worker.ErrUnknownTenant} {
		if errors.Is(err, target) {
			return fmt.Errorf("%w: %w", console.ErrRefused, err)
		}
	}
	var pe *ledger.ParamError
	if errors.As(err, &pe) {
		return fmt.Errorf("%w: %w", console.ErrRefused, err)
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
	if errors.Is(err, worker.ErrUnknownUser) || errors.Is(err, worker.ErrTenantBusy) {
		return nil, fmt.Errorf("%w: %w", console.ErrRefused, err)
	}
	if err != nil {
		return nil, refused(err)
	}
	return tr, nil
}
