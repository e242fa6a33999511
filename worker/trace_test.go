package worker_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/worker"
)

// stepOf returns the trace's step of that name (the last one, if several).
func stepOf(t *testing.T, tr *worker.Trace, name string) worker.TraceStep {
	t.Helper()
	var found *worker.TraceStep
	for i := range tr.Steps {
		if tr.Steps[i].Step == name {
			found = &tr.Steps[i]
		}
	}
	require.NotNil(t, found, "no %s step in %+v", name, tr.Steps)
	return *found
}

// TestSyncUserTrace: syncing one user on demand returns every step (the
// user as read, scope, company, match, diff, write) for a created, an
// updated, an out-of-scope and a conflicting user, and a dry run writes
// nothing.
func TestSyncUserTrace(t *testing.T) {
	t.Parallel()
	newcomer := member(1, "new", "New", "Comer")
	promoted := member(2, "promoted", "Pro", "Moted")
	promoted.JobTitle = "Director"
	guest := member(3, "guest", "Gu", "Est")
	guest.UserType = "Guest"
	twin := member(4, "twin", "Twin", "Two")
	w := newWorld(t, worldOpts{users: []graphsim.User{newcomer, promoted, guest, twin}})
	old := promoted
	old.JobTitle = "Engineer"
	w.seedCurrent(old, true)
	w.seed(contactView{FirstName: "Twin", LastName: "A", Email: twin.Mail})
	w.seed(contactView{FirstName: "Twin", LastName: "B", Email: twin.Mail})
	ctx := context.Background()

	dry, err := w.engine.SyncUserTrace(ctx, tenantID, newcomer.UserPrincipalName, true, "test")
	require.NoError(t, err)
	require.Equal(t, 0, w.writes(), "a dry run writes nothing")
	require.Equal(t, "dry run: created not written", stepOf(t, dry, worker.StepWrite).Decision)

	created, err := w.engine.SyncUserTrace(ctx, tenantID, newcomer.UserPrincipalName, false, "test")
	require.NoError(t, err)
	require.Equal(t, newcomer.ID, created.User["id"])
	require.Equal(t, "Engineer", created.User["jobTitle"])
	require.Equal(t, "in scope", stepOf(t, created, worker.StepScope).Decision)
	require.Equal(t, "company "+company, stepOf(t, created, worker.StepCompany).Decision)
	require.Equal(t, "no match", stepOf(t, created, worker.StepMatch).Decision)
	require.Equal(t, "created", stepOf(t, created, worker.StepWrite).Decision)
	require.Contains(t, stepOf(t, created, worker.StepWrite).Detail, "the PSA answered with contact")
	require.Equal(t, worker.ActionCreated, created.Outcome.Action)
	require.Equal(t, 1, w.writes())

	updated, err := w.engine.SyncUserTrace(ctx, tenantID, promoted.ID, false, "test")
	require.NoError(t, err)
	match := stepOf(t, updated, worker.StepMatch)
	require.Equal(t, "object id on the contact", match.Rule)
	require.Len(t, match.Candidates, 1)
	require.Equal(t, []worker.FieldChange{{Field: "job_title", Old: "Engineer", New: "Director"}}, stepOf(t, updated, worker.StepDiff).Changes)
	require.Equal(t, worker.ActionUpdated, stepOf(t, updated, worker.StepWrite).Decision)

	out, err := w.engine.SyncUserTrace(ctx, tenantID, guest.UserPrincipalName, false, "test")
	require.NoError(t, err)
	scope := stepOf(t, out, worker.StepScope)
	require.Equal(t, "out of scope", scope.Decision)
	require.NotEmpty(t, scope.Rule)
	require.Equal(t, "nothing written", stepOf(t, out, worker.StepWrite).Decision)

	conflict, err := w.engine.SyncUserTrace(ctx, tenantID, twin.UserPrincipalName, false, "test")
	require.NoError(t, err)
	match = stepOf(t, conflict, worker.StepMatch)
	require.Equal(t, "conflict", match.Decision)
	require.Len(t, match.Candidates, 2)
	require.Equal(t, worker.CodeDuplicateContact, stepOf(t, conflict, worker.StepWrite).Rule)
	require.Equal(t, 2, w.writes(), "neither the guest nor the conflicting user was written")

	_, err = w.engine.SyncUserTrace(ctx, tenantID, "nobody@"+domain, false, "test")
	require.ErrorIs(t, err, worker.ErrUnknownUser)
	_, err = w.engine.SyncUserTrace(ctx, "fabrikam", newcomer.ID, false, "test")
	require.ErrorIs(t, err, worker.ErrUnknownTenant)
}
