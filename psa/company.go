package psa

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Company is a PSA company (ConnectWise company, Autotask company, Halo
// client) in vendor-neutral form, as onboarding matches customer tenants
// against it.
type Company struct {
	// ID is the PSA's company id, as Contact.CompanyID holds it.
	ID string `json:"id"`
	// Name is the company's name as the PSA shows it.
	Name string `json:"name"`
	// Website is the company's web address as entered, e.g.
	// "https://www.contoso.com/"; Domains holds its host.
	Website string `json:"website,omitempty"`
	// Domains are the lowercase domains the company's own fields name (the
	// website's host without "www."), for the domain rule of onboarding.
	Domains []string `json:"domains,omitempty"`
	// TenantID is the Microsoft 365 tenant id stored in the configured
	// tenant-id field of the company, "" when the field is unset or not
	// configured.
	TenantID string `json:"tenant_id,omitempty"`
	// Inactive is true for a company the PSA marks inactive or deleted.
	Inactive bool `json:"inactive"`
}

// CompanyDirectory is what onboarding needs from a PSA beyond Client: the
// companies, the email domains of their contacts, and a place on the
// company to keep the tenant id. It is a separate capability so that the
// sync engine's Client stays small; every vendor client implements it, and
// psa/quota's wrapper forwards it under the same budget.
type CompanyDirectory interface {
	// ListCompanies returns every company, active and inactive, reading
	// page by page; a call costs one read per page.
	ListCompanies(ctx context.Context) ([]Company, error)
	// ContactDomains maps each of companyIDs to the distinct lowercase
	// domains of its contacts' email addresses, sorted; a company without
	// contacts (or with no email on any) is absent. An unknown id is
	// simply absent, not an error. It reads contacts in pages, asking only
	// for what it needs, in one pass rather than one per company where the
	// vendor allows it.
	ContactDomains(ctx context.Context, companyIDs []string) (map[string][]string, error)
	// SetCompanyTenantID writes tenantID into the configured tenant-id
	// field of company companyID and returns the company as the PSA now
	// has it. ErrNotFound when there is no such company; ErrInvalid when
	// no tenant-id field is configured or the id is malformed.
	SetCompanyTenantID(ctx context.Context, companyID, tenantID string) (Company, error)
}

// WebsiteDomain returns the lowercase host of a company website as PSAs
// store it ("https://www.Contoso.com/about" → "contoso.com", "contoso.com"
// → "contoso.com"), or "" when it names no host.
func WebsiteDomain(website string) string {
	s := strings.TrimSpace(strings.ToLower(website))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "www."), ".")
	if !strings.Contains(s, ".") || strings.ContainsAny(s, " \t") {
		return ""
	}
	return s
}

// EmailDomain returns the lowercase domain of an email address, or "" when
// email has none.
func EmailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 || i == len(email)-1 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(email[i+1:]))
}

// DomainSets gathers contacts' email domains per company while a client
// reads contacts, for ContactDomains. The zero value is not usable; use
// NewDomainSets.
type DomainSets struct {
	want map[string]bool
	got  map[string]map[string]struct{}
}

// NewDomainSets gathers domains for companyIDs only.
func NewDomainSets(companyIDs []string) *DomainSets {
	d := &DomainSets{want: make(map[string]bool, len(companyIDs)), got: map[string]map[string]struct{}{}}
	for _, id := range companyIDs {
		d.want[id] = true
	}
	return d
}

// Add records email's domain for companyID when that company was asked for.
func (d *DomainSets) Add(companyID, email string) {
	dom := EmailDomain(email)
	if dom == "" || !d.want[companyID] {
		return
	}
	set := d.got[companyID]
	if set == nil {
		set = map[string]struct{}{}
		d.got[companyID] = set
	}
	set[dom] = struct{}{}
}

// Map returns company id → its sorted distinct domains.
func (d *DomainSets) Map() map[string][]string {
	out := make(map[string][]string, len(d.got))
	for id, set := range d.got {
		doms := make([]string, 0, len(set))
		for dom := range set {
			doms = append(doms, dom)
		}
		slices.Sort(doms)
		out[id] = doms
	}
	return out
}

// ValidTenantID reports whether s is a Microsoft 365 tenant id: a GUID in
// its 8-4-4-4-12 hexadecimal form. Clients refuse anything else before a
// write is sent.
func ValidTenantID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		switch i {
		case 8, 13, 18, 23:
			if r != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
	}
	return true
}

// TenantArgs reads the arguments of SetCompanyTenantID, so that every
// vendor client refuses bad ones alike before anything is sent: the company
// id, read by the vendor's parse, and the tenant id, trimmed and checked with
// ValidTenantID (ErrInvalid under op).
func TenantArgs[ID any](op, companyID, tenantID string, parse func(op, what, id string) (ID, error)) (ID, string, error) {
	id, err := parse(op, "company id", companyID)
	if err != nil {
		return id, "", err
	}
	tenantID = strings.TrimSpace(tenantID)
	if !ValidTenantID(tenantID) {
		var zero ID
		return zero, "", &Error{Op: op, Kind: ErrInvalid, Message: fmt.Sprintf("tenant id %q is not a GUID", tenantID)}
	}
	return id, tenantID, nil
}
