package directory

import (
	"errors"
	"fmt"
	"strings"
)

// Where a customer was discovered in the MSP's partner tenant.
const (
	// SourceGDAP: the partner has a granular delegated admin relationship
	// with the customer (GET /tenantRelationships/delegatedAdminCustomers).
	SourceGDAP = "gdap"
	// SourceContract: only a legacy DAP/CSP partnership (GET /contracts)
	// names the customer.
	SourceContract = "contract"
)

// Application permissions the onboarding reads need, named in errors so an
// operator knows what to grant (Microsoft Graph, application permissions,
// admin-consented).
const (
	// PermissionDelegatedAdminRelationship lets the partner tenant's app list
	// its GDAP customers.
	PermissionDelegatedAdminRelationship = "DelegatedAdminRelationship.Read.All"
	// PermissionDirectoryRead lets the partner tenant's app list its
	// contracts (Microsoft documents no narrower permission).
	PermissionDirectoryRead = "Directory.Read.All"
	// PermissionOrganizationRead lets the app read a tenant's organization
	// (display name, verified domains).
	PermissionOrganizationRead = "Organization.Read.All"
	// PermissionUserRead lets the app read a customer tenant's users; the
	// consent check reads one.
	PermissionUserRead = "User.Read.All"
)

// Customer is one customer tenant of the MSP, as the partner tenant lists
// it, merged over GDAP relationships and contracts by tenant id.
type Customer struct {
	// TenantID is the customer's Entra tenant id (a GUID, lower case).
	TenantID string `json:"tenantId"`
	// DisplayName is the tenant's current Entra display name when a GDAP
	// relationship exists; otherwise the contract's copy (see
	// ContractDisplayName).
	DisplayName string `json:"displayName"`
	// Source is SourceGDAP when a GDAP relationship exists (whether or not
	// a contract does too), else SourceContract.
	Source string `json:"source"`
	// HasContract reports that a contract (DAP/CSP partnership) names the
	// customer as well.
	HasContract bool `json:"hasContract,omitempty"`
	// ContractDisplayName and ContractDefaultDomain are the contract's
	// copies of the customer's name and default domain, made when the
	// partnership started and never updated since: they may be stale, and
	// the customer's organization (Organization) is the current truth.
	ContractDisplayName   string `json:"contractDisplayName,omitempty"`
	ContractDefaultDomain string `json:"contractDefaultDomain,omitempty"`
}

// Organization is a tenant's organization object: its current name and
// verified domains.
type Organization struct {
	TenantID        string   `json:"tenantId"`
	DisplayName     string   `json:"displayName"`
	VerifiedDomains []Domain `json:"verifiedDomains"`
}

// Domain is one verified domain of a tenant.
type Domain struct {
	Name string `json:"name"`
	// IsDefault marks the domain new users get by default.
	IsDefault bool `json:"isDefault"`
	// IsInitial marks the tenant's <name>.onmicrosoft.com domain.
	IsInitial bool `json:"isInitial"`
}

// DefaultDomain is the tenant's default domain, "" when none is marked.
func (o Organization) DefaultDomain() string {
	for _, d := range o.VerifiedDomains {
		if d.IsDefault {
			return d.Name
		}
	}
	return ""
}

// InitialDomain is the tenant's .onmicrosoft.com domain, "" when none is
// marked.
func (o Organization) InitialDomain() string {
	for _, d := range o.VerifiedDomains {
		if d.IsInitial {
			return d.Name
		}
	}
	return ""
}

// Consent is the answer of a consent check in one customer tenant: can the
// multi-tenant app get an app-only token there and read users?
type Consent struct {
	TenantID string `json:"tenantId"`
	// Granted is true when a user could be read.
	Granted bool `json:"granted"`
	// Code is the failure's Entra (e.g. "AADSTS65001") or Graph (e.g.
	// "Authorization_RequestDenied") code, empty when granted.
	Code string `json:"code,omitempty"`
	// Reason says in words why consent is missing, empty when granted.
	Reason string `json:"reason,omitempty"`
	// AdminConsentURL is the link to send to a customer's administrator to
	// grant consent; empty when granted or when consent cannot help (the
	// tenant does not exist).
	AdminConsentURL string `json:"adminConsentUrl,omitempty"`
}

// ErrMissingPermission: the app lacks an application permission in the
// tenant it called (see MissingPermissionError for which one). It also
// matches ErrPermissionDenied.
var ErrMissingPermission = errors.New("graph: application permission missing")

// MissingPermissionError is a 403 from Graph on an onboarding read, naming
// the application permission to grant.
type MissingPermissionError struct {
	// Op names the call, e.g. "graph: list delegatedAdminCustomers".
	Op string
	// TenantID is the tenant that refused.
	TenantID string
	// Permission is the least privileged application permission Microsoft
	// documents for the call.
	Permission string
	// Err is the Graph error (it matches ErrPermissionDenied).
	Err error
}

// Error names the call, the tenant and the permission to grant.
func (e *MissingPermissionError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: the app lacks the Microsoft Graph application permission %s in tenant %s; "+
		"add it to the app registration (API permissions > Microsoft Graph > Application permissions) and grant admin consent",
		e.Op, e.Permission, e.TenantID)
	if e.Err != nil {
		b.WriteString(" (")
		b.WriteString(e.Err.Error())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap matches ErrMissingPermission, ErrPermissionDenied and the cause.
func (e *MissingPermissionError) Unwrap() []error {
	out := []error{ErrMissingPermission, ErrPermissionDenied}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}
