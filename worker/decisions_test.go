package worker_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/simkit"
	"github.com/psasync/psasync/worker"
)

// TestConflictIsResolvedByLinkingAndThenSilent: a seeded duplicate becomes
// one open conflict (an error on the run that meets it, a quiet skip on the
// next); linking the user to one candidate writes the object id onto it,
// under the operator's name, and the next two runs neither err nor write.
// Stale and wrong resolutions are refused and change nothing.
func TestConflictIsResolvedByLinkingAndThenSilent(t *testing.T) {
	t.Parallel()
	twin := member(1, "twin", "Twin", "One")
	w := newWorld(t, worldOpts{users: []graphsim.User{twin}})
	a := strconv.Itoa(w.seed(contactView{FirstName: "Twin", LastName: "One", Email: twin.Mail, Title: "Engineer"}))
	b := strconv.Itoa(w.seed(contactView{FirstName: "Twin", LastName: "Uno", Email: twin.Mail}))
	ctx := context.Background()
	l := w.engine.Ledger()

	first := w.run(t, worker.ModeFull, nil)
	require.Equal(t, map[string]string{twin.UserPrincipalName: worker.CodeDuplicateContact}, errorCodes(first))
	require.Contains(t, first.Errors[0].Message, "psasync conflicts resolve")
	second := w.run(t, worker.ModeFull, nil)
	require.True(t, second.Success, "an open conflict is reported once: %+v", second.Errors)
	open, err := l.Conflicts(ctx, tenantID, ledger.ConflictOpen)
	require.NoError(t, err)
	require.Len(t, open, 1, "one conflict, not one per run")
	require.Len(t, open[0].Candidates, 2)
	require.True(t, open[0].LastSeen.After(open[0].FirstSeen) || open[0].LastSeen.Equal(open[0].FirstSeen))

	_, _, err = w.engine.ResolveConflict(ctx, tenantID, twin.ID, "424242", "admin")
	require.ErrorIs(t, err, ledger.ErrNotCandidate)
	_, _, err = w.engine.ResolveConflict(ctx, tenantID, userID(77), a, "admin")
	require.ErrorIs(t, err, ledger.ErrNotFound)
	_, _, err = w.engine.ResolveConflict(ctx, "fabrikam", twin.ID, a, "admin")
	require.ErrorIs(t, err, worker.ErrUnknownTenant)
	require.Zero(t, w.writes(), "refused resolutions change nothing")

	c, out, err := w.engine.ResolveConflict(ctx, tenantID, twin.ID, a, "admin")
	require.NoError(t, err)
	require.Equal(t, ledger.ConflictResolved, c.Status)
	require.Equal(t, a, out.ContactID)
	require.Equal(t, twin.ID, w.contact(t, atoi(a)).ExternalID, "the chosen contact carries the object id")
	require.Empty(t, w.contact(t, atoi(b)).ExternalID, "the other candidate is untouched")
	page, err := l.Changes(ctx, ledger.Query{Tenant: tenantID, ContactID: a})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	require.Equal(t, ledger.Trigger{Kind: ledger.TriggerOperator, Actor: "admin"}, page.Entries[0].Trigger)

	_, _, err = w.engine.ResolveConflict(ctx, tenantID, twin.ID, a, "admin")
	require.NoError(t, err, "resolving again the same way is a no-op")
	_, _, err = w.engine.ResolveConflict(ctx, tenantID, twin.ID, b, "admin")
	require.ErrorIs(t, err, ledger.ErrNotOpen, "a resolved conflict is closed to another resolution")

	writes := w.writes()
	for range 2 {
		rep := w.run(t, worker.ModeFull, nil)
		require.True(t, rep.Success, "%+v", rep.Errors)
	}
	require.Equal(t, writes, w.writes(), "honoured and silent")
}

