package onboarding

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa"
)

// AcceptOptions are the operator's choices when accepting a tenant.
type AcceptOptions struct {
	// CompanyID is the PSA company to map to; empty takes the proposal's.
	CompanyID string
	// WriteBack writes the tenant id into the company's tenant-id field,
	// so rule 1 finds the mapping again after Redis is lost.
	WriteBack bool
}

// Accept maps a discovered tenant to a PSA company and stores the mapping,
// which makes the tenant live for the wiring. It checks, before changing
// anything: the tenant id is a GUID (ErrInvalidTenantID), the tenant is
// not in the config file (ErrConfigured), was discovered
// (ErrUnknownTenant) and is not accepted yet (ErrAlreadyAccepted); a
// company is named or proposed (ErrNoCompany), exists and is active in the
// PSA (ErrUnknownCompany), and belongs to no other tenant
// (ErrCompanyTaken). With WriteBack the tenant id is written to the
// company first; if that fails nothing is stored.
func (s *Service) Accept(ctx context.Context, tenantID string, o AcceptOptions) (Proposal, error) {
	p, err := s.decidable(ctx, tenantID)
	if err != nil {
		return Proposal{}, err
	}
	companies, err := s.psa.ListCompanies(ctx)
	if err != nil {
		return Proposal{}, fmt.Errorf("onboarding: accept %s: list PSA companies: %w", p.TenantID, err)
	}
	taken, err := s.taken(ctx)
	if err != nil {
		return Proposal{}, err
	}
	return s.accept(ctx, p, o, companies, taken)
}

// accept is Accept on what the caller has read already: the proposal, the
// PSA's companies and the companies taken (Discover accepts many tenants
// on one reading).
func (s *Service) accept(ctx context.Context, p Proposal, o AcceptOptions, companies []psa.Company, taken Taken) (Proposal, error) {
	tid := p.TenantID
	cid := strings.TrimSpace(o.CompanyID)
	if cid == "" {
		if p.Company == nil {
			return Proposal{}, fmt.Errorf("tenant %s %w (status %s: %s)", tid, ErrNoCompany, p.Status, p.Reason)
		}
		cid = p.Company.CompanyID
	}
	var company *psa.Company
	for i := range companies {
		if companies[i].ID == cid && !companies[i].Inactive {
			company = &companies[i]
		}
	}
	if company == nil {
		return Proposal{}, fmt.Errorf("company %q is %w", cid, ErrUnknownCompany)
	}
	if owner, ok := taken[cid]; ok && !strings.EqualFold(owner, tid) {
		return Proposal{}, fmt.Errorf("company %s is %w (%s)", cid, ErrCompanyTaken, owner)
	}
	if company.TenantID != "" && !strings.EqualFold(company.TenantID, tid) {
		return Proposal{}, fmt.Errorf("company %s is %w (its tenant-id field holds %s)", cid, ErrCompanyTaken, company.TenantID)
	}
	chosen := Candidate{CompanyID: cid, CompanyName: company.Name, Rule: RuleManual, Evidence: "chosen by the operator"}
	if p.Company != nil && p.Company.CompanyID == cid {
		chosen = *p.Company
	} else {
		for _, c := range p.Candidates {
			if c.CompanyID == cid {
				chosen = c
			}
		}
	}
	chosen.CompanyName = company.Name
	if o.WriteBack && !strings.EqualFold(company.TenantID, tid) {
		_, err := s.psa.SetCompanyTenantID(ctx, cid, tid)
		s.logWriteBack(ctx, tid, *company, err)
		if err != nil {
			return Proposal{}, fmt.Errorf("onboarding: accept %s: write the tenant id to company %s: %w", tid, cid, err)
		}
		p.WrittenBack = true
	}
	p.Status, p.Company, p.Candidates, p.Reason, p.DecidedAt = StatusAccepted, &chosen, nil, "", s.cfg.Clock().UTC()
	if err := s.store.SaveAccepted(ctx, p); err != nil {
		return Proposal{}, err
	}
	s.cfg.Logger.WithFields(map[string]any{"tenant": tid, "company": cid, "rule": chosen.Rule}).Info("onboarding: tenant accepted")
	return p, nil
}

// ActionCompanyTenantID is the change log's action for a write-back of
// the tenant id to a PSA company.
const ActionCompanyTenantID = "company_tenant_id"

