package mapping

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// psaCopy is the contact as the PSA would hold it after a create from
// desired: same data, the PSA's own id, company and formatting.
func psaCopy(desired psa.Contact) psa.Contact {
	c := desired
	c.ID, c.CompanyID = "42", "100"
	return c
}

func TestDiff(t *testing.T) {
	t.Parallel()
	base := psa.Contact{
		ExternalID:     "obj-1",
		FirstName:      "Jane",
		LastName:       "Doe",
		Email:          "jane.doe@contoso.com",
		Phone:          "+44 113 496 0000",
		MobilePhone:    "+44 7700 900000",
		JobTitle:       "Engineer",
		Department:     "IT",
		OfficeLocation: "Leeds",
		ContactType:    "End User",
	}
	tests := []struct {
		name    string
		fields  map[psa.Field]FieldRule
		current func(c *psa.Contact)
		desired func(c *psa.Contact)
		want    []psa.Field
	}{
		{name: "identical"},
		{name: "one field", desired: func(c *psa.Contact) { c.JobTitle = "Lead" }, want: []psa.Field{psa.FieldJobTitle}},
		{name: "report order regardless of edit order",
			desired: func(c *psa.Contact) { c.Phone = "+44 113 496 9999"; c.JobTitle = "Lead"; c.FirstName = "Janet" },
			want:    []psa.Field{psa.FieldFirstName, psa.FieldPhone, psa.FieldJobTitle}},
		{name: "every mappable always field",
			current: func(c *psa.Contact) { *c = psa.Contact{ContactType: "End User"} },
			want: []psa.Field{psa.FieldFirstName, psa.FieldLastName, psa.FieldEmail, psa.FieldPhone, psa.FieldMobilePhone,
				psa.FieldJobTitle, psa.FieldDepartment, psa.FieldOfficeLocation}},

		{name: "email ignores case", current: func(c *psa.Contact) { c.Email = "Jane.Doe@CONTOSO.com" }},
		{name: "email change", current: func(c *psa.Contact) { c.Email = "jdoe@contoso.com" }, want: []psa.Field{psa.FieldEmail}},
		{name: "names are case-sensitive", current: func(c *psa.Contact) { c.LastName = "doe" }, want: []psa.Field{psa.FieldLastName}},
		{name: "spaces trimmed on both sides",
			current: func(c *psa.Contact) { c.FirstName = " Jane "; c.Department = "IT\n" },
			desired: func(c *psa.Contact) { c.JobTitle = "Engineer  " }},
		{name: "inner spaces matter", current: func(c *psa.Contact) { c.OfficeLocation = "Le eds" }, want: []psa.Field{psa.FieldOfficeLocation}},

		{name: "phone formatting ignored", current: func(c *psa.Contact) { c.Phone = "441134960000"; c.MobilePhone = "(+44) 7700-900-000" }},
		{name: "phone with extension formatting", current: func(c *psa.Contact) { c.Phone = "+44 113 496 0000 x" }},
		{name: "phone digits changed", current: func(c *psa.Contact) { c.Phone = "+44 113 496 0001" }, want: []psa.Field{psa.FieldPhone}},
		{name: "phone digit dropped", current: func(c *psa.Contact) { c.MobilePhone = "+44 7700 90000" }, want: []psa.Field{psa.FieldMobilePhone}},
		{name: "phone digit added", current: func(c *psa.Contact) { c.Phone = "+44 113 496 00000" }, want: []psa.Field{psa.FieldPhone}},
		{name: "phone placeholder text compared as text", current: func(c *psa.Contact) { c.Phone = "N/A" },
			desired: func(c *psa.Contact) { c.Phone = "n/a" }},
		{name: "phone placeholder changed", current: func(c *psa.Contact) { c.Phone = "none" },
			desired: func(c *psa.Contact) { c.Phone = "n/a" }, want: []psa.Field{psa.FieldPhone}},
		{name: "phone placeholder replaced by number", current: func(c *psa.Contact) { c.Phone = "n/a" }, want: []psa.Field{psa.FieldPhone}},
		{name: "phone set where PSA had none", current: func(c *psa.Contact) { c.MobilePhone = "" }, want: []psa.Field{psa.FieldMobilePhone}},

		{name: "blank never overwrites by default",
			desired: func(c *psa.Contact) { c.Phone = ""; c.Department = "  "; c.JobTitle = "" }},
		{name: "blank overwrites when allowed",
			fields:  map[psa.Field]FieldRule{psa.FieldDepartment: {AllowBlank: true}, psa.FieldPhone: {AllowBlank: true}},
			desired: func(c *psa.Contact) { c.Phone = ""; c.Department = "  "; c.JobTitle = "" },
			want:    []psa.Field{psa.FieldPhone, psa.FieldDepartment}},
		{name: "allowed blank over blank is no change",
			fields:  map[psa.Field]FieldRule{psa.FieldDepartment: {AllowBlank: true}},
			current: func(c *psa.Contact) { c.Department = " " },
			desired: func(c *psa.Contact) { c.Department = "" }},

		{name: "contact type is on_create by default", current: func(c *psa.Contact) { c.ContactType = "Vendor" }},
		{name: "contact type always when configured",
			fields:  map[psa.Field]FieldRule{psa.FieldContactType: {Mode: ModeAlways}},
			current: func(c *psa.Contact) { c.ContactType = "Vendor" },
			want:    []psa.Field{psa.FieldContactType}},
		{name: "contact type ignores case",
			fields:  map[psa.Field]FieldRule{psa.FieldContactType: {Mode: ModeAlways}},
			current: func(c *psa.Contact) { c.ContactType = "end user" }},
		{name: "on_create field never in an update",
			fields:  map[psa.Field]FieldRule{psa.FieldJobTitle: {Mode: ModeOnCreate}, psa.FieldPhone: {Mode: ModeOnCreate, AllowBlank: true}},
			desired: func(c *psa.Contact) { c.JobTitle = "Lead"; c.Phone = ""; c.Department = "Ops" },
			want:    []psa.Field{psa.FieldDepartment}},

		{name: "inactive and link are the engine's",
			current: func(c *psa.Contact) { c.Inactive = true; c.ExternalID = ""; c.ID = "7"; c.CompanyID = "9" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := mustNew(t, Config{Fields: tc.fields})
			current, desired := psaCopy(base), base
			if tc.current != nil {
				tc.current(&current)
			}
			if tc.desired != nil {
				tc.desired(&desired)
			}
			require.Equal(t, tc.want, m.Diff(current, desired))
		})
	}
}