// TestConflictClosesItselfAndIgnoredUsersAreSkipped: a duplicate that goes
// away in the PSA closes its conflict; an ignored user is skipped by runs
// and jobs.
func TestConflictClosesItselfAndIgnoredUsersAreSkipped(t *testing.T) {
	t.Parallel()
	twin := member(1, "twin", "Twin", "One")
	other := member(2, "dup", "Dup", "Licate")
	w := newWorld(t, worldOpts{users: []graphsim.User{twin, other}})
	w.seed(contactView{FirstName: "Twin", LastName: "One", Email: twin.Mail})
	gone := w.seed(contactView{FirstName: "Twin", LastName: "Uno", Email: twin.Mail})
	w.seed(contactView{FirstName: "Dup", LastName: "A", Email: other.Mail})
	w.seed(contactView{FirstName: "Dup", LastName: "B", Email: other.Mail})
	ctx := context.Background()
	l := w.engine.Ledger()
	w.run(t, worker.ModeFull, nil)

	_, err := w.engine.IgnoreConflict(ctx, tenantID, other.ID, "admin")
	require.NoError(t, err)
	_, err = w.engine.IgnoreConflict(ctx, tenantID, other.ID, "admin")
	require.NoError(t, err, "ignoring twice is a no-op")

	c, err := w.client.GetContact(ctx, strconv.Itoa(gone))
	require.NoError(t, err)
	c.Email = "twin.old@" + domain
	_, err = w.client.UpdateContact(ctx, c, []psa.Field{psa.FieldEmail})
	require.NoError(t, err)

	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	got, ok, err := l.Conflict(ctx, tenantID, twin.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, ledger.ConflictClosed, got.Status, "the duplicate went away")
	reasons := map[string]string{}
	for _, s := range rep.SkippedContacts {
		reasons[s.UserPrincipalName] = s.Reason
	}
	require.Contains(t, reasons[other.UserPrincipalName], "ignored by an operator")
	out, err := w.engine.SyncUser(ctx, tenantID, other.ID)
	require.NoError(t, err)
	require.Contains(t, out.Reason, "ignored by an operator")
}

// massDeactivation is a company of five linked users, three of whom were
// just disabled in Microsoft 365: more than the deactivation guard lets a
// run deactivate. ids maps each user to its contact.
func massDeactivation(t *testing.T) (*world, []graphsim.User, map[string]int) {
	t.Helper()
	var users []graphsim.User
	for i := 1; i <= 5; i++ {
		users = append(users, member(i, "user"+strconv.Itoa(i), "User", strconv.Itoa(i)))
	}
	w := newWorld(t, worldOpts{users: users})
	ids := map[string]int{}
	for _, u := range users {
		ids[u.ID] = w.seedCurrent(u, true)
	}
	for _, u := range users[:3] {
		w.updateUser(t, u.ID, map[string]any{"accountEnabled": false})
	}
	return w, users, ids
}

// heldBatch runs a full sync and returns the one batch the guard held.
func heldBatch(t *testing.T, w *world) ledger.HeldBatch {
	t.Helper()
	w.run(t, worker.ModeFull, nil)
	batches, err := w.engine.Ledger().HeldBatches(context.Background(), tenantID)
	require.NoError(t, err)
	require.Len(t, batches, 1)
	return batches[0]
}

