package worker

import (
	"context"
	"errors"
	"fmt"

	"github.com/psasync/psasync/graph/directory"
)

// enumerate is step 1: an incremental run reads the delta since the
// stored link (and counts the tenant's enabled users); it returns the users
// and the delta link to keep. A run that goes full (asked to, or without a
// usable link) returns no users: its plan step lists them page by page
// (listAndPlan).
func (r *run) enumerate(ctx context.Context) ([]directory.User, string, error) {
	if r.full {
		r.rep.SyncMode = ModeFull
		return nil, "", nil
	}
	link, err := r.e.store.DeltaLink(ctx, r.t.ID)
	if err != nil {
		return nil, "", err
	}
	if link == "" {
		r.full, r.rep.SyncMode = true, ModeFull
		r.warn(WarnDeltaReset, "no delta link stored for this tenant; enumerated every user")
		return nil, "", nil
	}
	res, err := doValue(ctx, r.w, func() (directory.DeltaResult, error) { return r.t.Directory.Delta(ctx, link) })
	if errors.Is(err, directory.ErrDeltaExpired) {
		r.full, r.rep.SyncMode = true, ModeFull
		r.warn(WarnDeltaReset, "the stored delta link has expired; enumerated every user")
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read users of tenant %s from Microsoft Graph: %w", r.t.ID, err)
	}
	if err := r.readPartialUsers(ctx, res.Users); err != nil {
		return nil, "", err
	}
	r.countEnabledUsers(ctx)
	r.update(func(p *Progress) { p.UsersEnumerated = len(res.Users) })
	return res.Users, res.DeltaLink, nil
}

// listAndPlan enumerates the tenant for a full run and plans each user as
// its page arrives: first a delta link that starts now, then every user in
// pages of 999 (a tenth of the requests of a delta enumeration, whose pages
// hold 100). A change made while the users are listed is in the next delta
// round as well: it may be seen twice, never lost. When a throttled page
// makes the listing start again, so does the planning.
func (r *run) listAndPlan(ctx context.Context, c *planCollector, newPlanner func() *planner) (string, error) {
	link, err := doValue(ctx, r.w, func() (string, error) { return r.t.Directory.LatestDeltaLink(ctx) })
	if err != nil {
		return "", fmt.Errorf("read users of tenant %s from Microsoft Graph: %w", r.t.ID, err)
	}
	err = r.w.do(ctx, func() error {
		c.reset()
		pl := newPlanner()
		n, enabled := 0, 0
		for u, err := range r.t.Directory.ListUsers(ctx) {
			if err != nil {
				return err
			}
			if !u.Deleted() && u.Enabled() {
				enabled++
			}
			c.add(ctx, pl, u)
			if n++; n%1000 == 0 {
				r.update(func(p *Progress) { p.UsersEnumerated = n })
			}
		}
		r.rep.Statistics.TotalOffice365Users = enabled
		r.update(func(p *Progress) { p.UsersEnumerated = n })
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read users of tenant %s from Microsoft Graph: %w", r.t.ID, err)
	}
	return link, nil
}

// readPartialUsers reads whole the delta items that carry only the changed
// properties.
func (r *run) readPartialUsers(ctx context.Context, users []directory.User) error {
	for i, u := range users {
		if u.Deleted() || u.UserPrincipalName != "" {
			continue
		}
		whole, err := doValue(ctx, r.w, func() (directory.User, error) { return r.t.Directory.GetUser(ctx, u.ID) })
		switch {
		case errors.Is(err, directory.ErrNotFound):
			users[i] = directory.User{ID: u.ID, Removed: &directory.Removed{Reason: "deleted"}}
		case err != nil:
			return fmt.Errorf("read user %s: %w", u.ID, err)
		default:
			users[i] = whole
		}
	}
	return nil
}

// countEnabledUsers asks Graph for the tenant's enabled users (one
// request): an incremental run sees only the users that changed.
func (r *run) countEnabledUsers(ctx context.Context) {
	n, err := doValue(ctx, r.w, func() (int, error) { return r.t.Directory.CountEnabledUsers(ctx) })
	if err != nil {
		r.warn(WarnUserCountUnavailable, "could not count the tenant's enabled users, so total_office365_users is 0: "+err.Error())
		return
	}
	r.rep.Statistics.TotalOffice365Users = n
}
