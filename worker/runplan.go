package worker

import (
	"context"
	"sort"

	"github.com/psasync/psasync/graph/directory"
)

// contacts is step 2: read, once and in pages, every company the run's
// users may map to and every company a stored link points to; a small
// incremental run asks the PSA per user instead. A full run reads its
// contacts before it lists the users, so it reads every company a user
// could map to: the run's company_id, or the tenant's mapped domains'
// companies and its default company.
func (r *run) contacts(ctx context.Context, users []directory.User, links map[string]Link) (contactSource, error) {
	if !r.full && len(users) <= r.e.cfg.BulkThreshold {
		return liveSource{e: r.e, w: r.w}, nil
	}
	r.update(func(p *Progress) { p.Phase = PhaseReading })
	want := map[string]bool{}
	switch {
	case r.full && r.in.CompanyID != "":
		want[r.in.CompanyID] = true
	case r.full:
		want[r.t.DefaultCompanyID] = true
		for _, c := range r.t.DomainCompanies {
			want[c] = true
		}
	default:
		pl := r.e.newPlanner(r.t, r.in, nil, nil)
		for _, u := range users {
			want[pl.company(u, u.Mail)] = true
		}
	}
	for _, l := range links {
		want[l.CompanyID] = true
	}
	delete(want, "")
	ids := make([]string, 0, len(want))
	for c := range want {
		ids = append(ids, c)
	}
	sort.Strings(ids)
	idx := &bulkIndex{companies: make(map[string]*companyContacts, len(ids))}
	for _, c := range ids {
		cs, err := r.e.listContacts(ctx, r.w, c)
		if err != nil {
			return nil, err
		}
		idx.companies[c] = newCompanyContacts(cs)
	}
	return idx, nil
}

// runPlans is what the plan step keeps of a run: the plans the later steps
// act on, and a tally of the users it left alone.
type runPlans struct {
	// kept are the creates, updates, errors and the skips that need
	// attention; users skipped as unchanged or out of scope are only
	// tallied (unless the run lists skipped users).
	kept  []*userPlan
	quiet quietTally
	// deltaLink is the link a full run's listing started with.
	deltaLink string
}

// quietTally counts the users a run left alone, and the links it found on
// the way that the cache lacked.
type quietTally struct {
	users    int
	reasons  map[string]int
	warnings map[string]int
	links    []*userPlan
}

// planCollector turns each user into a plan as the enumeration yields it,
// keeping only what the later steps need.
type planCollector struct {
	r     *run
	links map[string]Link
	book  conflictBook
	out   *runPlans
	// seen are the users the tenant has, for the orphan check.
	seen map[string]bool
}

// reset forgets what was collected, for an enumeration that starts again.
func (c *planCollector) reset() {
	c.out.kept, c.out.quiet = nil, quietTally{reasons: map[string]int{}, warnings: map[string]int{}}
	c.seen = map[string]bool{}
}

// add plans one user: it meets the operator's decisions on conflicts (a
// dry run honours them but records nothing), then is kept or tallied.
func (c *planCollector) add(ctx context.Context, pl *planner, u directory.User) {
	r := c.r
	c.seen[u.ID] = true
	p := pl.plan(ctx, u)
	if p.kind == actIgnore {
		return
	}
	if r.in.DryRun {
		if c.book.ignored[u.ID] {
			p.kind, p.reason = actSkip, skipIgnoredConflict
		}
	} else {
		r.e.settleConflict(ctx, r.t.ID, p, c.book.open[u.ID], c.book.ignored[u.ID])
	}
	if p.kind == actSkip && quietSkip(p.reason) && !r.in.ListSkipped {
		q := &c.out.quiet
		q.users++
		q.reasons[p.reason]++
		for _, w := range p.warnings {
			q.warnings[w.Code]++
		}
		if l, ok := c.links[u.ID]; p.link != nil && !r.in.DryRun && (!ok || l != *p.link) {
			q.links = append(q.links, &userPlan{user: directory.User{ID: u.ID}, link: p.link})
		}
		return
	}
	// Keep of the user what the report and the change log name.
	p.user = directory.User{ID: u.ID, UserPrincipalName: u.UserPrincipalName, DisplayName: u.DisplayName, Removed: u.Removed}
	c.out.kept = append(c.out.kept, p)
}

// plan is step 3: decide for every user (a full run lists them here, page
// by page) and, in a full run of the whole tenant, for the contacts whose
// users are gone.
func (r *run) plan(ctx context.Context, src contactSource, users []directory.User, links map[string]Link) (*runPlans, error) {
	r.update(func(p *Progress) { p.Phase = PhasePlanning })
	linkOf := func(_ context.Context, user string) (Link, bool, error) { l, ok := links[user]; return l, ok, nil }
	newPlanner := func() *planner { return r.e.newPlanner(r.t, r.in, src, linkOf) }
	c := &planCollector{r: r, links: links, book: r.e.loadConflicts(ctx, r.t.ID), out: &runPlans{}}
	c.reset()
	pl := newPlanner()
	if r.full {
		var err error
		if c.out.deltaLink, err = r.listAndPlan(ctx, c, newPlanner); err != nil {
			return nil, err
		}
	} else {
		for _, u := range users {
			c.add(ctx, pl, u)
		}
	}
	if r.full && !r.in.narrowed() {
		if idx, ok := src.(*bulkIndex); ok {
			addExclusiveLinks(r.t, idx, links, c.seen)
		}
		c.out.kept = append(c.out.kept, planOrphans(ctx, pl, links, c.seen)...)
	}
	planned := 0
	for _, p := range c.out.kept {
		if p.kind == actCreate || p.kind == actUpdate {
			planned++
		}
	}
	r.update(func(p *Progress) { p.Planned = planned })
	return c.out, nil
}
