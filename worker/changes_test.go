package worker_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/worker"
)

// TestReportShowsOldAndNewValues: every created and updated item carries
// each written field's old and new value, the same in a dry run as in the
// real run that follows; users skipped as unchanged or out of scope are
// counted per reason and listed only when the run asks.
func TestReportShowsOldAndNewValues(t *testing.T) {
	t.Parallel()
	newcomer := member(1, "new", "New", "Comer")
	promoted := member(2, "promoted", "Pro", "Moted")
	promoted.JobTitle = "Director"
	same := member(3, "same", "Sam", "E")
	off := member(4, "off", "Off", "Line")
	off.AccountEnabled = graphsim.Bool(false)
	quiet := member(5, "quiet", "Qui", "Et") // no phone: a warning on every run
	quiet.BusinessPhones = nil
	w := newWorld(t, worldOpts{users: []graphsim.User{newcomer, promoted, same, off, quiet}})
	w.seed(contactView{FirstName: "Qui", LastName: "Et", Email: quiet.Mail, Title: quiet.JobTitle, Department: quiet.Department,
		OfficeLocation: quiet.OfficeLocation, CType: "End User", ExternalID: quiet.ID})
	old := promoted
	old.JobTitle = "Engineer"
	w.seedCurrent(old, true)
	w.seedCurrent(same, true)

	dry := w.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.DryRun = true })
	real := w.run(t, worker.ModeFull, nil)
	for _, rep := range []*worker.Report{dry, real} {
		require.True(t, rep.Success, "%+v", rep.Errors)
		require.Len(t, rep.UpdatedContacts, 1)
		require.Equal(t, []worker.FieldChange{{Field: "job_title", Old: "Engineer", New: "Director"}}, rep.UpdatedContacts[0].Changes)
		require.Len(t, rep.CreatedContacts, 1)
		if rep.DryRun {
			created := map[string]worker.FieldChange{}
			for _, c := range rep.CreatedContacts[0].Changes {
				require.Empty(t, c.Old, "a create has no old values")
				created[c.Field] = c
			}
			require.Equal(t, "new@"+domain, created["email"].New)
			require.Equal(t, newcomer.ID, created["m365_object_id"].New)
		} else {
			require.Empty(t, rep.CreatedContacts[0].Changes, "a real create's values are in the change log, not the report")
		}
		require.Equal(t, map[string]int{"unchanged": 2, "out of scope: disabled": 1}, rep.Statistics.SkippedByReason)
		require.Empty(t, rep.SkippedContacts, "unchanged and out-of-scope users are only counted")
		require.Equal(t, map[string]int{worker.WarnMissingPhoneNumber: 1}, rep.Statistics.QuietWarnings)
		for _, wi := range rep.Warnings {
			require.NotEqual(t, quiet.UserPrincipalName, wi.UserPrincipalName, "an unchanged user's warning is counted, not listed")
		}
	}

	listed := w.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.ListSkipped = true })
	require.Equal(t, 5, listed.Statistics.ContactsSkipped)
	require.Len(t, listed.SkippedContacts, 5, "list_skipped lists every skip: %+v", listed.SkippedContacts)
	require.Equal(t, worker.WarnMissingPhoneNumber, listed.Warnings[0].Code, "and every warning")
}

// TestEveryWriteIsInTheChangeLog: a run's writes and a job's are logged
// with old and new values, what triggered them and their result; a dry run
// logs nothing; a refused write is logged as failed with the PSA's code.
func TestEveryWriteIsInTheChangeLog(t *testing.T) {
	t.Parallel()
	jane := member(1, "jane", "Jane", "Doe")
	w := newWorld(t, worldOpts{users: []graphsim.User{jane}})
	ctx := context.Background()
	l := w.engine.Ledger()

	w.run(t, worker.ModeFull, func(in *worker.RunInputs) { in.DryRun = true })
	page, err := l.Changes(ctx, ledger.Query{Tenant: tenantID})
	require.NoError(t, err)
	require.Empty(t, page.Entries, "a dry run logs nothing")

	rep := w.run(t, worker.ModeFull, nil)
	require.Len(t, rep.CreatedContacts, 1)
	page, err = l.Changes(ctx, ledger.Query{Tenant: tenantID})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1)
	created := page.Entries[0]
	require.Equal(t, worker.ActionCreated, created.Action)
	require.Equal(t, ledger.ResultWritten, created.Result)
	require.Equal(t, ledger.Trigger{Kind: ledger.TriggerRun, RunID: rep.RunID, Mode: worker.ModeFull}, created.Trigger)
	require.Equal(t, rep.CreatedContacts[0].PSAContactID, created.ContactID)
	require.Equal(t, jane.ID, created.UserID)
	require.Equal(t, "jane@"+domain, created.Changes[fieldAt(created.Changes, "email")].New)

	w.updateUser(t, jane.ID, map[string]any{"jobTitle": "CTO"})
	_, err = w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.NoError(t, err)
	page, err = l.Changes(ctx, ledger.Query{Tenant: tenantID, ContactID: created.ContactID})
	require.NoError(t, err)
	require.Len(t, page.Entries, 2, "newest first")
	updated := page.Entries[0]
	require.Equal(t, ledger.TriggerNotification, updated.Trigger.Kind)
	require.Equal(t, []ledger.FieldChange{{Field: "job_title", Old: "Engineer", New: "CTO"}}, updated.Changes)

	w.cw.InjectFault(cwsim.Fault{Method: http.MethodPatch, PathContains: "/company/contacts", Status: http.StatusBadRequest, Code: "InvalidObject", Count: 1})
	w.updateUser(t, jane.ID, map[string]any{"jobTitle": "Chief"})
	_, err = w.engine.SyncUser(ctx, tenantID, jane.ID)
	require.Error(t, err)
	page, err = l.Changes(ctx, ledger.Query{Tenant: tenantID, ContactID: created.ContactID, Limit: 1})
	require.NoError(t, err)
	failed := page.Entries[0]
	require.Equal(t, ledger.ResultFailed, failed.Result)
	require.Equal(t, worker.CodeContactUpdateFailed, failed.ErrorCode)
	require.NotEmpty(t, failed.PSAError)
}

func fieldAt(cs []ledger.FieldChange, field string) int {
	for i, c := range cs {
		if c.Field == field {
			return i
		}
	}
	return -1
}
