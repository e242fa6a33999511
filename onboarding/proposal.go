// Package onboarding discovers an MSP's customer tenants from its partner
// tenant, checks the app's consent in each, and maps each tenant to its
// PSA company by rules with a fixed precedence:
//
//  1. tenant_id: the company's tenant-id field holds the tenant's id;
//  2. domain: the company's website or domain is a verified domain of the
//     tenant;
//  3. contact_domain: the company's contacts' email domains include a
//     verified domain of the tenant;
//  4. name: the names are equal once normalized (NormalizeName).
//
// The best rule that finds any company decides. One company there is a
// proposal; several, or none, is a review with the candidates listed; two
// tenants wanting one company are a conflict to review. Nothing is
// guessed, and onmicrosoft.com domains never match. An operator accepts
// or rejects each tenant; accepted tenants (Store) are what the rest of
// psasync syncs besides the config file's tenants, and accepting may write
// the tenant id back to the PSA company so that rule 1 finds it again
// after Redis is lost.
package onboarding

import (
	"errors"
	"strings"
	"time"

	"github.com/psasync/psasync/graph/directory"
)

// Status is where a discovered tenant stands.
type Status string

// The statuses, as the API's ?status= takes them.
const (
	StatusProposed    Status = "proposed"
	StatusNeedsReview Status = "needs_review"
	StatusAccepted    Status = "accepted"
	StatusRejected    Status = "rejected"
)

// ParseStatus reads a status name; "" is every status.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case "", StatusProposed, StatusNeedsReview, StatusAccepted, StatusRejected:
		return Status(s), nil
	}
	return "", errors.New("status " + quote(s) + " is not needs_review, proposed, accepted or rejected")
}

// Proposal is one discovered tenant: what Graph says of it, its consent,
// and the matching's outcome or the operator's decision.
type Proposal struct {
	TenantID string `json:"tenant_id"`
	// Name is the organization's display name (the partner listing's when
	// the app has no consent yet).
	Name string `json:"name"`
	// Domains are the verified domains (the partner listing's default
	// domain only, without consent).
	Domains []string `json:"domains,omitempty"`
	// Consent is true when the app can read users in the tenant.
	Consent bool `json:"consent"`
	// ConsentURL is the admin-consent link to send the customer, when
	// Consent is false.
	ConsentURL string `json:"consent_url,omitempty"`
	// ConsentError is why the consent check failed, when it did.
	ConsentError string `json:"consent_error,omitempty"`
	Status       Status `json:"status"`
	// Company is the proposed or accepted company.
	Company *Candidate `json:"company,omitempty"`
	// Candidates are the companies to choose from in a review.
	Candidates []Candidate `json:"candidates,omitempty"`
	// Reason says why a tenant needs review, or why it was rejected.
	Reason string `json:"reason,omitempty"`
	// Configured is true for a tenant of the config file, which wins over
	// any discovered mapping.
	Configured bool `json:"configured,omitempty"`
	// WrittenBack is true when accepting wrote the tenant id to the company.
	WrittenBack  bool      `json:"written_back,omitempty"`
	DiscoveredAt time.Time `json:"discovered_at"`
	DecidedAt    time.Time `json:"decided_at,omitzero"`
}

// Errors of Accept and Reject; each is wrapped with the tenant or company
// it is about, and nothing is changed when one is returned.
var (
	// ErrInvalidTenantID: the tenant id is not a GUID.
	ErrInvalidTenantID = errors.New("not a tenant id (a GUID)")
	// ErrUnknownTenant: discovery has not found the tenant.
	ErrUnknownTenant = errors.New("not a discovered tenant")
	// ErrUnknownCompany: the PSA has no active company with the id.
	ErrUnknownCompany = errors.New("not an active PSA company")
	// ErrAlreadyAccepted: the tenant's mapping was already accepted.
	ErrAlreadyAccepted = errors.New("already accepted")
	// ErrCompanyTaken: the company is mapped to another tenant.
	ErrCompanyTaken = errors.New("already mapped to another tenant")
	// ErrNoCompany: accept was called without a company for a tenant that
	// has no proposal.
	ErrNoCompany = errors.New("has no proposed company: name one")
	// ErrConfigured: the tenant is in the config file, which wins.
	ErrConfigured = errors.New("is in the config file, which wins over discovery")
)

// setConsent takes a consent check's answer.
func (p *Proposal) setConsent(c directory.Consent) {
	p.Consent, p.ConsentURL, p.ConsentError = c.Granted, c.AdminConsentURL, strings.TrimSpace(c.Code+" "+c.Reason)
}

// takeConsent takes the consent of a fresher reading of the same tenant
// and reports whether consent arrived with it.
func (p *Proposal) takeConsent(fresh Proposal) (gained bool) {
	gained = fresh.Consent && !p.Consent
	p.Consent, p.ConsentURL, p.ConsentError = fresh.Consent, fresh.ConsentURL, fresh.ConsentError
	return gained
}

func quote(s string) string { return `"` + s + `"` }
