package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/worker"
)

// TestMatchingOrder: a user's contact is found by the stored link, then by
// the object id kept on the contact, then by email (ignoring case), then
// by an smtp: alias of proxyAddresses; each step wins over the later ones.
func TestMatchingOrder(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	jane.ProxyAddresses = []string{"SMTP:jane@" + domain, "smtp:j.doe@" + domain, "X500:/o=Contoso/cn=jane"}

	// Every case seeds candidates for the later steps too, so the test
	// shows which one wins.
	linkContact := func(w *world) int {
		return w.seed(contactView{FirstName: "Jane", LastName: "Doe", Email: "jane.old@" + domain, Title: "Engineer"})
	}
	objectIDContact := func(w *world) int {
		return w.seed(contactView{FirstName: "Jane", LastName: "Doe", Email: "jane.legacy@" + domain, Title: "Engineer", ExternalID: jane.ID})
	}
	emailContact := func(w *world) int {
		c := contactView{FirstName: "Jane", LastName: "Doe", Email: strings.ToUpper("jane@" + domain), Phone: "+1 555 0100",
			Title: "Engineer", Department: "Sales", OfficeLocation: "HQ", CType: "End User"}
		return w.seed(c)
	}
	aliasContact := func(w *world) int {
		return w.seed(contactView{FirstName: "Jane", LastName: "Doe", Email: "j.doe@" + domain, Title: "Engineer"})
	}
	tests := []struct {
		name string
		// seed returns the id of the contact that must win. all adds a
		// contact with the user's email even when a step before email
		// wins: a dry run shows it loses, but a real update of the winner's
		// email would collide with it in the PSA.
		seed       func(t *testing.T, w *world, all bool) int
		wantAction string
		wantFields []string
	}{
		{name: "stored link", seed: func(t *testing.T, w *world, all bool) int {
			id := linkContact(w)
			objectIDContact(w)
			if all {
				emailContact(w)
			}
			aliasContact(w)
			require.NoError(t, w.store.SetLink(context.Background(), tenantID, jane.ID, worker.Link{ContactID: itoa(id), CompanyID: company}))
			return id
		}, wantAction: "updated", wantFields: []string{"email", "phone", "department", "office_location", "m365_object_id"}},
		{name: "object id on the contact", seed: func(t *testing.T, w *world, all bool) int {
			id := objectIDContact(w)
			if all {
				emailContact(w)
			}
			aliasContact(w)
			return id
		}, wantAction: "updated", wantFields: []string{"email", "phone", "department", "office_location"}},
		{name: "email ignoring case", seed: func(t *testing.T, w *world, _ bool) int {
			id := emailContact(w)
			aliasContact(w)
			return id
		}, wantAction: "linked", wantFields: []string{"m365_object_id"}},
		{name: "proxyAddresses alias", seed: func(t *testing.T, w *world, _ bool) int {
			return aliasContact(w)
		}, wantAction: "updated", wantFields: []string{"email", "phone", "department", "office_location", "m365_object_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/dry run", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
			want := tt.seed(t, w, true)

			rep := w.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.DryRun = true })
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Zero(t, w.writes(), "dry run")
			require.Empty(t, rep.CreatedContacts)
			got := updated(t, rep, jane.UserPrincipalName)
			require.Equal(t, itoa(want), got.PSAContactID)
			require.Equal(t, tt.wantAction, got.Action)
			require.Equal(t, tt.wantFields, got.ChangedFields)
		})
		t.Run(tt.name+"/run", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
			want := tt.seed(t, w, false)
			before := len(w.contacts())
			rep := w.run(t, worker.ModeFull, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Empty(t, rep.CreatedContacts, "a match is never created again")
			got := updated(t, rep, jane.UserPrincipalName)
			require.Equal(t, itoa(want), got.PSAContactID)
			require.Equal(t, tt.wantFields, got.ChangedFields)
			c := w.contact(t, want)
			require.Equal(t, jane.ID, c.ExternalID, "the contact is now linked")
			require.True(t, strings.EqualFold(jane.Mail, c.Email))
			require.Len(t, w.contacts(), before)
			l, ok, err := w.store.GetLink(context.Background(), tenantID, jane.ID)
			require.NoError(t, err)
			require.True(t, ok)
			require.Equal(t, worker.Link{ContactID: itoa(want), CompanyID: company}, l)
		})
		t.Run(tt.name+"/per-user job", func(t *testing.T) {
			t.Parallel()
			w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
			want := tt.seed(t, w, false)
			before := len(w.contacts())
			out, err := w.engine.SyncUser(context.Background(), tenantID, jane.ID)
			require.NoError(t, err)
			require.Equal(t, itoa(want), out.ContactID)
			require.Equal(t, tt.wantAction, out.Action)
			require.Equal(t, tt.wantFields, out.ChangedFields)
			require.Len(t, w.contacts(), before, "nothing created")
			require.Equal(t, jane.ID, w.contact(t, want).ExternalID)
		})
	}
}

