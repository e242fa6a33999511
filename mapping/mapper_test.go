package mapping

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// fullUser is a complete, ordinary member: the baseline the tables edit.
func fullUser() directory.User {
	return directory.User{
		ID:                "11111111-2222-3333-4444-555555555555",
		UserPrincipalName: "jane.doe@contoso.com",
		DisplayName:       "Jane Doe",
		GivenName:         "Jane",
		Surname:           "Doe",
		Mail:              "Jane.Doe@contoso.com",
		JobTitle:          "Engineer",
		Department:        "IT",
		OfficeLocation:    "Leeds",
		CompanyName:       "Contoso",
		BusinessPhones:    []string{"+44 113 496 0000", "+44 113 496 0001"},
		MobilePhone:       "+44 7700 900000",
		AccountEnabled:    directory.Bool(true),
		UserType:          "Member",
		AssignedLicenses:  []string{"sku-e3"},
	}
}

var testTenant = Tenant{ContactType: "End User"}

func mustNew(t *testing.T, cfg Config) *Mapper {
	t.Helper()
	m, err := New(cfg)
	require.NoError(t, err)
	return m
}

func TestDesiredDefaults(t *testing.T) {
	t.Parallel()
	m := mustNew(t, DefaultConfig())
	c, issues := m.Desired(fullUser(), testTenant)
	require.Empty(t, issues)
	require.Equal(t, psa.Contact{
		ExternalID:     "11111111-2222-3333-4444-555555555555",
		FirstName:      "Jane",
		LastName:       "Doe",
		Email:          "Jane.Doe@contoso.com",
		Phone:          "+44 113 496 0000",
		MobilePhone:    "+44 7700 900000",
		JobTitle:       "Engineer",
		Department:     "IT",
		OfficeLocation: "Leeds",
		ContactType:    "End User",
	}, c)
}

func TestDesiredNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                   string
		given, surname, dn     string
		wantFirst, wantLast    string
		wantIncompleteUserName bool
	}{
		{name: "given and surname", given: "Jane", surname: "Doe", dn: "Someone Else", wantFirst: "Jane", wantLast: "Doe"},
		{name: "trimmed", given: " Jane ", surname: "\tDoe ", wantFirst: "Jane", wantLast: "Doe"},
		{name: "display name split", dn: "Jane Doe", wantFirst: "Jane", wantLast: "Doe"},
		{name: "display name multi-word surname", dn: "  Jane   van der Berg ", wantFirst: "Jane", wantLast: "van der Berg"},
		{name: "display name comma form", dn: "Doe, Jane", wantFirst: "Jane", wantLast: "Doe"},
		{name: "display name comma form multi-word", dn: "van der Berg, Jane Ann", wantFirst: "Jane Ann", wantLast: "van der Berg"},
		{name: "display name trailing comma", dn: "Doe,", wantFirst: "Doe"},
		{name: "display name leading comma", dn: ", Jane Doe", wantFirst: "Jane", wantLast: "Doe"},
		{name: "single word is the first name", dn: "Reception", wantFirst: "Reception"},
		{name: "tab separated", dn: "Jane\tDoe", wantFirst: "Jane", wantLast: "Doe"},
		{name: "surname filled from agreeing display name", given: "Jane", dn: "Jane Doe", wantFirst: "Jane", wantLast: "Doe"},
		{name: "surname filled from comma form", given: "jane", dn: "Doe, Jane", wantFirst: "jane", wantLast: "Doe"},
		{name: "given filled from agreeing display name", surname: "Doe", dn: "Jane Doe", wantFirst: "Jane", wantLast: "Doe"},
		{name: "disagreeing display name is not mixed in", given: "Jane", dn: "Front Desk", wantFirst: "Jane"},
		{name: "disagreeing display name for surname", surname: "Doe", dn: "Front Desk", wantLast: "Doe"},
		{name: "single-word display name does not fill surname", given: "Jane", dn: "Jane", wantFirst: "Jane"},
		{name: "no name at all", dn: "   ", wantIncompleteUserName: true},
	}
	m := mustNew(t, DefaultConfig())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := fullUser()
			u.GivenName, u.Surname, u.DisplayName = tc.given, tc.surname, tc.dn
			c, issues := m.Desired(u, testTenant)
			require.Equal(t, tc.wantFirst, c.FirstName)
			require.Equal(t, tc.wantLast, c.LastName)
			if tc.wantIncompleteUserName {
				require.Equal(t, []Issue{{
					Code:    CodeUserDataIncomplete,
					Field:   psa.FieldFirstName,
					Message: "user has no name: givenName, surname and displayName are all empty",
				}}, issues)
				require.True(t, Blocking(issues))
			} else {
				require.Empty(t, issues)
			}
		})
	}
}