// TestHeldDeactivationsArePartlyApprovedAndTheRestRejected: the guard holds
// a company's mass deactivation as one batch (warned once, not on every
// run); approving some deactivates exactly those under the operator's name,
// rejecting the rest keeps them active and out of later batches; a stale or
// wrong approval is refused.
func TestHeldDeactivationsArePartlyApprovedAndTheRestRejected(t *testing.T) {
	t.Parallel()
	w, users, ids := massDeactivation(t)
	ctx := context.Background()
	l := w.engine.Ledger()

	rep := w.run(t, worker.ModeFull, nil)
	require.Equal(t, 1, countWarnings(rep, worker.WarnDeactivationGuard))
	require.Zero(t, rep.Statistics.ContactsDeactivated)
	batches, err := l.HeldBatches(ctx, tenantID)
	require.NoError(t, err)
	require.Len(t, batches, 1)
	batch := batches[0]
	require.Len(t, batch.Contacts, 3)
	rep = w.run(t, worker.ModeFull, nil)
	require.Zero(t, countWarnings(rep, worker.WarnDeactivationGuard), "the warning is not repeated while the batch waits")

	_, err = w.engine.ApproveHeld(ctx, batch.ID, []string{"999999"}, "admin")
	require.ErrorIs(t, err, ledger.ErrNotInBatch)
	_, err = w.engine.ApproveHeld(ctx, "no-such-batch", nil, "admin")
	require.ErrorIs(t, err, ledger.ErrNotFound)

	approve := strconv.Itoa(ids[users[0].ID])
	res, err := w.engine.ApproveHeld(ctx, batch.ID, []string{approve}, "admin")
	require.NoError(t, err)
	require.Len(t, res.Deactivated, 1)
	require.True(t, w.contact(t, ids[users[0].ID]).Inactive)
	page, err := l.Changes(ctx, ledger.Query{Tenant: tenantID, ContactID: approve})
	require.NoError(t, err)
	require.Equal(t, worker.ActionDeactivated, page.Entries[0].Action)
	require.Equal(t, "admin", page.Entries[0].Trigger.Actor)

	_, err = w.engine.RejectHeld(ctx, batch.ID, nil, "admin")
	require.NoError(t, err)
	writes := w.writes()
	rep = w.run(t, worker.ModeFull, nil)
	require.Zero(t, countWarnings(rep, worker.WarnDeactivationGuard), "rejected contacts are not proposed again")
	require.Equal(t, writes, w.writes())
	require.False(t, w.contact(t, ids[users[1].ID]).Inactive)
	require.False(t, w.contact(t, ids[users[2].ID]).Inactive)
	batches, err = l.HeldBatches(ctx, tenantID)
	require.NoError(t, err)
	require.Empty(t, batches)
	_, err = w.engine.ApproveHeld(ctx, batch.ID, nil, "admin")
	require.Error(t, err, "a decided batch cannot be approved again")
}

