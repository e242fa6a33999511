package worker

import (
	"context"
	"sort"
	"strings"
)

// record is step 6 of a run: every result goes into the report with the
// tally of the users the plan step left alone (they are counted, not
// listed: their warnings, such as a missing phone, come back every run),
// and links found without a write are cached.
func (r *run) record(ctx context.Context, results []applyResult, links map[string]Link, plans *runPlans) {
	rep := r.rep
	q := plans.quiet
	rep.Statistics.UsersProcessed += q.users
	rep.Statistics.ContactsSkipped += q.users
	rep.Statistics.SkippedByReason, rep.Statistics.QuietWarnings = q.reasons, q.warnings
	for _, p := range q.links {
		r.e.storeLink(ctx, r.t.ID, p)
	}
	for _, res := range results {
		p := res.plan
		if p.kind == actSkip && p.link != nil && !r.in.DryRun {
			if l, ok := links[p.user.ID]; !ok || l != *p.link {
				r.e.storeLink(ctx, r.t.ID, p)
			}
		}
		if p.orphan {
			rep.Statistics.OrphanedContacts++
		} else {
			rep.Statistics.UsersProcessed++
		}
		rep.Warnings = append(rep.Warnings, p.warnings...)
		switch {
		case res.err != nil:
			rep.Errors = append(rep.Errors, *res.err)
		case p.kind == actError:
			rep.Errors = append(rep.Errors, ErrorItem{UserPrincipalName: p.upn, Code: p.errCode, Message: p.errMsg, Timestamp: r.e.cfg.Now().UTC(), PSAError: psaErrorText(p.cause)})
		case p.kind == actCreate:
			rep.Statistics.ContactsCreated++
			// A create's values are all new: a dry run shows them for review;
			// after a real one they are in the change log, and a first sync
			// of a large tenant keeps a report of a few bytes per contact.
			var planned []FieldChange
			if r.in.DryRun {
				planned = p.written()
			}
			rep.CreatedContacts = append(rep.CreatedContacts, contactResult(p.user, p.upn, res.written, nil, p.action, planned))
		case p.kind == actUpdate:
			rep.Statistics.ContactsUpdated++
			switch p.action {
			case ActionDeactivated:
				rep.Statistics.ContactsDeactivated++
			case ActionReactivated:
				rep.Statistics.ContactsReactivated++
			}
			rep.UpdatedContacts = append(rep.UpdatedContacts, contactResult(p.user, p.upn, res.written, p.fields, p.action, p.changes))
		default:
			rep.Statistics.ContactsSkipped++
			rep.Statistics.SkippedByReason[p.reason]++
			rep.SkippedContacts = append(rep.SkippedContacts, SkipItem{UserPrincipalName: p.upn, Reason: p.reason})
		}
	}
}

// quietSkip reports whether a skip reason needs no one's attention: such
// users are counted per reason, and listed only when the run asks.
func quietSkip(reason string) bool {
	return reason == SkipUnchanged || strings.HasPrefix(reason, skipOutOfScope)
}

func sortReport(rep *Report) {
	sort.SliceStable(rep.CreatedContacts, func(i, j int) bool {
		return lessFold(rep.CreatedContacts[i].UserPrincipalName, rep.CreatedContacts[j].UserPrincipalName)
	})
	sort.SliceStable(rep.UpdatedContacts, func(i, j int) bool {
		return lessFold(rep.UpdatedContacts[i].UserPrincipalName, rep.UpdatedContacts[j].UserPrincipalName)
	})
	sort.SliceStable(rep.Errors, func(i, j int) bool { return lessFold(rep.Errors[i].UserPrincipalName, rep.Errors[j].UserPrincipalName) })
	sort.SliceStable(rep.SkippedContacts, func(i, j int) bool {
		return lessFold(rep.SkippedContacts[i].UserPrincipalName, rep.SkippedContacts[j].UserPrincipalName)
	})
}

func lessFold(a, b string) bool { return strings.ToLower(a) < strings.ToLower(b) }