func TestDesiredEmail(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		mail     string
		upn      string
		verified []string
		want     string
	}{
		{name: "mail wins", mail: "jane@contoso.com", upn: "jd@contoso.com", want: "jane@contoso.com"},
		{name: "mail trimmed", mail: "  jane@contoso.com ", upn: "jd@contoso.com", want: "jane@contoso.com"},
		{name: "upn on custom domain", upn: "jd@contoso.com", want: "jd@contoso.com"},
		{name: "upn on onmicrosoft.com", upn: "jd@contoso.onmicrosoft.com", want: ""},
		{name: "upn on onmicrosoft.com any case", upn: "jd@Contoso.OnMicrosoft.COM", want: ""},
		{name: "upn on verified domain", upn: "jd@Contoso.com", verified: []string{"fabrikam.com", "contoso.com"}, want: "jd@Contoso.com"},
		{name: "upn on unverified domain", upn: "jd@other.com", verified: []string{"contoso.com"}, want: ""},
		{name: "onmicrosoft.com explicitly verified", upn: "jd@contoso.onmicrosoft.com", verified: []string{"contoso.onmicrosoft.com"}, want: "jd@contoso.onmicrosoft.com"},
		{name: "guest upn never", upn: "jane_fabrikam.com#EXT#@contoso.com", want: ""},
		{name: "guest upn never even when verified", upn: "jane_fabrikam.com#ext#@contoso.com", verified: []string{"contoso.com"}, want: ""},
		{name: "upn without domain", upn: "jd", want: ""},
		{name: "upn with empty domain", upn: "jd@", want: ""},
		{name: "no upn", want: ""},
	}
	m := mustNew(t, DefaultConfig())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := fullUser()
			u.Mail, u.UserPrincipalName = tc.mail, tc.upn
			c, issues := m.Desired(u, Tenant{ContactType: "End User", VerifiedDomains: tc.verified})
			require.Equal(t, tc.want, c.Email)
			if tc.want == "" {
				require.Equal(t, []Issue{{
					Code:    CodeUserDataIncomplete,
					Field:   psa.FieldEmail,
					Message: "user has no email address: mail is empty and the UPN is not on a verified domain",
				}}, issues)
			} else {
				require.Empty(t, issues)
			}
		})
	}
}

func TestDesiredPhones(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		business    []string
		mobile      string
		wantPhone   string
		wantMobile  string
		wantWarning bool
	}{
		{name: "first business phone", business: []string{"+1 555 0100", "+1 555 0101"}, mobile: "+1 555 0199", wantPhone: "+1 555 0100", wantMobile: "+1 555 0199"},
		{name: "blank business phones skipped", business: []string{" ", "+1 555 0101"}, wantPhone: "+1 555 0101"},
		{name: "only mobile", mobile: " +1 555 0199 ", wantMobile: "+1 555 0199"},
		{name: "only business", business: []string{"+1 555 0100"}, wantPhone: "+1 555 0100"},
		{name: "neither", business: []string{}, wantWarning: true},
		{name: "blank ones count as none", business: []string{""}, mobile: "  ", wantWarning: true},
	}
	m := mustNew(t, DefaultConfig())
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := fullUser()
			u.BusinessPhones, u.MobilePhone = tc.business, tc.mobile
			c, issues := m.Desired(u, testTenant)
			require.Equal(t, tc.wantPhone, c.Phone)
			require.Equal(t, tc.wantMobile, c.MobilePhone)
			if tc.wantWarning {
				require.Equal(t, []Issue{{
					Code:    CodeMissingPhoneNumber,
					Field:   psa.FieldPhone,
					Message: "user has no business or mobile phone number",
					Warning: true,
				}}, issues)
				require.False(t, Blocking(issues), "a missing phone does not stop the write")
			} else {
				require.Empty(t, issues)
			}
		})
	}
}