func TestNoMatchCreates(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
	// Another person's contact in the same company is no match.
	w.seed(contactView{FirstName: "Jane", LastName: "Doe", Email: "jane.doe@elsewhere.example"})
	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Len(t, rep.CreatedContacts, 1)
	require.Len(t, w.withEmail(jane.Mail), 1)
	require.Equal(t, jane.ID, w.withEmail(jane.Mail)[0].ExternalID)
}

func TestContactLinkedToAnotherUserIsDuplicate(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
	other := w.seed(contactView{FirstName: "Jane", LastName: "Doe", Email: jane.Mail, Title: "Engineer", ExternalID: userID(99)})

	rep := w.run(t, worker.ModeFull, nil)
	require.False(t, rep.Success)
	require.Equal(t, map[string]string{jane.UserPrincipalName: worker.CodeDuplicateContact}, errorCodes(rep))
	require.Contains(t, rep.Errors[0].Message, userID(99), "the message names the other user")
	require.Zero(t, w.writes(), "no contact created, the other user's contact untouched")
	require.Len(t, w.withEmail(jane.Mail), 1)
	require.Equal(t, userID(99), w.contact(t, other).ExternalID)

	// The run opened a conflict: a job for the user now skips it quietly
	// (no retry, no error) until an operator decides.
	out, err := w.engine.SyncUser(context.Background(), tenantID, jane.ID)
	require.NoError(t, err)
	require.Equal(t, worker.OutcomeSkipped, out.Action)
	require.Contains(t, out.Reason, "open conflict")
	require.Zero(t, w.writes())
	open, err := w.engine.Ledger().Conflicts(context.Background(), tenantID, "")
	require.NoError(t, err)
	require.Len(t, open, 1)
	require.Equal(t, strconv.Itoa(other), open[0].Candidates[0].ContactID)
}

func TestTwoUsersWithOneEmailCreateOneContact(t *testing.T) {
	t.Parallel()
	a := member(1, "sales", "Sales", "Team")
	b := member(2, "sales.desk", "Sales", "Desk")
	b.Mail = a.Mail // two accounts share a mailbox address
	w := newWorld(t, worldOpts{users: []graphsim.User{a, b}})

	rep := w.run(t, worker.ModeFull, nil)
	require.Len(t, rep.CreatedContacts, 1)
	require.Equal(t, a.UserPrincipalName, rep.CreatedContacts[0].UserPrincipalName, "the first user in the run claims the address")
	require.Equal(t, map[string]string{b.UserPrincipalName: worker.CodeDuplicateContact}, errorCodes(rep))
	require.Contains(t, rep.Errors[0].Message, a.UserPrincipalName, "the message names the user that has the address")
	require.Len(t, w.withEmail(a.Mail), 1)
	require.Equal(t, 1, w.writes())
}

// TestTwoUsersWithOneEmailAndAnExistingContact: when the shared address
// already has an unlinked contact, only one user may adopt it. Otherwise
// both link it in turn, every run rewrites its object id twice, and the
// contact belongs to whichever write landed last.
func TestTwoUsersWithOneEmailAndAnExistingContact(t *testing.T) {
	t.Parallel()
	a := member(1, "sales", "Sales", "Team")
	b := member(2, "sales.desk", "Sales", "Desk")
	b.Mail = a.Mail
	w := newWorld(t, worldOpts{users: []graphsim.User{a, b}})
	id := w.seedCurrent(a, false)

	rep := w.run(t, worker.ModeFull, nil)
	require.Empty(t, rep.CreatedContacts)
	require.Len(t, rep.UpdatedContacts, 1, "one user adopts the contact: %+v", rep.UpdatedContacts)
	require.Equal(t, map[string]string{b.UserPrincipalName: worker.CodeDuplicateContact}, errorCodes(rep))
	require.Equal(t, a.ID, w.contact(t, id).ExternalID)

	writes := w.writes()
	rep = w.run(t, worker.ModeFull, nil)
	require.Equal(t, writes, w.writes(), "a second run rewrites nothing: %+v", rep.UpdatedContacts)
}

