package worker

import "fmt"

// guard is step 4 of a run: it vetoes a company's deactivations when they
// exceed the configured share of its linked contacts, so a scope mistake
// cannot deactivate a company's contacts wholesale.
func (r *run) guard(src contactSource, links map[string]Link, plans []*userPlan) {
	cfg := r.e.cfg
	planned := map[string]int{}
	for _, p := range plans {
		if p.kind == actUpdate && p.deactivation {
			planned[p.contact.CompanyID]++
		}
	}
	for company, n := range planned {
		linked := linkedContacts(src, links, company)
		allowed := max(int(cfg.DeactivationGuard*float64(linked)), cfg.DeactivationGuardMin)
		if n <= allowed {
			continue
		}
		r.warn(WarnDeactivationGuard, fmt.Sprintf("run would deactivate %d of %d linked contacts in company %s (more than %.0f%%); deactivated none. Check the tenant's scope settings, then run again with a higher deactivation guard if this is intended", n, linked, company, cfg.DeactivationGuard*100))
		for _, p := range plans {
			if p.kind == actUpdate && p.deactivation && p.contact.CompanyID == company {
				p.kind, p.reason = actSkip, "deactivation guard"
			}
		}
	}
}

// linkedContacts counts a company's active contacts linked to a user: from
// the contacts the run read, else from the stored links.
func linkedContacts(src contactSource, links map[string]Link, company string) int {
	n := 0
	if idx, ok := src.(*bulkIndex); ok && idx.companies[company] != nil {
		for _, c := range idx.companies[company].all {
			if c.ExternalID != "" && !c.Inactive {
				n++
			}
		}
		return n
	}
	for _, l := range links {
		if l.CompanyID == company {
			n++
		}
	}
	return n
}
