package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/worker"
)

// seededLedger writes a config whose Redis holds a few change-log entries
// and runs, written through the ledger as the worker writes them.
func seededLedger(t *testing.T) string {
	t.Helper()
	var cfg *config.Config
	path, _ := writeSimConfig(t, func(c *config.Config) { testRedis(t, c); cfg = c })
	rdb := redis.NewClient(&redis.Options{Addr: cfg.Redis.Addr})
	t.Cleanup(func() { _ = rdb.Close() })
	l := ledger.New(rdb, cfg.Redis.Prefix(), ledger.Options{})
	ctx := context.Background()
	tenant := cfg.Tenants[0].ID
	now := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	require.NoError(t, l.Append(ctx,
		ledger.Entry{Time: now, Tenant: tenant, CompanyID: "250", UserID: "u-1", UPN: "alice@contoso.com", ContactID: "17",
			Action: "created", Changes: []ledger.FieldChange{{Field: "email", New: "alice@contoso.com"}},
			Trigger: ledger.Trigger{Kind: ledger.TriggerRun, RunID: "run-1", Mode: "full"}, Result: ledger.ResultWritten},
		ledger.Entry{Time: now.Add(time.Minute), Tenant: tenant, CompanyID: "250", UserID: "u-1", UPN: "alice@contoso.com", ContactID: "17",
			Action: "updated", Changes: []ledger.FieldChange{{Field: "job_title", Old: "Engineer", New: "Lead, Platform"}},
			Trigger: ledger.Trigger{Kind: ledger.TriggerNotification, SubscriptionID: "sub-1"}, Result: ledger.ResultWritten},
		ledger.Entry{Time: now.Add(2 * time.Minute), Tenant: tenant, CompanyID: "250", UserID: "u-2", UPN: "bob@contoso.com", ContactID: "18",
			Action: "updated", Changes: []ledger.FieldChange{{Field: "phone", Old: "1", New: "2"}},
			Trigger: ledger.Trigger{Kind: ledger.TriggerRun, RunID: "run-2", Mode: "incremental"}, Result: ledger.ResultFailed,
			ErrorCode: "ContactUpdateFailed", PSAError: "phone is invalid"},
	))
	for i, st := range []string{worker.RunSucceeded, worker.RunFailed} {
		rec := worker.RunRecord{ID: []string{"run-1", "run-2"}[i], State: st, CreatedAt: now.Add(time.Duration(i) * time.Minute),
			Inputs: worker.RunInputs{Tenant: tenant, SyncMode: []string{"full", "incremental"}[i]}}
		b, err := json.Marshal(rec)
		require.NoError(t, err)
		require.NoError(t, l.SaveRun(ctx, ledger.Run{ID: rec.ID, Tenant: tenant, Mode: rec.Inputs.SyncMode, State: st,
			CreatedAt: rec.CreatedAt, Record: b}))
	}
	return path
}

func TestChangesCommand(t *testing.T) {
	t.Parallel()
	path := seededLedger(t)

	r := run(t, "changes", "--config", path, "--user", "ALICE@contoso.com", "--format", "json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var page ledger.Page
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &page))
	require.Len(t, page.Entries, 2)
	require.Equal(t, "updated", page.Entries[0].Action, "newest first")
	require.Equal(t, ledger.FieldChange{Field: "job_title", Old: "Engineer", New: "Lead, Platform"}, page.Entries[0].Changes[0])

	r = run(t, "changes", "--config", path, "--limit", "1")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "bob@contoso.com")
	require.Contains(t, r.stdout, "failed (ContactUpdateFailed)")
	require.Contains(t, r.stderr, "more: --cursor ")
	cursor := strings.TrimSpace(strings.TrimPrefix(r.stderr[strings.Index(r.stderr, "more: --cursor "):], "more: --cursor "))
	r = run(t, "changes", "--config", path, "--limit", "1", "--cursor", cursor)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"Engineer" -> "Lead, Platform"`)

	r = run(t, "changes", "--config", path, "--trigger", "run", "--format", "csv")
	require.Equal(t, exitOK, r.code, r.stderr)
	rows, err := csv.NewReader(bytes.NewReader([]byte(r.stdout))).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 3, "header and one row per field change of the run entries")
	require.Equal(t, "phone is invalid", rows[1][len(rows[1])-1])
}

func TestRunsCommand(t *testing.T) {
	t.Parallel()
	path := seededLedger(t)
	r := run(t, "runs", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 3)
	require.True(t, strings.HasPrefix(lines[1], "run-2"), "newest first: %s", r.stdout)
	require.Contains(t, lines[1], "failed")

	r = run(t, "runs", "--config", path, "--state", "succeeded", "--format", "json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var out struct{ Runs []worker.RunRecord }
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &out))
	require.Len(t, out.Runs, 1)
	require.Equal(t, "run-1", out.Runs[0].ID)
}

func TestLedgerCommandsBadFlags(t *testing.T) {
	t.Parallel()
	path := seededLedger(t)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"changes", "--since", "yesterday"}, "--since"},
		{[]string{"changes", "--limit", "0"}, "--limit"},
		{[]string{"changes", "--trigger", "cron"}, "--trigger"},
		{[]string{"changes", "--cursor", "abc"}, "--cursor"},
		{[]string{"changes", "--format", "xml"}, "--format"},
		{[]string{"changes", "--since", "2026-11-03", "--until", "2026-11-02"}, "--since"},
		{[]string{"runs", "--format", "csv"}, "--format"},
		{[]string{"runs", "--until", "soon"}, "--until"},
		{[]string{"runs", "--limit", "many"}, "--limit"},
	} {
		r := run(t, append(tc.args, "--config", path)...)
		require.Equal(t, exitBadArgs, r.code, "%v: %s", tc.args, r.stderr)
		require.Contains(t, r.stderr, tc.flag+":", tc.args)
		require.Empty(t, r.stdout)
	}
}
