package mapping

import (
	"fmt"
	"path"
	"strings"

	"github.com/psasync/psasync/graph/directory"
)

// Scope is the part of a run's inputs that selects users.
type Scope struct {
	// SkipDisabled is skip_disabled_users: disabled accounts are out of
	// scope (and their linked contacts deactivated).
	SkipDisabled bool
	// Departments is department_filter: case-insensitive equality, empty
	// selects every department.
	Departments []string
	// OfficeLocations is office_location_filter, matched like Departments.
	OfficeLocations []string
	// UserPrincipalNames is user_principal_names: case-insensitive, empty
	// selects every user.
	UserPrincipalNames []string
}

// Decision reasons: stable, machine-readable, and part of run reports.
const (
	ReasonDeleted              = "deleted"
	ReasonUPNFilter            = "upn_filter"
	ReasonDepartmentFilter     = "department_filter"
	ReasonOfficeLocationFilter = "office_location_filter"
	ReasonDisabled             = "disabled"
	ReasonGuest                = "guest"
	ReasonExcludedDomain       = "excluded_domain"
	ReasonExcludedUPNPattern   = "excluded_upn_pattern"
	ReasonUnlicensed           = "unlicensed"
	ReasonTenantFilter         = "tenant_filter"
	// ReasonTenantFilterInvalid: the tenant's office365_sync_filter does not
	// parse, so no user of the tenant is synced until it is fixed.
	ReasonTenantFilterInvalid = "tenant_filter_invalid"
)

// Decision says whether a user is synced and, when not, why.
type Decision struct {
	// InScope is true when the user's contact should be created or updated.
	InScope bool
	// Reason is one of the Reason* constants when InScope is false.
	Reason string
	// Detail says the same in words, naming the value that decided it.
	Detail string
}

// Deactivate reports whether a user out of scope should lose an active
// contact psasync linked: true when the user is gone, disabled, excluded or
// filtered out by the tenant, false when the user is in scope or merely not
// selected by this run's own filters (a run for one department must not
// deactivate every other department), and false when the tenant filter is
// broken (that says nothing about the user).
func (d Decision) Deactivate() bool {
	if d.InScope {
		return false
	}
	switch d.Reason {
	case ReasonUPNFilter, ReasonDepartmentFilter, ReasonOfficeLocationFilter, ReasonTenantFilterInvalid:
		return false
	}
	return true
}

// Decide says whether u is synced for tenant t in a run with scope s.
//
// The checks run in this order, and the first that fails gives the reason:
// deleted (a delta @removed item carries nothing else to judge), the run's
// own selection (upn_filter, department_filter, office_location_filter),
// disabled (when s.SkipDisabled), the exclusions (guest, excluded_domain,
// excluded_upn_pattern, unlicensed), then the tenant's office365_sync_filter
// (tenant_filter, or tenant_filter_invalid when it does not parse).
func (m *Mapper) Decide(u directory.User, t Tenant, s Scope) Decision {
	if u.Deleted() {
		detail := "user was deleted"
		if r := u.Removed.Reason; r != "" {
			detail += " (" + r + ")"
		}
		return Decision{Reason: ReasonDeleted, Detail: detail}
	}
	if len(s.UserPrincipalNames) > 0 && !containsEqualFold(s.UserPrincipalNames, u.UserPrincipalName) {
		return Decision{Reason: ReasonUPNFilter, Detail: fmt.Sprintf("user principal name %q is not in user_principal_names", u.UserPrincipalName)}
	}
	if len(s.Departments) > 0 && !containsEqualFold(s.Departments, u.Department) {
		return Decision{Reason: ReasonDepartmentFilter, Detail: fmt.Sprintf("department %q is not in department_filter", u.Department)}
	}
	if len(s.OfficeLocations) > 0 && !containsEqualFold(s.OfficeLocations, u.OfficeLocation) {
		return Decision{Reason: ReasonOfficeLocationFilter, Detail: fmt.Sprintf("office location %q is not in office_location_filter", u.OfficeLocation)}
	}
	if s.SkipDisabled && !u.Enabled() {
		return Decision{Reason: ReasonDisabled, Detail: "account is disabled and skip_disabled_users is set"}
	}
	if d, excluded := m.excluded(&u); excluded {
		return d
	}
	if strings.TrimSpace(t.SyncFilter) != "" {
		f, err := m.tenantFilter(t.SyncFilter)
		if err != nil {
			return Decision{Reason: ReasonTenantFilterInvalid, Detail: fmt.Sprintf("office365_sync_filter: %v", err)}
		}
		if !f.Match(u) {
			return Decision{Reason: ReasonTenantFilter, Detail: fmt.Sprintf("user does not match office365_sync_filter %q", t.SyncFilter)}
		}
	}
	return Decision{InScope: true}
}

// excluded applies the exclusion rules.
func (m *Mapper) excluded(u *directory.User) (Decision, bool) {
	e := &m.exclusions
	if e.Guests && (strings.EqualFold(u.UserType, "Guest") || isGuestUPN(u.UserPrincipalName)) {
		return Decision{Reason: ReasonGuest, Detail: "guest accounts are excluded (mapping.exclusions.guests)"}, true
	}
	for i, d := range m.domains {
		for _, addr := range [...]string{u.UserPrincipalName, u.Mail} {
			if dom := domainOf(addr); dom != "" && matchFold(d, dom) {
				return Decision{Reason: ReasonExcludedDomain, Detail: fmt.Sprintf("domain %q matches mapping.exclusions.domains %q", dom, e.Domains[i])}, true
			}
		}
	}
	if upn := strings.TrimSpace(u.UserPrincipalName); upn != "" {
		local := upn
		if at := strings.LastIndexByte(upn, '@'); at >= 0 {
			local = upn[:at]
		}
		for i, p := range m.upnPatterns {
			if matchFold(p, local) || matchFold(p, upn) {
				return Decision{Reason: ReasonExcludedUPNPattern, Detail: fmt.Sprintf("user principal name %q matches mapping.exclusions.upn_patterns %q", upn, e.UPNPatterns[i])}, true
			}
		}
	}
	if e.Unlicensed && len(u.AssignedLicenses) == 0 {
		return Decision{Reason: ReasonUnlicensed, Detail: "user has no assigned license (mapping.exclusions.unlicensed)"}, true
	}
	return Decision{}, false
}

// filterEntry is a cached CompileFilter result.
type filterEntry struct {
	f   *Filter
	err error
}

// tenantFilter compiles expr once per Mapper and reuses it.
func (m *Mapper) tenantFilter(expr string) (*Filter, error) {
	if v, ok := m.filters.Load(expr); ok {
		e := v.(filterEntry)
		return e.f, e.err
	}
	f, err := CompileFilter(expr)
	m.filters.Store(expr, filterEntry{f: f, err: err})
	return f, err
}

// domainOf returns the part of an address after its last @, or "".
func domainOf(addr string) string {
	addr = strings.TrimSpace(addr)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 {
		return ""
	}
	return addr[at+1:]
}

// matchFold is path.Match ignoring case; New lowered the pattern. Patterns
// were checked by New, so an error cannot happen here and counts as no
// match.
func matchFold(lowerPattern, name string) bool {
	ok, err := path.Match(lowerPattern, strings.ToLower(name))
	return err == nil && ok
}

// containsEqualFold reports whether list holds v, trimmed and ignoring case.
func containsEqualFold(list []string, v string) bool {
	v = strings.TrimSpace(v)
	for _, s := range list {
		if strings.EqualFold(strings.TrimSpace(s), v) {
			return true
		}
	}
	return false
}