func TestDesiredStraightFields(t *testing.T) {
	t.Parallel()
	m := mustNew(t, DefaultConfig())
	u := fullUser()
	u.JobTitle, u.Department, u.OfficeLocation = "  Lead  ", "", "York\n"
	c, issues := m.Desired(u, Tenant{ContactType: " Employee "})
	require.Empty(t, issues)
	require.Equal(t, "Lead", c.JobTitle)
	require.Empty(t, c.Department)
	require.Equal(t, "York", c.OfficeLocation)
	require.Equal(t, "Employee", c.ContactType)
	require.False(t, c.Inactive)
	require.Equal(t, u.ID, c.ExternalID)
	require.Empty(t, c.ID, "the engine sets the PSA id")
	require.Empty(t, c.CompanyID, "the engine sets the company")

	c, _ = m.Desired(u, Tenant{})
	require.Empty(t, c.ContactType)
}

func TestDesiredTemplates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		field  psa.Field
		source string
		edit   func(u *directory.User)
		want   string
	}{
		{name: "plain property", field: psa.FieldJobTitle, source: "{{.CompanyName}} {{.JobTitle}}", want: "Contoso Engineer"},
		{name: "first", field: psa.FieldPhone, source: "{{first .BusinessPhones}}", want: "+44 113 496 0000"},
		{name: "first of empty", field: psa.FieldPhone, source: "{{first .BusinessPhones}}", edit: func(u *directory.User) { u.BusinessPhones = nil }, want: ""},
		{name: "last", field: psa.FieldPhone, source: "{{last .BusinessPhones}}", want: "+44 113 496 0001"},
		{name: "last of empty", field: psa.FieldPhone, source: "{{last .BusinessPhones}}", edit: func(u *directory.User) { u.BusinessPhones = nil }, want: ""},
		{name: "lower", field: psa.FieldEmail, source: "{{lower .Mail}}", want: "jane.doe@contoso.com"},
		{name: "upper", field: psa.FieldDepartment, source: "{{upper .Department}}-{{.OfficeLocation | upper}}", want: "IT-LEEDS"},
		{name: "trim", field: psa.FieldJobTitle, source: "[{{trim .JobTitle}}]", edit: func(u *directory.User) { u.JobTitle = "  x  " }, want: "[x]"},
		{name: "default keeps value", field: psa.FieldEmail, source: "{{.Mail | default .UserPrincipalName}}", want: "Jane.Doe@contoso.com"},
		{name: "default falls back", field: psa.FieldEmail, source: "{{.Mail | default .UserPrincipalName}}", edit: func(u *directory.User) { u.Mail = "" }, want: "jane.doe@contoso.com"},
		{name: "default on blank", field: psa.FieldDepartment, source: `{{default "General" .Department}}`, edit: func(u *directory.User) { u.Department = "  " }, want: "General"},
		{name: "default on empty list", field: psa.FieldPhone, source: `{{default "none" .BusinessPhones}}`, edit: func(u *directory.User) { u.BusinessPhones = nil }, want: "none"},
		{name: "default on nil pointer", field: psa.FieldJobTitle, source: `{{default "unknown" .AccountEnabled}}`, edit: func(u *directory.User) { u.AccountEnabled = nil }, want: "unknown"},
		{name: "default on set pointer", field: psa.FieldJobTitle, source: `{{if default false .AccountEnabled}}set{{end}}`, want: "set"},
		{name: "join", field: psa.FieldPhone, source: `{{join " / " .BusinessPhones}}`, want: "+44 113 496 0000 / +44 113 496 0001"},
		{name: "split", field: psa.FieldFirstName, source: `{{first (split "." .UserPrincipalName)}}`, want: "jane"},
		{name: "replace", field: psa.FieldOfficeLocation, source: `{{replace "Leeds" "Leeds HQ" .OfficeLocation}}`, want: "Leeds HQ"},
		{name: "method on user", field: psa.FieldJobTitle, source: `{{if .Enabled}}active{{end}}`, want: "active"},
		{name: "result trimmed", field: psa.FieldJobTitle, source: "  {{.JobTitle}}\n", want: "Engineer"},
		{name: "contact type from template", field: psa.FieldContactType, source: `{{if eq .UserType "Member"}}Employee{{else}}External{{end}}`, want: "Employee"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, Config{Fields: map[psa.Field]FieldRule{tc.field: {Source: tc.source}}})
			u := fullUser()
			if tc.edit != nil {
				tc.edit(&u)
			}
			c, issues := m.Desired(u, testTenant)
			require.Equal(t, tc.want, c.Get(tc.field))
			require.False(t, Blocking(issues), "%v", issues)
		})
	}
}