func TestUpdateExistingFalseCreatesButNeverUpdates(t *testing.T) {
	t.Parallel()
	newcomer := member(1, "new", "New", "Comer")
	stale := member(2, "stale", "Stale", "Title")
	linked := member(3, "linked", "Linked", "Stale")
	leaver := member(4, "leaver", "Lea", "Ver")
	leaver.AccountEnabled = graphsim.Bool(false)
	w := newWorld(t, worldOpts{users: []graphsim.User{newcomer, stale, linked, leaver}})
	staleID := w.seed(contactView{FirstName: "Stale", LastName: "Title", Email: stale.Mail, Title: "Intern"})
	linkedID := w.seed(contactView{FirstName: "Linked", LastName: "Stale", Email: linked.Mail, Title: "Intern", ExternalID: linked.ID})
	leaverID := w.seedCurrent(leaver, true)
	for _, c := range []int{1, 2, 3, 4, 5} { // enough linked contacts that the guard is no reason to skip
		w.seed(contactView{FirstName: "Other", LastName: itoa(c), Email: fmt.Sprintf("other%d@%s", c, domain), ExternalID: userID(100 + c)})
	}

	rep := w.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.UpdateExisting = false })
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Len(t, rep.CreatedContacts, 1)
	require.Equal(t, newcomer.UserPrincipalName, rep.CreatedContacts[0].UserPrincipalName)
	require.Empty(t, rep.UpdatedContacts)
	require.Equal(t, 1, w.writes(), "only the create")
	require.Equal(t, "Intern", w.contact(t, staleID).Title)
	require.Empty(t, w.contact(t, staleID).ExternalID, "not even linked")
	require.Equal(t, "Intern", w.contact(t, linkedID).Title)
	require.False(t, w.contact(t, leaverID).Inactive, "not deactivated either")
	reasons := map[string]string{}
	for _, s := range rep.SkippedContacts {
		reasons[s.UserPrincipalName] = s.Reason
	}
	require.Equal(t, "update_existing is false", reasons[stale.UserPrincipalName])
	require.Equal(t, "update_existing is false", reasons[linked.UserPrincipalName])
	require.Equal(t, "update_existing is false", reasons[leaver.UserPrincipalName])
}

