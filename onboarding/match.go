package onboarding

import (
	"fmt"
	"slices"
	"strings"

	"github.com/psasync/psasync/psa"
)

// Rule is how a tenant was matched to a PSA company. The rules have a
// fixed precedence (Rules): the best rule that finds any company decides.
type Rule string

// The matching rules, best first.
const (
	// RuleTenantID: the company's tenant-id field holds the tenant's id.
	RuleTenantID Rule = "tenant_id"
	// RuleDomain: the company's website or domain is one of the tenant's
	// verified domains.
	RuleDomain Rule = "domain"
	// RuleContactDomain: the company's contacts have email addresses in one
	// of the tenant's verified domains.
	RuleContactDomain Rule = "contact_domain"
	// RuleName: the normalized names are equal (NormalizeName).
	RuleName Rule = "name"
	// RuleManual: the operator named the company when accepting; not a
	// matching rule.
	RuleManual Rule = "manual"
	// RuleConfig: the tenant is in the config file; not a matching rule.
	RuleConfig Rule = "config"
)

// Rules are the rules in precedence order.
var Rules = []Rule{RuleTenantID, RuleDomain, RuleContactDomain, RuleName}

// TenantFacts is what matching knows of a customer tenant: its id, its
// current name and its verified domains (onmicrosoft.com ones included;
// they are ignored).
type TenantFacts struct {
	TenantID string
	Name     string
	Domains  []string
}

// CompanyFacts is a PSA company with its contacts' email domains.
type CompanyFacts struct {
	psa.Company
	ContactDomains []string
}

// Candidate is one company a rule found for a tenant, with the evidence.
type Candidate struct {
	CompanyID   string `json:"company_id"`
	CompanyName string `json:"company_name"`
	Rule        Rule   `json:"rule"`
	// Evidence says what matched, e.g. `website contoso.com is a verified domain`.
	Evidence string `json:"evidence"`
}

// Outcome is matching's verdict for one tenant: a Proposed company (one
// company at the best rule, wanted by no other tenant), or, when Proposed
// is nil, a review with the Candidates at the best rule (none when no rule
// found any company) and the Reason.
type Outcome struct {
	TenantID   string
	Proposed   *Candidate
	Candidates []Candidate
	Reason     string
}

// Taken maps a company id to the tenant it already belongs to (accepted
// mappings and the config's tenants), so matching never offers it to
// another tenant.
type Taken map[string]string

// Match applies the rules to every tenant. A company is a candidate for a
// tenant at the best rule that finds it, and inactive companies are never
// candidates, nor, for rules 2–4, companies whose tenant-id field names a
// different tenant. A tenant gets a proposal only when exactly one company
// is found at its best rule, no other tenant's proposal is the same
// company, and the company is not taken; everything else is a review.
// Match is pure: the same input gives the same output, in tenant order.
func Match(tenants []TenantFacts, companies []CompanyFacts, taken Taken) []Outcome {
	out := make([]Outcome, 0, len(tenants))
	for _, t := range tenants {
		out = append(out, matchOne(t, companies))
	}
	resolveConflicts(out, taken)
	return out
}

// matchOne finds the best rule's candidates for one tenant.
func matchOne(t TenantFacts, companies []CompanyFacts) Outcome {
	o := Outcome{TenantID: t.TenantID}
	domains := map[string]bool{}
	for _, d := range t.Domains {
		if d, ok := MatchableDomain(d); ok {
			domains[d] = true
		}
	}
	name := NormalizeName(t.Name)
	for _, rule := range Rules {
		for _, c := range companies {
			if c.Inactive {
				continue
			}
			if rule != RuleTenantID && c.TenantID != "" && !strings.EqualFold(c.TenantID, t.TenantID) {
				continue
			}
			if ev, ok := evidence(rule, t.TenantID, domains, name, c); ok {
				o.Candidates = append(o.Candidates, Candidate{CompanyID: c.ID, CompanyName: c.Name, Rule: rule, Evidence: ev})
			}
		}
		if len(o.Candidates) > 0 {
			break
		}
	}
	switch len(o.Candidates) {
	case 0:
		o.Reason = "no PSA company matches by tenant id, domain, contacts' domains or name"
	case 1:
		c := o.Candidates[0]
		o.Proposed = &c
	default:
		ids := make([]string, 0, len(o.Candidates))
		for _, c := range o.Candidates {
			ids = append(ids, c.CompanyID)
		}
		o.Reason = fmt.Sprintf("%d companies match by %s (%s); choose one", len(o.Candidates), o.Candidates[0].Rule, strings.Join(ids, ", "))
	}
	return o
}

// evidence reports whether rule finds company c for the tenant, and why.
func evidence(rule Rule, tenantID string, domains map[string]bool, name string, c CompanyFacts) (string, bool) {
	switch rule {
	case RuleTenantID:
		if c.TenantID != "" && strings.EqualFold(c.TenantID, tenantID) {
			return "the company's tenant-id field is " + c.TenantID, true
		}
	case RuleDomain:
		own := append([]string{psa.WebsiteDomain(c.Website)}, c.Domains...)
		for _, d := range own {
			if d, ok := MatchableDomain(d); ok && domains[d] {
				return "company domain " + d + " is a verified domain of the tenant", true
			}
		}
	case RuleContactDomain:
		var hit []string
		for _, d := range c.ContactDomains {
			if d, ok := MatchableDomain(d); ok && domains[d] && !slices.Contains(hit, d) {
				hit = append(hit, d)
			}
		}
		if len(hit) > 0 {
			slices.Sort(hit)
			return "contacts' email domain " + strings.Join(hit, ", ") + " is a verified domain of the tenant", true
		}
	case RuleName:
		if name != "" && NormalizeName(c.Name) == name {
			return fmt.Sprintf("name %q equals the tenant's name once normalized (%q)", c.Name, name), true
		}
	}
	return "", false
}

// resolveConflicts turns proposals into reviews where two tenants want
// one company, or the company already belongs to another tenant.
func resolveConflicts(out []Outcome, taken Taken) {
	wanted := map[string][]string{}
	for _, o := range out {
		if o.Proposed != nil {
			wanted[o.Proposed.CompanyID] = append(wanted[o.Proposed.CompanyID], o.TenantID)
		}
	}
	for i := range out {
		o := &out[i]
		if o.Proposed == nil {
			continue
		}
		cid := o.Proposed.CompanyID
		if owner, ok := taken[cid]; ok && !strings.EqualFold(owner, o.TenantID) {
			o.Reason = fmt.Sprintf("company %s is already mapped to tenant %s", cid, owner)
			o.Proposed = nil
			continue
		}
		if others := wanted[cid]; len(others) > 1 {
			var rest []string
			for _, t := range others {
				if t != o.TenantID {
					rest = append(rest, t)
				}
			}
			o.Reason = fmt.Sprintf("conflict: company %s is also the match of tenant %s", cid, strings.Join(rest, ", "))
			o.Proposed = nil
		}
	}
}