func TestDesiredTemplateReplacesDefault(t *testing.T) {
	t.Parallel()
	// A custom email source gets no UPN fallback: the template is the rule.
	m := mustNew(t, Config{Fields: map[psa.Field]FieldRule{psa.FieldEmail: {Source: "{{.Mail}}"}}})
	u := fullUser()
	u.Mail = ""
	c, issues := m.Desired(u, testTenant)
	require.Empty(t, c.Email)
	require.Len(t, issues, 1)
	require.Equal(t, CodeUserDataIncomplete, issues[0].Code)
	require.Equal(t, psa.FieldEmail, issues[0].Field)
}

func TestDesiredInvalidFieldMapping(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 101) // 101 characters, 202 bytes
	tests := []struct {
		name      string
		fields    map[psa.Field]FieldRule
		edit      func(u *directory.User)
		want      []Issue
		wantEmpty psa.Field // the failed field is left blank
	}{
		{
			name:   "template fails to execute",
			fields: map[psa.Field]FieldRule{psa.FieldPhone: {Source: "{{index .BusinessPhones 0}}"}},
			edit:   func(u *directory.User) { u.BusinessPhones = nil },
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldPhone,
				Message: "mapping.fields.phone.source failed for this user: template: phone:1:2: executing \"phone\" at <index .BusinessPhones 0>: error calling index: ...",
			}},
			wantEmpty: psa.FieldPhone,
		},
		{
			name:   "failed email is not also reported missing",
			fields: map[psa.Field]FieldRule{psa.FieldEmail: {Source: "{{index .ProxyAddresses 0}}"}},
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldEmail,
				Message: "mapping.fields.email.source failed for this user: template: email:1:2: executing \"email\" at <index .ProxyAddresses 0>: error calling index: ...",
			}},
			wantEmpty: psa.FieldEmail,
		},
		{
			name:   "first name over 100 characters",
			fields: map[psa.Field]FieldRule{psa.FieldFirstName: {Source: "{{.JobTitle}}"}},
			edit:   func(u *directory.User) { u.JobTitle = long },
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldFirstName,
				Message: "first_name is 101 characters, longer than the 100 a PSA contact takes",
			}},
			wantEmpty: psa.FieldFirstName,
		},
		{
			name: "exactly 100 characters is fine",
			edit: func(u *directory.User) { u.Surname = long[:200] },
		},
		{
			name: "default last name over 100 characters",
			edit: func(u *directory.User) {
				u.GivenName, u.Surname, u.DisplayName = "", "", "Jane "+strings.Repeat("x", 101)
			},
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldLastName,
				Message: "last_name is 101 characters, longer than the 100 a PSA contact takes",
			}},
			wantEmpty: psa.FieldLastName,
		},
		{
			name:   "email over 250 characters",
			fields: map[psa.Field]FieldRule{psa.FieldEmail: {Source: `{{.JobTitle}}@contoso.com`}},
			edit:   func(u *directory.User) { u.JobTitle = strings.Repeat("a", 240) },
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldEmail,
				Message: "email is 252 characters, longer than the 250 a PSA contact takes",
			}},
			wantEmpty: psa.FieldEmail,
		},
		{
			name:   "other field over 250 characters",
			fields: map[psa.Field]FieldRule{psa.FieldJobTitle: {Source: `{{.JobTitle}}{{.JobTitle}}`}},
			edit:   func(u *directory.User) { u.JobTitle = strings.Repeat("a", 126) },
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldJobTitle,
				Message: "job_title is 252 characters, longer than the 250 a PSA contact takes",
			}},
			wantEmpty: psa.FieldJobTitle,
		},
		{
			name:   "templated email that is not an address",
			fields: map[psa.Field]FieldRule{psa.FieldEmail: {Source: "{{.DisplayName}}"}},
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldEmail,
				Message: `email "Jane Doe" is not an email address`,
			}},
		},
		{
			name: "default email that is not an address",
			edit: func(u *directory.User) { u.Mail = "jane@localhost" },
			want: []Issue{{
				Code:    CodeUserDataIncomplete,
				Field:   psa.FieldEmail,
				Message: `email "jane@localhost" is not an email address`,
			}},
		},
		{
			name:   "failed phone templates do not add the phone warning",
			fields: map[psa.Field]FieldRule{psa.FieldPhone: {Source: "{{index .BusinessPhones 9}}"}},
			edit:   func(u *directory.User) { u.BusinessPhones, u.MobilePhone = nil, "" },
			want: []Issue{{
				Code:    CodeInvalidFieldMapping,
				Field:   psa.FieldPhone,
				Message: "mapping.fields.phone.source failed for this user: template: phone:1:2: executing \"phone\" at <index .BusinessPhones 9>: error calling index: ...",
			}},
		},
		{
			name: "several issues together",
			edit: func(u *directory.User) {
				u.Mail, u.UserPrincipalName = "", "x@contoso.onmicrosoft.com"
				u.GivenName, u.Surname, u.DisplayName = "", "", ""
				u.BusinessPhones, u.MobilePhone = nil, ""
			},
			want: []Issue{
				{Code: CodeUserDataIncomplete, Field: psa.FieldEmail, Message: "user has no email address: mail is empty and the UPN is not on a verified domain"},
				{Code: CodeUserDataIncomplete, Field: psa.FieldFirstName, Message: "user has no name: givenName, surname and displayName are all empty"},
				{Code: CodeMissingPhoneNumber, Field: psa.FieldPhone, Message: "user has no business or mobile phone number", Warning: true},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, Config{Fields: tc.fields})
			u := fullUser()
			if tc.edit != nil {
				tc.edit(&u)
			}
			c, issues := m.Desired(u, testTenant)
			// Messages that quote text/template are checked by prefix: the
			// template package words its own part.
			for i := range issues {
				if i < len(tc.want) && strings.HasSuffix(tc.want[i].Message, "...") &&
					strings.HasPrefix(issues[i].Message, strings.TrimSuffix(tc.want[i].Message, "...")) {
					issues[i].Message = tc.want[i].Message
				}
			}
			require.Equal(t, tc.want, issues)
			require.Equal(t, len(tc.want) > 0 && !(len(tc.want) == 1 && tc.want[0].Warning), Blocking(issues))
			if tc.wantEmpty != "" {
				require.Empty(t, c.Get(tc.wantEmpty))
			}
		})
	}
}