// TestNarrowedRunLeavesTheRestAlone: a run narrowed by department, office
// location or UPN neither deactivates the users it did not look at (a
// disabled one, a deleted one) nor stores the delta link (the next
// incremental run would miss every other user's changes).
func TestNarrowedRunLeavesTheRestAlone(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		narrow func(*worker.RunInputs)
	}{
		{"department_filter", func(in *worker.RunInputs) { in.DepartmentFilter = []string{"sales"} }},
		{"office_location_filter", func(in *worker.RunInputs) { in.OfficeLocationFilter = []string{"HQ"} }},
		{"user_principal_names", func(in *worker.RunInputs) { in.UserPrincipalNames = []string{"sales0@" + domain} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var users []graphsim.User
			for i := 0; i < 8; i++ {
				users = append(users, member(i, fmt.Sprintf("sales%d", i), "Sales", itoa(i)))
			}
			support := []graphsim.User{member(8, "support1", "Support", "One"), member(9, "support2", "Support", "Two")}
			for i := range support {
				support[i].Department, support[i].OfficeLocation = "Support", "Branch"
			}
			users = append(users, support...)
			w := newWorld(t, worldOpts{users: users})
			rep := w.run(t, worker.ModeFull, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Len(t, rep.CreatedContacts, 10)

			ctx := context.Background()
			require.NoError(t, w.store.SetDeltaLink(ctx, tenantID, ""))
			w.updateUser(t, support[0].ID, map[string]any{"accountEnabled": false})
			require.NoError(t, w.graph.PurgeUser(tenantID, support[1].ID))
			w.updateUser(t, users[0].ID, map[string]any{"jobTitle": "Head of Sales"})

			rep = w.run(t, worker.ModeFull, tt.narrow)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Len(t, rep.UpdatedContacts, 1, "%+v", rep.UpdatedContacts)
			require.Equal(t, []string{"job_title"}, updated(t, rep, users[0].UserPrincipalName).ChangedFields)
			require.Zero(t, rep.Statistics.ContactsDeactivated)
			for _, c := range w.contacts() {
				require.False(t, c.Inactive, "%s deactivated by a narrowed run", c.Email)
			}
			link, err := w.store.DeltaLink(ctx, tenantID)
			require.NoError(t, err)
			require.Empty(t, link, "a narrowed run stores no delta link")

			// The same run unnarrowed does deactivate both.
			rep = w.run(t, worker.ModeFull, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Equal(t, 2, rep.Statistics.ContactsDeactivated, "%+v", rep.Warnings)
			link, err = w.store.DeltaLink(ctx, tenantID)
			require.NoError(t, err)
			require.NotEmpty(t, link)
		})
	}
}

func TestRunRefusesDisabledUnknownAndBusyTenants(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jane := member(1, "jane", "Jane", "Doe")

	w := newWorld(t, worldOpts{users: []graphsim.User{jane}, tenant: func(tn *worker.Tenant) { tn.SyncEnabled = false }})
	_, err := w.engine.Run(ctx, "r1", worker.DefaultRunInputs(tenantID))
	require.ErrorIs(t, err, worker.ErrTenantDisabled)
	_, err = w.engine.Run(ctx, "r1", func() worker.RunInputs { in := worker.DefaultRunInputs(tenantID); in.DryRun = true; return in }())
	require.ErrorIs(t, err, worker.ErrTenantDisabled, "a dry run too")
	out, err := w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err, "a notification for a disabled tenant is dropped, not retried")
	require.Equal(t, "skipped", out.Action)
	_, _, requests := w.psaStats()
	require.Zero(t, requests, "nothing reaches the PSA")
	require.Zero(t, w.graph.Stats().Reads, "nor Graph")

	_, err = w.engine.Run(ctx, "r2", worker.DefaultRunInputs("fabrikam"))
	require.ErrorIs(t, err, worker.ErrUnknownTenant)
	require.ErrorContains(t, err, "tenant fabrikam")
	_, err = w.engine.SyncUser(ctx, "fabrikam", jane.ID)
	var perm *worker.PermanentError
	require.ErrorAs(t, err, &perm)

	in := worker.DefaultRunInputs(tenantID)
	in.SyncMode = "sometimes"
	_, err = w.engine.Run(ctx, "r3", in)
	require.ErrorContains(t, err, "run inputs: sync_mode")

	// One writer per tenant: a run waits for the one in progress.
	w = newWorld(t, worldOpts{users: []graphsim.User{jane}})
	lock := w.redis.prefix + "lock:tenant:" + tenantID
	require.NoError(t, w.redis.rdb.Set(ctx, lock, "other-run", 0).Err())
	_, err = w.engine.Run(ctx, "r4", worker.DefaultRunInputs(tenantID))
	require.ErrorIs(t, err, worker.ErrTenantBusy)
	_, _, requests = w.psaStats()
	require.Zero(t, requests)
	require.NoError(t, w.redis.rdb.Del(ctx, lock).Err())
	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success)
	n, err := w.redis.rdb.Exists(ctx, lock).Result()
	require.NoError(t, err)
	require.Zero(t, n, "the run releases its lock")
}

// TestDeactivationGuardAllowance: the guard allows the configured share of
// a company's linked contacts, and always at least DeactivationGuardMin, so
// one leaver in a small company is deactivated.
func TestDeactivationGuardAllowance(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		users       int
		leavers     int
		cfg         worker.Config
		deactivated bool
	}{
		{name: "one leaver of three", users: 3, leavers: 1, deactivated: true},
		{name: "two leavers of three", users: 3, leavers: 2},
		{name: "one of one", users: 1, leavers: 1, deactivated: true},
		{name: "two of ten", users: 10, leavers: 2, deactivated: true},
		{name: "three of ten", users: 10, leavers: 3},
		{name: "min allowance two", users: 3, leavers: 2, cfg: worker.Config{DeactivationGuardMin: 2}, deactivated: true},
		{name: "half allowed", users: 4, leavers: 2, cfg: worker.Config{DeactivationGuard: 0.5}, deactivated: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var users []graphsim.User
			for i := 0; i < tt.users; i++ {
				users = append(users, member(i, fmt.Sprintf("user%d", i), "User", itoa(i)))
			}
			w := newWorld(t, worldOpts{users: users, cfg: tt.cfg})
			rep := w.run(t, worker.ModeFull, nil)
			require.Len(t, rep.CreatedContacts, tt.users)
			for i := 0; i < tt.leavers; i++ {
				w.updateUser(t, users[i].ID, map[string]any{"accountEnabled": false})
			}
			rep = w.run(t, worker.ModeIncremental, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			inactive := 0
			for _, c := range w.contacts() {
				if c.Inactive {
					inactive++
				}
			}
			var guard []worker.WarningItem
			for _, wi := range rep.Warnings {
				if wi.Code == worker.WarnDeactivationGuard {
					guard = append(guard, wi)
				}
			}
			if tt.deactivated {
				require.Equal(t, tt.leavers, inactive)
				require.Equal(t, tt.leavers, rep.Statistics.ContactsDeactivated)
				require.Empty(t, guard)
				return
			}
			require.Zero(t, inactive, "the guard deactivates none")
			require.Len(t, guard, 1)
			require.Contains(t, guard[0].Message, fmt.Sprintf("deactivate %d of %d", tt.leavers, tt.users))
			require.Equal(t, tt.leavers, rep.Statistics.ContactsSkipped)
		})
	}
}

