package onboarding_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/psa"
)

const (
	tenantA = "11111111-1111-4111-8111-111111111111"
	tenantB = "22222222-2222-4222-8222-222222222222"
)

func company(id, name string, mod ...func(*onboarding.CompanyFacts)) onboarding.CompanyFacts {
	c := onboarding.CompanyFacts{Company: psa.Company{ID: id, Name: name}}
	for _, m := range mod {
		m(&c)
	}
	return c
}

func website(w string) func(*onboarding.CompanyFacts) {
	return func(c *onboarding.CompanyFacts) { c.Website = w }
}
func tenantField(t string) func(*onboarding.CompanyFacts) {
	return func(c *onboarding.CompanyFacts) { c.TenantID = t }
}
func contacts(d ...string) func(*onboarding.CompanyFacts) {
	return func(c *onboarding.CompanyFacts) { c.ContactDomains = d }
}
func inactive(c *onboarding.CompanyFacts) { c.Inactive = true }

func TestMatchPrecedence(t *testing.T) {
	t.Parallel()
	contoso := onboarding.TenantFacts{TenantID: tenantA, Name: "Contoso Ltd", Domains: []string{"contoso.com", "contoso.onmicrosoft.com"}}
	tests := []struct {
		name       string
		companies  []onboarding.CompanyFacts
		wantID     string // proposed company, "" for a review
		wantRule   onboarding.Rule
		candidates []string
		reason     string
	}{
		{name: "tenant id beats every other rule",
			companies: []onboarding.CompanyFacts{company("1", "Contoso", website("contoso.com")), company("2", "Other", tenantField(strings.ToUpper(tenantA)))},
			wantID:    "2", wantRule: onboarding.RuleTenantID},
		{name: "website beats contacts and name",
			companies: []onboarding.CompanyFacts{company("1", "Contoso", contacts("contoso.com")), company("2", "Fabrikam", website("https://www.Contoso.com/about"))},
			wantID:    "2", wantRule: onboarding.RuleDomain},
		{name: "domains field counts as the company's domain",
			companies: []onboarding.CompanyFacts{company("3", "X", func(c *onboarding.CompanyFacts) { c.Domains = []string{"contoso.com"} })},
			wantID:    "3", wantRule: onboarding.RuleDomain},
		{name: "contacts' domains beat name",
			companies: []onboarding.CompanyFacts{company("1", "Contoso Limited"), company("2", "C Corp", contacts("gmail.com", "contoso.com"))},
			wantID:    "2", wantRule: onboarding.RuleContactDomain},
		{name: "name without legal suffix and case",
			companies: []onboarding.CompanyFacts{company("1", "CONTOSO, INC."), company("2", "Contoso Partners")},
			wantID:    "1", wantRule: onboarding.RuleName},
		{name: "two companies by domain: review with both",
			companies:  []onboarding.CompanyFacts{company("1", "A", website("contoso.com")), company("2", "B", website("www.contoso.com")), company("3", "Contoso")},
			candidates: []string{"1", "2"}, reason: "2 companies match by domain"},
		{name: "nothing matches: review without candidates",
			companies: []onboarding.CompanyFacts{company("1", "Fabrikam", website("fabrikam.com"))},
			reason:    "no PSA company matches"},
		{name: "onmicrosoft.com never matches",
			companies: []onboarding.CompanyFacts{company("1", "X", website("contoso.onmicrosoft.com")), company("2", "Y", contacts("contoso.onmicrosoft.com"))},
			reason:    "no PSA company matches"},
		{name: "inactive companies are never candidates",
			companies: []onboarding.CompanyFacts{company("1", "Contoso", website("contoso.com"), inactive), company("2", "Contoso Ltd", tenantField(tenantA), inactive)},
			reason:    "no PSA company matches"},
		{name: "a company holding another tenant's id is not a domain candidate",
			companies: []onboarding.CompanyFacts{company("1", "Contoso", website("contoso.com"), tenantField(tenantB)), company("2", "Contoso")},
			wantID:    "2", wantRule: onboarding.RuleName},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out := onboarding.Match([]onboarding.TenantFacts{contoso}, tc.companies, nil)
			require.Len(t, out, 1)
			o := out[0]
			if tc.wantID != "" {
				require.NotNil(t, o.Proposed, o.Reason)
				require.Equal(t, tc.wantID, o.Proposed.CompanyID)
				require.Equal(t, tc.wantRule, o.Proposed.Rule)
				require.NotEmpty(t, o.Proposed.Evidence)
				return
			}
			require.Nil(t, o.Proposed)
			require.Contains(t, o.Reason, tc.reason)
			var ids []string
			for _, c := range o.Candidates {
				ids = append(ids, c.CompanyID)
				require.NotEmpty(t, c.Evidence)
			}
			require.Equal(t, tc.candidates, ids)
		})
	}
}

