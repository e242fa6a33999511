package mapping

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
)

func TestDecide(t *testing.T) {
	t.Parallel()
	excl := DefaultConfig()
	excl.Exclusions.UPNPatterns = []string{"svc-*", "Admin*", "*@ops.contoso.com"}
	excl.Exclusions.Unlicensed = true
	excl.Exclusions.Domains = []string{"Fabrikam.com", "*.test"}

	tests := []struct {
		name       string
		cfg        Config
		edit       func(u *directory.User)
		tenant     Tenant
		scope      Scope
		wantReason string // "" = in scope
		wantDetail string
	}{
		{name: "ordinary member", cfg: excl},
		{name: "zero config does not exclude guests", cfg: Config{}, edit: func(u *directory.User) { u.UserType = "Guest" }},

		{name: "deleted", cfg: excl, edit: func(u *directory.User) { u.Removed = &directory.Removed{Reason: "changed"} },
			wantReason: ReasonDeleted, wantDetail: "user was deleted (changed)"},
		{name: "deleted without reason", cfg: excl, edit: func(u *directory.User) { u.Removed = &directory.Removed{} },
			wantReason: ReasonDeleted, wantDetail: "user was deleted"},
		{name: "deleted beats every filter", cfg: excl, edit: func(u *directory.User) { *u = directory.User{ID: u.ID, Removed: &directory.Removed{Reason: "deleted"}} },
			scope: Scope{Departments: []string{"Sales"}, UserPrincipalNames: []string{"x@y.z"}}, wantReason: ReasonDeleted},

		{name: "disabled skipped", cfg: excl, edit: func(u *directory.User) { u.AccountEnabled = directory.Bool(false) },
			scope: Scope{SkipDisabled: true}, wantReason: ReasonDisabled, wantDetail: "account is disabled and skip_disabled_users is set"},
		{name: "disabled kept when not skipping", cfg: excl, edit: func(u *directory.User) { u.AccountEnabled = directory.Bool(false) }},
		{name: "unknown enabled state counts as enabled", cfg: excl, edit: func(u *directory.User) { u.AccountEnabled = nil },
			scope: Scope{SkipDisabled: true}},

		{name: "guest by user type", cfg: excl, edit: func(u *directory.User) { u.UserType = "guest" },
			wantReason: ReasonGuest, wantDetail: "guest accounts are excluded (mapping.exclusions.guests)"},
		{name: "guest by EXT upn", cfg: excl, edit: func(u *directory.User) {
			u.UserType = ""
			u.UserPrincipalName = "jane_fabrikam.com#EXT#@contoso.onmicrosoft.com"
		},
			wantReason: ReasonGuest},
		{name: "guests allowed", cfg: Config{Exclusions: Exclusions{Guests: false}}, edit: func(u *directory.User) { u.UserType = "Guest" }},

		{name: "excluded upn domain", cfg: excl, edit: func(u *directory.User) { u.UserPrincipalName = "jane@FABRIKAM.com" },
			wantReason: ReasonExcludedDomain, wantDetail: `domain "FABRIKAM.com" matches mapping.exclusions.domains "Fabrikam.com"`},
		{name: "excluded mail domain", cfg: excl, edit: func(u *directory.User) { u.Mail = "jane@fabrikam.com" },
			wantReason: ReasonExcludedDomain},
		{name: "excluded domain glob", cfg: excl, edit: func(u *directory.User) { u.Mail = "jane@lab.test" },
			wantReason: ReasonExcludedDomain, wantDetail: `domain "lab.test" matches mapping.exclusions.domains "*.test"`},
		{name: "subdomain is not the domain", cfg: excl, edit: func(u *directory.User) { u.Mail = "jane@eu.fabrikam.com" }},

		{name: "upn pattern on local part", cfg: excl, edit: func(u *directory.User) { u.UserPrincipalName = "svc-backup@contoso.com" },
			wantReason: ReasonExcludedUPNPattern, wantDetail: `user principal name "svc-backup@contoso.com" matches mapping.exclusions.upn_patterns "svc-*"`},
		{name: "upn pattern ignores case", cfg: excl, edit: func(u *directory.User) { u.UserPrincipalName = "ADMINISTRATOR@contoso.com" },
			wantReason: ReasonExcludedUPNPattern},
		{name: "upn pattern on whole upn", cfg: excl, edit: func(u *directory.User) { u.UserPrincipalName = "jane@ops.contoso.com" },
			wantReason: ReasonExcludedUPNPattern},
		{name: "upn pattern does not match inside", cfg: excl, edit: func(u *directory.User) { u.UserPrincipalName = "jane.svc-x@contoso.com" }},

		{name: "unlicensed", cfg: excl, edit: func(u *directory.User) { u.AssignedLicenses = nil },
			wantReason: ReasonUnlicensed, wantDetail: "user has no assigned license (mapping.exclusions.unlicensed)"},
		{name: "unlicensed allowed by default", cfg: DefaultConfig(), edit: func(u *directory.User) { u.AssignedLicenses = nil }},

		{name: "upn filter hit", cfg: excl, scope: Scope{UserPrincipalNames: []string{"other@contoso.com", " JANE.DOE@contoso.com "}}},
		{name: "upn filter miss", cfg: excl, scope: Scope{UserPrincipalNames: []string{"other@contoso.com"}},
			wantReason: ReasonUPNFilter, wantDetail: `user principal name "jane.doe@contoso.com" is not in user_principal_names`},
		{name: "department filter hit", cfg: excl, scope: Scope{Departments: []string{"Sales", "it"}}},
		{name: "department filter miss", cfg: excl, scope: Scope{Departments: []string{"Sales"}},
			wantReason: ReasonDepartmentFilter, wantDetail: `department "IT" is not in department_filter`},
		{name: "department filter excludes blank department", cfg: excl, edit: func(u *directory.User) { u.Department = "" },
			scope: Scope{Departments: []string{"IT"}}, wantReason: ReasonDepartmentFilter},
		{name: "office filter hit", cfg: excl, scope: Scope{OfficeLocations: []string{"LEEDS"}}},
		{name: "office filter miss", cfg: excl, scope: Scope{OfficeLocations: []string{"York"}},
			wantReason: ReasonOfficeLocationFilter, wantDetail: `office location "Leeds" is not in office_location_filter`},

		{name: "tenant filter hit", cfg: excl, tenant: Tenant{SyncFilter: "department eq 'it' and startswith(userPrincipalName,'jane')"}},
		{name: "tenant filter miss", cfg: excl, tenant: Tenant{SyncFilter: "department eq 'Sales'"},
			wantReason: ReasonTenantFilter, wantDetail: `user does not match office365_sync_filter "department eq 'Sales'"`},
		{name: "blank tenant filter", cfg: excl, tenant: Tenant{SyncFilter: "   "}},
		{name: "invalid tenant filter", cfg: excl, tenant: Tenant{SyncFilter: "department = 'IT'"},
			wantReason: ReasonTenantFilterInvalid, wantDetail: `office365_sync_filter: position 12: unexpected character '='`},

		// Order: the run's own selection comes before disabled and the
		// exclusions, so a targeted run never reports (and the engine never
		// deactivates) users it did not select.
		{name: "run selection before disabled", cfg: excl, edit: func(u *directory.User) { u.AccountEnabled = directory.Bool(false) },
			scope: Scope{SkipDisabled: true, UserPrincipalNames: []string{"other@contoso.com"}}, wantReason: ReasonUPNFilter},
		{name: "upn before department", cfg: excl, scope: Scope{UserPrincipalNames: []string{"x@contoso.com"}, Departments: []string{"Sales"}},
			wantReason: ReasonUPNFilter},
		{name: "department before office", cfg: excl, scope: Scope{Departments: []string{"Sales"}, OfficeLocations: []string{"York"}},
			wantReason: ReasonDepartmentFilter},
		{name: "disabled before guest", cfg: excl, edit: func(u *directory.User) { u.AccountEnabled = directory.Bool(false); u.UserType = "Guest" },
			scope: Scope{SkipDisabled: true}, wantReason: ReasonDisabled},
		{name: "guest before domain", cfg: excl, edit: func(u *directory.User) { u.UserType = "Guest"; u.Mail = "x@fabrikam.com" },
			wantReason: ReasonGuest},
		{name: "domain before upn pattern", cfg: excl, edit: func(u *directory.User) { u.UserPrincipalName = "svc-x@fabrikam.com" },
			wantReason: ReasonExcludedDomain},
		{name: "upn pattern before unlicensed", cfg: excl, edit: func(u *directory.User) { u.UserPrincipalName = "svc-x@contoso.com"; u.AssignedLicenses = nil },
			wantReason: ReasonExcludedUPNPattern},
		{name: "exclusions before tenant filter", cfg: excl, edit: func(u *directory.User) { u.AssignedLicenses = nil },
			tenant: Tenant{SyncFilter: "department eq 'Sales'"}, wantReason: ReasonUnlicensed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, tc.cfg)
			u := fullUser()
			if tc.edit != nil {
				tc.edit(&u)
			}
			d := m.Decide(u, tc.tenant, tc.scope)
			if tc.wantReason == "" {
				require.Equal(t, Decision{InScope: true}, d)
				return
			}
			require.False(t, d.InScope)
			require.Equal(t, tc.wantReason, d.Reason)
			require.NotEmpty(t, d.Detail)
			if tc.wantDetail != "" {
				require.Equal(t, tc.wantDetail, d.Detail)
			}
		})
	}
}