// TestExclusiveCompanyOrphans: in a company only this tenant syncs into, a
// contact carrying an object id the tenant no longer has is deactivated by
// a full run even when Redis has no link for it; elsewhere it is left alone.
func TestExclusiveCompanyOrphans(t *testing.T) {
	t.Parallel()
	for _, exclusive := range []bool{true, false} {
		t.Run(fmt.Sprintf("exclusive=%v", exclusive), func(t *testing.T) {
			t.Parallel()
			users := []graphsim.User{member(1, "a", "A", "A"), member(2, "b", "B", "B"), member(3, "c", "C", "C")}
			w := newWorld(t, worldOpts{users: users, tenant: func(tn *worker.Tenant) {
				if exclusive {
					tn.ExclusiveCompanies = []string{company}
				}
			}})
			for _, u := range users {
				w.seedCurrent(u, true)
			}
			orphan := w.seed(contactView{FirstName: "Gone", LastName: "User", Email: "gone@" + domain, ExternalID: userID(77)})
			inactive := w.seed(contactView{FirstName: "Long", LastName: "Gone", Email: "long.gone@" + domain, ExternalID: userID(78), Inactive: true})
			manual := w.seed(contactView{FirstName: "Walk", LastName: "In", Email: "walk.in@" + domain})

			rep := w.run(t, worker.ModeFull, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.False(t, w.contact(t, manual).Inactive, "a contact psasync never linked is never touched")
			require.True(t, w.contact(t, inactive).Inactive)
			if !exclusive {
				require.False(t, w.contact(t, orphan).Inactive, "another tenant may own it")
				require.Empty(t, rep.UpdatedContacts)
				return
			}
			require.True(t, w.contact(t, orphan).Inactive)
			require.Len(t, rep.UpdatedContacts, 1)
			got := rep.UpdatedContacts[0]
			require.Equal(t, "deactivated", got.Action)
			require.Equal(t, itoa(orphan), got.PSAContactID)
			require.Equal(t, "gone@"+domain, got.UserPrincipalName, "named by its email")
			require.Equal(t, "updated", got.Status)
			require.Equal(t, []string{"inactive"}, got.ChangedFields)
			require.Equal(t, "Gone User", got.DisplayName, "the contact's name: its user is gone")
			require.Equal(t, 1, w.writes())
			require.Equal(t, len(users), rep.Statistics.UsersProcessed, "an orphaned contact is not a user")
			require.Equal(t, 1, rep.Statistics.OrphanedContacts)
			require.Equal(t, len(users), rep.Statistics.TotalOffice365Users)
		})
	}
}

// TestUnsupportedFieldsNeverChange: Autotask without a department UDF
// cannot store a department, so a department is never reported as changed
// and never costs a write.
func TestUnsupportedFieldsNeverChange(t *testing.T) {
	t.Parallel()
	a, b := member(1, "a", "A", "A"), member(2, "b", "B", "B")
	w := newWorld(t, worldOpts{users: []graphsim.User{a, b}, autotask: true})
	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Len(t, rep.CreatedContacts, 2)
	writes := w.writes()

	rep = w.run(t, worker.ModeFull, nil)
	require.Equal(t, writes, w.writes(), "the department the PSA lacks is no change: %+v", rep.UpdatedContacts)
	require.Equal(t, 2, rep.Statistics.ContactsSkipped)

	w.updateUser(t, a.ID, map[string]any{"department": "Marketing", "officeLocation": "Branch"})
	w.updateUser(t, b.ID, map[string]any{"department": "Marketing", "jobTitle": "Lead"})
	rep = w.run(t, worker.ModeIncremental, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Equal(t, writes+1, w.writes(), "one write, for the title")
	require.Len(t, rep.UpdatedContacts, 1)
	require.Equal(t, []string{"job_title"}, updated(t, rep, b.UserPrincipalName).ChangedFields)

	out, err := w.engine.SyncUser(context.Background(), tenantID, a.ID)
	require.NoError(t, err)
	require.Equal(t, "skipped", out.Action)
	require.Empty(t, out.ChangedFields)
}

// TestLostLinksCostNoDuplicate: with the link cache flushed or unreadable,
// runs and per-user jobs match by object id and email and create nothing.
func TestLostLinksCostNoDuplicate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		lose func(t *testing.T, r testRedis)
		// restored: the run writes the links again.
		restored bool
	}{
		{"flushed", func(t *testing.T, r testRedis) {
			require.NoError(t, r.rdb.Del(context.Background(), r.prefix+"link:"+tenantID).Err())
		}, true},
		{"unreadable", func(t *testing.T, r testRedis) {
			// A wrong type makes every link read and write fail, while the
			// rest of Redis (locks, delta link) works.
			require.NoError(t, r.rdb.Set(context.Background(), r.prefix+"link:"+tenantID, "garbage", 0).Err())
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			var users []graphsim.User
			for i := 0; i < 5; i++ {
				users = append(users, member(i, fmt.Sprintf("user%d", i), "User", itoa(i)))
			}
			w := newWorld(t, worldOpts{users: users})
			rep := w.run(t, worker.ModeFull, nil)
			require.Len(t, rep.CreatedContacts, 5)
			tt.lose(t, w.redis)
			writes := w.writes()

			rep = w.run(t, worker.ModeFull, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Empty(t, rep.CreatedContacts)
			require.Equal(t, writes, w.writes(), "nothing to write")
			require.Len(t, w.contacts(), 5)

			w.updateUser(t, users[0].ID, map[string]any{"jobTitle": "Lead"})
			w.updateUser(t, users[1].ID, map[string]any{"jobTitle": "Lead"})
			rep = w.run(t, worker.ModeIncremental, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Empty(t, rep.CreatedContacts)
			require.Len(t, rep.UpdatedContacts, 2)

			w.updateUser(t, users[2].ID, map[string]any{"jobTitle": "Lead"})
			out, err := w.engine.SyncUser(ctx, tenantID, users[2].ID)
			require.NoError(t, err)
			require.Equal(t, "updated", out.Action)
			require.Equal(t, writes+3, w.writes())
			require.Len(t, w.contacts(), 5, "no duplicate")

			if tt.restored {
				links, err := w.store.Links(ctx, tenantID)
				require.NoError(t, err)
				require.Len(t, links, 5, "the run cached the links again")
			}
		})
	}
}

// racingClient makes a person (or an earlier attempt) create the contact
// between the engine's read and its write.
type racingClient struct {
	psa.Client
	before func(call string, n int64)
	finds  atomic.Int64
	creats atomic.Int64
}

func (c *racingClient) FindContactsByEmail(ctx context.Context, company, email string) ([]psa.Contact, error) {
	cs, err := c.Client.FindContactsByEmail(ctx, company, email)
	c.before("find", c.finds.Add(1))
	return cs, err
}

func (c *racingClient) CreateContact(ctx context.Context, ct psa.Contact) (psa.Contact, error) {
	c.before("create", c.creats.Add(1))
	return c.Client.CreateContact(ctx, ct)
}

// TestCreateAnsweredDuplicateIsAdopted: a full run reads the company, then
// someone creates the user's contact; the PSA refuses the run's create as a
// duplicate, and the run adopts that contact instead of reporting an error.
func TestCreateAnsweredDuplicateIsAdopted(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	var w *world
	var made atomic.Int64
	w = newWorld(t, worldOpts{users: []graphsim.User{jane}, wrap: func(c psa.Client) psa.Client {
		return &racingClient{Client: c, before: func(call string, n int64) {
			if call == "create" && n == 1 {
				made.Store(int64(w.seedCurrent(jane, false)))
			}
		}}
	}})
	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Empty(t, rep.CreatedContacts)
	got := updated(t, rep, jane.UserPrincipalName)
	require.Equal(t, "linked", got.Action)
	require.Equal(t, itoa(int(made.Load())), got.PSAContactID)
	require.Len(t, w.withEmail(jane.Mail), 1)
	require.Equal(t, jane.ID, w.contact(t, int(made.Load())).ExternalID)
	l, ok, err := w.store.GetLink(context.Background(), tenantID, jane.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, itoa(int(made.Load())), l.ContactID)
}

// TestRetriedJobAdoptsItsEarlierCreate: a contact made after a per-user
// job looked for it (by a job killed after its create, or a person) is
// adopted, not duplicated and not reported as a duplicate.
func TestRetriedJobAdoptsItsEarlierCreate(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	var w *world
	var made atomic.Int64
	w = newWorld(t, worldOpts{users: []graphsim.User{jane}, wrap: func(c psa.Client) psa.Client {
		return &racingClient{Client: c, before: func(call string, n int64) {
			if call == "find" && n == 1 {
				id := w.cw.SeedContact(cwsim.SeedContact{CompanyID: companyID, FirstName: "Jane", LastName: "Doe", Email: jane.Mail,
					Phone: "+1 555 0100", Title: "Engineer", Department: "Sales", OfficeLocation: "HQ", ContactType: "End User", ExternalID: jane.ID})
				made.Store(int64(id))
			}
		}}
	}})
	out, err := w.engine.SyncUser(context.Background(), tenantID, jane.ID)
	require.NoError(t, err)
	require.Equal(t, "skipped", out.Action, "the contact is already current")
	require.Equal(t, itoa(int(made.Load())), out.ContactID)
	require.Len(t, w.withEmail(jane.Mail), 1, "no duplicate")
	l, ok, err := w.store.GetLink(context.Background(), tenantID, jane.ID)
	require.NoError(t, err)
	require.True(t, ok, "the link is cached")
	require.Equal(t, itoa(int(made.Load())), l.ContactID)
}

func TestMissingCompanyFailsTheUserOnly(t *testing.T) {
	t.Parallel()
	a, b := member(1, "a", "A", "A"), member(2, "b", "B", "B")
	b.Mail, b.UserPrincipalName = "b@fabrikam.example", "b@fabrikam.example"
	w := newWorld(t, worldOpts{users: []graphsim.User{a, b}, tenant: func(tn *worker.Tenant) {
		tn.DefaultCompanyID = ""
		tn.DomainCompanies = map[string]string{domain: company}
		tn.VerifiedDomains = append(tn.VerifiedDomains, "fabrikam.example")
	}})
	rep := w.run(t, worker.ModeFull, nil)
	require.Equal(t, map[string]string{b.UserPrincipalName: worker.CodeMissingCompanyID}, errorCodes(rep))
	require.Len(t, rep.CreatedContacts, 1, "the mapped domain still syncs")
	require.Equal(t, company, rep.CreatedContacts[0].PSACompanyID)
	link, err := w.store.DeltaLink(context.Background(), tenantID)
	require.NoError(t, err)
	require.Empty(t, link, "a run with errors keeps the old delta link so the next run retries")
}

// TestUpdateExistingFalseHoldsWhenACreateIsAdopted: a run with
// update_existing=false whose create meets a contact made meanwhile must
// leave that contact as it is, as it would have had the run seen it first.
func TestUpdateExistingFalseHoldsWhenACreateIsAdopted(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	var w *world
	var made atomic.Int64
	w = newWorld(t, worldOpts{users: []graphsim.User{jane}, wrap: func(c psa.Client) psa.Client {
		return &racingClient{Client: c, before: func(call string, n int64) {
			if call == "create" && n == 1 {
				made.Store(int64(w.seed(contactView{FirstName: "Jane", LastName: "Doe", Email: jane.Mail, Title: "Intern"})))
			}
		}}
	}})
	rep := w.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.UpdateExisting = false })
	require.Empty(t, rep.UpdatedContacts, "%+v", rep.UpdatedContacts)
	c := w.contact(t, int(made.Load()))
	require.Equal(t, "Intern", c.Title, "update_existing is false")
	require.Empty(t, c.ExternalID)
	require.Len(t, w.withEmail(jane.Mail), 1)
}

