package worker

import (
	"context"
	"sort"

	"github.com/psasync/psasync/graph/directory"
)

// addExclusiveLinks adds, as links, the contacts in the tenant's exclusive
// companies that carry an object id the tenant no longer has, so that
// planOrphans sees them even when Redis lost its links.
func addExclusiveLinks(t Tenant, idx *bulkIndex, links map[string]Link, seen map[string]bool) {
	for _, company := range t.ExclusiveCompanies {
		cc := idx.companies[company]
		if cc == nil {
			continue
		}
		for _, c := range cc.all {
			if c.ExternalID == "" || c.Inactive || seen[c.ExternalID] {
				continue
			}
			if _, ok := links[c.ExternalID]; !ok {
				links[c.ExternalID] = Link{ContactID: c.ID, CompanyID: c.CompanyID}
			}
		}
	}
}

// planOrphans deactivates contacts linked to users that no longer exist in
// the tenant (hard-deleted, so no delta item names them).
func planOrphans(ctx context.Context, pl *planner, links map[string]Link, seen map[string]bool) []*userPlan {
	var ids []string
	for user := range links {
		if !seen[user] {
			ids = append(ids, user)
		}
	}
	sort.Strings(ids)
	var out []*userPlan
	for _, user := range ids {
		p := pl.planRemoval(ctx, &userPlan{user: directory.User{ID: user}, orphan: true}, "user no longer exists in Microsoft 365")
		if p.kind == actUpdate || p.kind == actError {
			out = append(out, p)
		}
	}
	return out
}