func TestDecisionDeactivate(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		ReasonDeleted:              true,
		ReasonDisabled:             true,
		ReasonGuest:                true,
		ReasonExcludedDomain:       true,
		ReasonExcludedUPNPattern:   true,
		ReasonUnlicensed:           true,
		ReasonTenantFilter:         true,
		ReasonUPNFilter:            false,
		ReasonDepartmentFilter:     false,
		ReasonOfficeLocationFilter: false,
		ReasonTenantFilterInvalid:  false,
	}
	for reason, want := range tests {
		require.Equal(t, want, Decision{Reason: reason}.Deactivate(), reason)
	}
	require.False(t, Decision{InScope: true}.Deactivate())
}

func TestDecideCachesTenantFilter(t *testing.T) {
	t.Parallel()
	m := mustNew(t, DefaultConfig())
	u := fullUser()
	for range 3 {
		require.True(t, m.Decide(u, Tenant{SyncFilter: "officeLocation eq 'Leeds'"}, Scope{}).InScope)
		require.Equal(t, ReasonTenantFilterInvalid, m.Decide(u, Tenant{SyncFilter: "officeLocation eq"}, Scope{}).Reason)
	}
	n := 0
	m.filters.Range(func(_, _ any) bool { n++; return true })
	require.Equal(t, 2, n, "one entry per distinct expression, valid or not")
}