// TestSkippedJobNamesItsContact: a per-user job that finds the contact
// current says which contact it checked, whether it found it by the stored
// link or by email, so the runs API (and a test of a re-run job) can tell.
func TestSkippedJobNamesItsContact(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	jane := member(1, "jane", "Jane", "Doe")
	w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
	out, err := w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	require.Equal(t, "created", out.Action)
	id := out.ContactID
	require.NotEmpty(t, id)

	out, err = w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	require.Equal(t, "skipped", out.Action)
	require.Equal(t, id, out.ContactID, "found by the stored link")

	require.NoError(t, w.redis.rdb.Del(ctx, w.redis.prefix+"link:"+tenantID).Err())
	out, err = w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	require.Equal(t, "skipped", out.Action)
	require.Equal(t, id, out.ContactID, "found by email")
}

// TestTotalUsersCountsEnabledUsers: total_office365_users is the tenant's
// enabled users, in incremental runs too (asked of Graph with $count), and
// users_processed counts the users a run evaluated.
func TestTotalUsersCountsEnabledUsers(t *testing.T) {
	t.Parallel()
	a, b, off := member(1, "a", "A", "A"), member(2, "b", "B", "B"), member(3, "c", "C", "C")
	off.AccountEnabled = graphsim.Bool(false)
	w := newWorld(t, worldOpts{users: []graphsim.User{a, b, off}})
	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Equal(t, 2, rep.Statistics.TotalOffice365Users, "the disabled user is not active")
	require.Equal(t, 3, rep.Statistics.UsersProcessed, "every user read was evaluated")

	w.updateUser(t, a.ID, map[string]any{"jobTitle": "Lead"})
	rep = w.run(t, worker.ModeIncremental, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)
	require.Equal(t, worker.ModeIncremental, rep.SyncMode)
	require.Equal(t, 1, rep.Statistics.UsersProcessed, "only the changed user")
	require.Equal(t, 2, rep.Statistics.TotalOffice365Users, "counted by Graph, not by the delta")
}