func TestMatchConflicts(t *testing.T) {
	t.Parallel()
	a := onboarding.TenantFacts{TenantID: tenantA, Name: "Contoso", Domains: []string{"contoso.com"}}
	b := onboarding.TenantFacts{TenantID: tenantB, Name: "Contoso Group", Domains: []string{"contoso.com"}}
	companies := []onboarding.CompanyFacts{company("7", "Contoso", website("contoso.com"))}

	t.Run("two tenants want one company", func(t *testing.T) {
		t.Parallel()
		out := onboarding.Match([]onboarding.TenantFacts{a, b}, companies, nil)
		for i, other := range []string{tenantB, tenantA} {
			require.Nil(t, out[i].Proposed)
			require.Contains(t, out[i].Reason, "conflict: company 7 is also the match of tenant "+other)
			require.Len(t, out[i].Candidates, 1)
		}
	})
	t.Run("a company taken by another tenant", func(t *testing.T) {
		t.Parallel()
		out := onboarding.Match([]onboarding.TenantFacts{a}, companies, onboarding.Taken{"7": tenantB})
		require.Nil(t, out[0].Proposed)
		require.Contains(t, out[0].Reason, "already mapped to tenant "+tenantB)
	})
	t.Run("a company taken by the same tenant is its proposal", func(t *testing.T) {
		t.Parallel()
		out := onboarding.Match([]onboarding.TenantFacts{a}, companies, onboarding.Taken{"7": tenantA})
		require.NotNil(t, out[0].Proposed)
	})
}

func TestNormalizeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Contoso Ltd":              "contoso",
		"CONTOSO LIMITED":          "contoso",
		"Contoso, Inc.":            "contoso",
		"Contoso Pty Ltd":          "contoso",
		"Contoso B.V.":             "contoso",
		"Contoso GmbH & Co. KG":    "contoso",
		"  Smith &   Jones  LLC ":  "smith and jones",
		"Smith and Jones":          "smith and jones",
		"O'Brien Plumbing":         "obrien plumbing",
		"Ltd":                      "ltd",
		"...":                      "",
		"Müller GmbH":              "müller",
		"A.B.C. Consulting Ltd":    "abc consulting",
		"Northwind Traders, Corp.": "northwind traders",
	} {
		require.Equal(t, want, onboarding.NormalizeName(in), in)
	}
}

// normalizeProperties are what the name rule relies on, for any name.
func normalizeProperties(t *testing.T, name string) {
	n := onboarding.NormalizeName(name)
	require.Equal(t, n, onboarding.NormalizeName(n), "idempotent: %q", name)
	require.Equal(t, n, onboarding.NormalizeName(strings.ToUpper(name)), "case: %q", name)
	if n == "" {
		return
	}
	for _, suffix := range []string{" Ltd", " Limited", ", Inc.", " LLC", " GmbH", " Pty Ltd"} {
		require.Equal(t, n, onboarding.NormalizeName(name+suffix), "suffix %q: %q", suffix, name)
	}
	require.Equal(t, n, onboarding.NormalizeName("  "+strings.ReplaceAll(name, " ", "  \t")+" "), "whitespace: %q", name)
	require.Equal(t, n, onboarding.NormalizeName(name+"."), "punctuation: %q", name)
	require.NotContains(t, n, "  ")
}

func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Contoso Ltd", "A.B.C.", "Smith & Jones", "Ltd", "", "x", "Ärzte GmbH", "co co co", "a b", "İstanbul AŞ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			t.Skip("names are text")
		}
		normalizeProperties(t, name)
	})
}
