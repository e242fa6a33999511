package worker

import "sort"

// ExclusiveCompanies lists, sorted, the PSA companies that only tenant maps
// to. owners maps each tenant id to the company ids it maps to (its default
// company and its domain companies). A run deactivates orphaned contacts
// (contacts linked to no user) only in these companies: a company shared
// with another tenant holds that tenant's contacts too, and they are not
// this run's to judge.
func ExclusiveCompanies(owners map[string][]string, tenant string) []string {
	byCompany := map[string]map[string]bool{}
	for t, companies := range owners {
		for _, c := range companies {
			if c == "" {
				continue
			}
			if byCompany[c] == nil {
				byCompany[c] = map[string]bool{}
			}
			byCompany[c][t] = true
		}
	}
	var out []string
	for c, ts := range byCompany {
		if len(ts) == 1 && ts[tenant] {
			out = append(out, c)
		}
	}
	sort.Strings(out)
	return out
}