// logWriteBack records a write-back (or its failure) in the change log
// and the log.
func (s *Service) logWriteBack(ctx context.Context, tid string, company psa.Company, err error) {
	e := ledger.Entry{Tenant: tid, CompanyID: company.ID, Action: ActionCompanyTenantID,
		Changes: []ledger.FieldChange{{Field: "tenant_id", Old: company.TenantID, New: tid}},
		Trigger: ledger.Trigger{Kind: ledger.TriggerOperator, Actor: "onboarding accept"}, Result: ledger.ResultWritten}
	log := s.cfg.Logger.WithFields(map[string]any{"tenant": tid, "company": company.ID})
	if err != nil {
		e.Result, e.PSAError = ledger.ResultFailed, err.Error()
		log.WithError(err).Warn("onboarding: could not write the tenant id to the PSA company")
	} else {
		log.Info("onboarding: wrote the tenant id to the PSA company")
	}
	if s.cfg.ChangeLog != nil {
		if lerr := s.cfg.ChangeLog.Append(ctx, e); lerr != nil {
			log.WithError(lerr).Warn("onboarding: could not record the write-back in the change log")
		}
	}
}

// Reject records that the operator does not want a tenant synced;
// discovery keeps the decision. Errors are Accept's (an accepted tenant
// cannot be rejected: ErrAlreadyAccepted).
func (s *Service) Reject(ctx context.Context, tenantID, reason string) (Proposal, error) {
	p, err := s.decidable(ctx, tenantID)
	if err != nil {
		return Proposal{}, err
	}
	if p.Status == StatusRejected {
		return p, nil
	}
	p.Status, p.Reason, p.DecidedAt = StatusRejected, firstOf(reason, "rejected by the operator"), s.cfg.Clock().UTC()
	if err := s.store.SaveRejected(ctx, p); err != nil {
		return Proposal{}, fmt.Errorf("onboarding: reject %s: %w", p.TenantID, err)
	}
	s.cfg.Logger.WithField("tenant", p.TenantID).Info("onboarding: tenant rejected")
	return p, nil
}

// decidable finds a tenant the operator may accept or reject.
func (s *Service) decidable(ctx context.Context, tenantID string) (Proposal, error) {
	tid := strings.ToLower(strings.TrimSpace(tenantID))
	if !psa.ValidTenantID(tid) {
		return Proposal{}, fmt.Errorf("%q is %w", tenantID, ErrInvalidTenantID)
	}
	if _, ok := s.cfg.Configured[tid]; ok {
		return Proposal{}, fmt.Errorf("tenant %s %w", tid, ErrConfigured)
	}
	p, ok, err := s.store.Get(ctx, tid)
	if err != nil {
		return Proposal{}, err
	}
	if !ok {
		return Proposal{}, fmt.Errorf("tenant %s is %w (run discovery first)", tid, ErrUnknownTenant)
	}
	if p.Status == StatusAccepted {
		return Proposal{}, fmt.Errorf("tenant %s is %w (company %s)", tid, ErrAlreadyAccepted, p.Company.CompanyID)
	}
	return p, nil
}

// List returns the stored tenants with the status ("" for all).
func (s *Service) List(ctx context.Context, status Status) ([]Proposal, error) {
	return s.store.List(ctx, status)
}

// RecheckConsent checks consent again in every accepted tenant
// (Concurrency at once) and stores the answer; it returns the tenants that
// gained consent since the last check, which the wiring starts syncing.
// Once ctx is done no more checks start, and ctx's error is among those
// returned.
func (s *Service) RecheckConsent(ctx context.Context) (gained []string, err error) {
	if s.dir == nil {
		return nil, ErrNoPartner
	}
	accepted, err := s.store.AcceptedAll(ctx)
	if err != nil {
		return nil, err
	}
	var (
		mu   sync.Mutex
		errs []error
	)
	stopped := fanOut(ctx, s.cfg.Concurrency, len(accepted), func(i int) {
		p := accepted[i]
		ok, err := s.recheck(ctx, &p)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("tenant %s: %w", p.TenantID, err))
		case ok:
			gained = append(gained, p.TenantID)
		}
	})
	if stopped != nil {
		errs = append(errs, fmt.Errorf("onboarding: recheck consent: %w", stopped))
	}
	return gained, errors.Join(errs...)
}

// recheck checks an accepted tenant's consent and stores the answer; true
// when consent arrived since the last check.
func (s *Service) recheck(ctx context.Context, p *Proposal) (gained bool, err error) {
	c, err := s.dir.CheckConsent(ctx, p.TenantID)
	if err != nil {
		return false, err
	}
	was := p.Consent
	p.setConsent(c)
	if err := s.store.UpdateAccepted(ctx, *p); err != nil {
		return false, err
	}
	return p.Consent && !was, nil
}