func TestPlausibleEmail(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"jane@contoso.com":    true,
		"j@c.io":              true,
		"jane.doe+x@a.b.c":    true,
		"jane":                false,
		"@contoso.com":        false,
		"jane@":               false,
		"jane@contoso":        false,
		"jane@.com":           false,
		"jane@contoso.":       false,
		"jane@@contoso.com":   false,
		"ja ne@contoso.com":   false,
		"jane@con\ttoso.com":  false,
		"a@b@contoso.com":     false,
		"jane@contoso.co.uk":  true,
		"JANE@CONTOSO.COM":    true,
		"jäne@bücher.example": true,
	}
	for in, want := range tests {
		require.Equal(t, want, plausibleEmail(in), in)
	}
}

func TestBlocking(t *testing.T) {
	t.Parallel()
	require.False(t, Blocking(nil))
	require.False(t, Blocking([]Issue{{Code: CodeMissingPhoneNumber, Warning: true}}))
	require.True(t, Blocking([]Issue{{Code: CodeMissingPhoneNumber, Warning: true}, {Code: CodeUserDataIncomplete}}))
}

// TestMapperConcurrent runs templates from many goroutines; -race checks
// that the compiled Mapper and its buffer pool are safe to share.
func TestMapperConcurrent(t *testing.T) {
	t.Parallel()
	m := mustNew(t, Config{Fields: map[psa.Field]FieldRule{
		psa.FieldJobTitle: {Source: "{{.JobTitle}} ({{.Department}})"},
		psa.FieldEmail:    {Source: "{{lower .Mail}}"},
	}})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				u := fullUser()
				u.JobTitle = fmt.Sprintf("T%d-%d", g, i)
				u.Mail = fmt.Sprintf("U%d.%d@Contoso.com", g, i)
				c, issues := m.Desired(u, Tenant{SyncFilter: "department eq 'IT'"})
				if len(issues) != 0 || c.JobTitle != u.JobTitle+" (IT)" || c.Email != strings.ToLower(u.Mail) {
					t.Errorf("goroutine %d user %d: %+v %v", g, i, c, issues)
					return
				}
				if d := m.Decide(u, Tenant{SyncFilter: "department eq 'IT'"}, Scope{}); !d.InScope {
					t.Errorf("goroutine %d user %d: %+v", g, i, d)
					return
				}
			}
		})
	}
	wg.Wait()
}