func countWarnings(rep *worker.Report, code string) int {
	n := 0
	for _, w := range rep.Warnings {
		if w.Code == code {
			n++
		}
	}
	return n
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestUserIsQuarantinedAfterThreePermanentFailures: the third permanent
// failure in a row quarantines the user; its next job costs no PSA call; a
// change in Microsoft 365 or an operator's release lets it sync again.
func TestUserIsQuarantinedAfterThreePermanentFailures(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	w := newWorld(t, worldOpts{users: []graphsim.User{jane}, tenant: func(tn *worker.Tenant) { tn.DefaultCompanyID = "" }})
	ctx := context.Background()
	l := w.engine.Ledger()
	for i := range 3 {
		_, err := w.engine.SyncUser(ctx, tenantID, jane.ID)
		var perm *worker.PermanentError
		require.ErrorAs(t, err, &perm, "failure %d", i+1)
	}
	q, ok, err := l.UserQuarantine(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	require.True(t, ok, "quarantined after 3")
	require.Equal(t, worker.CodeMissingCompanyID, q.Code)

	_, _, requests := w.psaStats()
	out, err := w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err, "a quarantined user's job is not retried")
	require.Contains(t, out.Reason, "quarantined")
	_, _, after := w.psaStats()
	require.Equal(t, requests, after, "no PSA call for a quarantined user")

	w.updateUser(t, jane.ID, map[string]any{"jobTitle": "CTO"})
	_, err = w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.Error(t, err, "a changed user is released and tried again")
	_, ok, err = l.UserQuarantine(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	require.False(t, ok, "one failure after a release does not quarantine")

	for range 2 {
		_, _ = w.engine.SyncUser(ctx, tenantID, jane.ID)
	}
	_, ok, _ = l.UserQuarantine(ctx, tenantID, jane.ID)
	require.True(t, ok)
	tn := w.tenants[tenantID]
	tn.DefaultCompanyID = company // the operator fixes the cause...
	w.tenants[tenantID] = tn
	released, err := w.engine.ReleaseUser(ctx, tenantID, jane.ID, "admin") // ...and releases the user
	require.NoError(t, err)
	require.True(t, released)
	again, err := w.engine.ReleaseUser(ctx, tenantID, jane.ID, "admin")
	require.NoError(t, err)
	require.False(t, again, "releasing twice is a no-op")
	out, err = w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	require.Equal(t, worker.ActionCreated, out.Action)
	_, err = w.engine.ReleaseUser(ctx, "fabrikam", jane.ID, "admin")
	require.ErrorIs(t, err, worker.ErrUnknownTenant)
}

// TestTenantWithoutConsentIsQuarantined: runs that keep failing on consent
// quarantine the tenant; its next run is refused until the retry time, its
// jobs are skipped, and a release lets it run again.
func TestTenantWithoutConsentIsQuarantined(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
	ctx := context.Background()
	require.NoError(t, w.graph.RevokeConsent(tenantID))
	for range 3 {
		rep := w.run(t, worker.ModeFull, nil)
		require.Equal(t, worker.CodePermissionDenied, rep.Errors[0].Code)
	}
	in := worker.DefaultRunInputs(tenantID)
	_, err := w.engine.Run(ctx, "refused", in)
	require.ErrorIs(t, err, worker.ErrTenantQuarantined)
	out, err := w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	require.Contains(t, out.Reason, "tenant quarantined")
	quarantined, err := w.engine.Ledger().Quarantined(ctx, tenantID)
	require.NoError(t, err)
	require.Len(t, quarantined, 1)
	require.Empty(t, quarantined[0].UserID, "the tenant itself")

	require.NoError(t, w.graph.GrantConsent(tenantID))
	ok, err := w.engine.ReleaseTenant(ctx, tenantID, "admin")
	require.NoError(t, err)
	require.True(t, ok)
	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Len(t, rep.CreatedContacts, 1)
}

// TestHeldDeactivationsWaitForAPersonWhateverTheShare: contacts held in a
// pending batch stay active while it waits, even once the company has so
// many linked contacts that the guard would let them through.
func TestHeldDeactivationsWaitForAPersonWhateverTheShare(t *testing.T) {
	t.Parallel()
	w, users, ids := massDeactivation(t)
	batch := heldBatch(t, w)

	for i := 10; i < 30; i++ { // 20 more linked contacts: 3 of 25 is under the guard's 20%
		u, err := w.graph.CreateUser(tenantID, member(i, "more"+strconv.Itoa(i), "More", strconv.Itoa(i)))
		require.NoError(t, err)
		w.seedCurrent(u, true)
	}
	writes := w.writes()
	rep := w.run(t, worker.ModeFull, nil)
	require.Zero(t, rep.Statistics.ContactsDeactivated, "the held contacts wait for the operator")
	require.Equal(t, writes, w.writes())
	for _, u := range users[:3] {
		require.False(t, w.contact(t, ids[u.ID]).Inactive)
	}
	reasons := map[string]string{}
	for _, s := range rep.SkippedContacts {
		reasons[s.UserPrincipalName] = s.Reason
	}
	require.Contains(t, reasons[users[0].UserPrincipalName], "held for approval (batch "+batch.ID+")")
}

// TestApprovedHeldDeactivationsOutliveTheirCaller: once an approval is on
// the record, its deactivations are written in full even when the caller's
// context ends while the PSA is still answering (a console tab closed, an
// API client's timeout).
func TestApprovedHeldDeactivationsOutliveTheirCaller(t *testing.T) {
	t.Parallel()
	w, users, ids := massDeactivation(t)
	batch := heldBatch(t, w)

	// Every write takes longer than the caller waits.
	w.cw.InjectFault(simkit.Fault{Method: http.MethodPatch, Latency: 3 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	res, err := w.engine.ApproveHeld(ctx, batch.ID, nil, "admin")
	require.NoError(t, err)
	require.Error(t, ctx.Err(), "the caller's context ended during the writes")
	require.Empty(t, res.Errors)
	require.Len(t, res.Deactivated, 3)
	for _, u := range users[:3] {
		require.True(t, w.contact(t, ids[u.ID]).Inactive, u.UserPrincipalName)
	}
}