// TestDiffAfterCreateIsEmpty: what Desired produced and the PSA stored
// must not diff, or every run would write every contact again.
func TestDiffAfterCreateIsEmpty(t *testing.T) {
	t.Parallel()
	m := mustNew(t, DefaultConfig())
	u := fullUser()
	desired, issues := m.Desired(u, testTenant)
	require.Empty(t, issues)
	require.Nil(t, m.Diff(psaCopy(desired), desired))

	u.JobTitle, u.BusinessPhones = "Lead", []string{"+44 113 496 1234"}
	next, _ := m.Desired(u, testTenant)
	require.Equal(t, []psa.Field{psa.FieldPhone, psa.FieldJobTitle}, m.Diff(psaCopy(desired), next))
}

func TestSamePhone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want bool
	}{
		{"", "", true},
		{"+1 (555) 010-0100", "15550100100", true},
		{"1", "1", true},
		{"12", "1", false},
		{"1", "12", false},
		{"1-2", "12", true},
		{"ext", "EXT", true},
		{"ext", "ext.", false},
		{"", "1", false},
		{"1", "", false},
		{"abc1", "1", true},
		{"1abc", "1", true},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, samePhone(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
		require.Equal(t, tc.want, samePhone(tc.b, tc.a), "%q vs %q", tc.b, tc.a)
	}
}