// TestRunShowsProgress: a run reports its phases in order, the users it
// enumerated, the writes it planned and made, and ends with none left.
func TestRunShowsProgress(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []worker.Progress
	users := []graphsim.User{member(1, "a", "A", "A"), member(2, "b", "B", "B"), member(3, "c", "C", "C")}
	w := newWorld(t, worldOpts{users: users, cfg: worker.Config{Progress: func(p worker.Progress) {
		mu.Lock()
		seen = append(seen, p)
		mu.Unlock()
	}}})
	w.seedCurrent(users[0], true)
	rep := w.run(t, worker.ModeFull, nil)
	require.True(t, rep.Success, "%+v", rep.Errors)

	mu.Lock()
	defer mu.Unlock()
	var phases []string
	for _, p := range seen {
		if len(phases) == 0 || phases[len(phases)-1] != p.Phase {
			phases = append(phases, p.Phase)
		}
	}
	require.Equal(t, []string{worker.PhaseEnumerating, worker.PhaseReading, worker.PhasePlanning, worker.PhaseApplying, worker.PhaseDone}, phases)
	last := seen[len(seen)-1]
	require.Equal(t, 3, last.UsersEnumerated)
	require.Equal(t, 2, last.Planned, "two creates; the seeded contact is unchanged")
	require.Equal(t, 2, last.Written)
	require.Zero(t, last.Left())
	require.Equal(t, rep.RunID, last.RunID)
}

