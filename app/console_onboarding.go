package app

import (
	"context"
	"fmt"

	"github.com/psasync/psasync/onboarding"
)

// consoleOnboarder gives the console tenant discovery and onboarding
// through the same operations as the onboarding API (tenantOps), with the
// API's refusal classes (apiError).
type consoleOnboarder struct{ ops tenantOps }

func (o consoleOnboarder) Proposals(ctx context.Context, status string) ([]onboarding.Proposal, error) {
	st, err := onboarding.ParseStatus(status)
	if err != nil {
		return nil, shown(apiError(fmt.Errorf("status: %w", err)))
	}
	ps, err := o.ops.a.onboard.List(ctx, st)
	return ps, shown(apiError(err))
}

func (o consoleOnboarder) Discover(ctx context.Context) (string, error) {
	res, err := o.ops.discover(ctx, false)
	if err != nil {
		return "", shown(apiError(err))
	}
	return fmt.Sprintf("Discovered %d tenants: %d need review, %d accepted, %d rejected, %d without consent.",
		len(res.Proposals), res.NeedsReview, res.Accepted, res.Rejected, res.NoConsent), nil
}

func (o consoleOnboarder) Accept(ctx context.Context, tenantID, companyID string, writeBack bool) (string, error) {
	res, err := o.ops.accept(ctx, tenantID, onboarding.AcceptOptions{CompanyID: companyID, WriteBack: writeBack})
	if err != nil {
		return "", shown(apiError(err))
	}
	msg := fmt.Sprintf("%s is accepted and mapped to company %s.", firstNonEmpty(res.Name, res.TenantID), companyOf(res.Proposal))
	if res.DryRunID != "" {
		msg += " Its first dry run is " + res.DryRunID + "."
	}
	if res.Note != "" {
		msg += " Note: " + res.Note + "."
	}
	return msg, nil
}

func (o consoleOnboarder) Reject(ctx context.Context, tenantID, reason string) (string, error) {
	p, err := o.ops.a.onboard.Reject(ctx, tenantID, reason)
	if err != nil {
		return "", shown(apiError(err))
	}
	return fmt.Sprintf("%s is rejected: discoveries keep it aside.", firstNonEmpty(p.Name, p.TenantID)), nil
}

func companyOf(p onboarding.Proposal) string {
	if p.Company == nil {
		return "(none)"
	}
	return p.Company.CompanyName + " (" + p.Company.CompanyID + ")"
}
