package worker_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

func TestDefaultRunInputs(t *testing.T) {
	t.Parallel()
	in := worker.DefaultRunInputs("contoso")
	require.Equal(t, worker.RunInputs{Tenant: "contoso", SyncMode: worker.ModeIncremental, SkipDisabledUsers: true, UpdateExisting: true}, in)
	require.NoError(t, in.Validate())

	// The workflow's input names, and the defaults a caller sees in JSON.
	raw, err := json.Marshal(in)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	require.Equal(t, map[string]any{"tenant": "contoso", "sync_mode": "incremental", "skip_disabled_users": true,
		"update_existing": true, "dry_run": false}, m)
}

func TestRunInputsValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*worker.RunInputs)
		// bad are the field names the error must name, in order; none
		// means valid.
		bad []string
	}{
		{name: "defaults", change: func(*worker.RunInputs) {}},
		{name: "full", change: func(in *worker.RunInputs) { in.SyncMode = worker.ModeFull }},
		{name: "every filter", change: func(in *worker.RunInputs) {
			in.CompanyID, in.DepartmentFilter, in.OfficeLocationFilter = "250", []string{"Sales"}, []string{"HQ"}
			in.UserPrincipalNames = []string{"jane@contoso.example", "JOHN@contoso.example"}
			in.SkipDisabledUsers, in.UpdateExisting, in.DryRun = false, false, true
		}},
		{name: "no tenant", change: func(in *worker.RunInputs) { in.Tenant = "" }, bad: []string{"tenant"}},
		{name: "blank tenant", change: func(in *worker.RunInputs) { in.Tenant = "  \t" }, bad: []string{"tenant"}},
		{name: "no sync mode", change: func(in *worker.RunInputs) { in.SyncMode = "" }, bad: []string{"sync_mode"}},
		{name: "unknown sync mode", change: func(in *worker.RunInputs) { in.SyncMode = "Full" }, bad: []string{"sync_mode"}},
		{name: "upn without @", change: func(in *worker.RunInputs) {
			in.UserPrincipalNames = []string{"jane@contoso.example", "john"}
		}, bad: []string{"user_principal_names[1]"}},
		{name: "company id with space", change: func(in *worker.RunInputs) { in.CompanyID = "25 0" }, bad: []string{"company_id"}},
		{name: "company id with newline", change: func(in *worker.RunInputs) { in.CompanyID = "250\n" }, bad: []string{"company_id"}},
		{name: "everything wrong at once", change: func(in *worker.RunInputs) {
			*in = worker.RunInputs{SyncMode: "delta", UserPrincipalNames: []string{"a", "b@c", "d"}, CompanyID: "a b"}
		}, bad: []string{"tenant", "sync_mode", "user_principal_names[0]", "user_principal_names[2]", "company_id"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := worker.DefaultRunInputs("contoso")
			tt.change(&in)
			err := in.Validate()
			if len(tt.bad) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			lines := strings.Split(err.Error(), "\n")
			require.Len(t, lines, len(tt.bad), "one line per bad field: %v", err)
			for i, field := range tt.bad {
				require.True(t, strings.HasPrefix(lines[i], field+": "), "line %d %q names %s", i, lines[i], field)
			}
		})
	}
}

func TestRunInputsValidateQuotesTheBadValue(t *testing.T) {
	t.Parallel()
	in := worker.DefaultRunInputs("contoso")
	in.SyncMode, in.UserPrincipalNames = "sometimes", []string{"bob"}
	err := in.Validate()
	require.ErrorContains(t, err, `"sometimes"`)
	require.ErrorContains(t, err, `"bob"`)
}