// TestLostLinkAndNewEmailCostNoDuplicate: the link cache is flushed and the
// user's primary email changes with no alias left, so neither the link nor
// the email can find the contact; the per-user job and an incremental run
// find it by the object id kept on it and update it instead of creating a
// second one, in every PSA the worker tests run against.
func TestLostLinkAndNewEmailCostNoDuplicate(t *testing.T) {
	t.Parallel()
	for _, vendor := range []string{"connectwise", "autotask"} {
		t.Run(vendor, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			jane := member(1, "jane", "Jane", "Doe")
			jane.ProxyAddresses = []string{"SMTP:" + jane.Mail}
			w := newWorld(t, worldOpts{users: []graphsim.User{jane}, autotask: vendor == "autotask"})
			out, err := w.engine.SyncUser(ctx, tenantID, jane.ID)
			require.NoError(t, err)
			require.Equal(t, "created", out.Action)
			require.Len(t, w.contacts(), 1)
			id := w.contacts()[0].ID

			flush := func() {
				require.NoError(t, w.redis.rdb.Del(ctx, w.redis.prefix+"link:"+tenantID).Err())
			}
			flush()
			renamed := "jane.doe@" + domain
			w.updateUser(t, jane.ID, map[string]any{"mail": renamed, "userPrincipalName": renamed,
				"proxyAddresses": []string{"SMTP:" + renamed}})
			out, err = w.engine.SyncUser(ctx, tenantID, jane.ID)
			require.NoError(t, err)
			require.Equal(t, "updated", out.Action, "%+v", out)
			require.Contains(t, out.ChangedFields, "email")
			require.Len(t, w.contacts(), 1, "no duplicate")
			require.Equal(t, renamed, w.contact(t, id).Email)

			flush()
			again := "jane.d@" + domain
			w.updateUser(t, jane.ID, map[string]any{"mail": again, "userPrincipalName": again,
				"proxyAddresses": []string{"SMTP:" + again}})
			rep := w.run(t, worker.ModeIncremental, nil)
			require.True(t, rep.Success, "%+v", rep.Errors)
			require.Empty(t, rep.CreatedContacts)
			require.Equal(t, itoa(id), updated(t, rep, again).PSAContactID)
			require.Len(t, w.contacts(), 1, "no duplicate")
			require.Equal(t, again, w.contact(t, id).Email)
		})
	}
}
