package webhook

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/ledger"
)

// ledgerBundle is a server whose ledger routes read a real ledger on
// miniredis.
type ledgerBundle struct {
	*testBundle
	l *ledger.Ledger
}

func setupLedger(t *testing.T, opts ...func(*Config)) ledgerBundle {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	l := ledger.New(rdb, "psasync:", ledger.Options{})
	all := append([]func(*Config){func(c *Config) {
		c.ChangeLog, c.RunHistory, c.Decisions = l, l, l
	}}, opts...)
	return ledgerBundle{testBundle: setup(t, all...), l: l}
}

func (b ledgerBundle) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	return b.do(t, http.MethodGet, path, "", nil, bearer(testToken))
}

func seedChanges(t *testing.T, l *ledger.Ledger) {
	t.Helper()
	now := time.Now().UTC().Add(-time.Hour)
	var es []ledger.Entry
	for i := range 5 {
		es = append(es, ledger.Entry{Time: now.Add(time.Duration(i) * time.Minute), Tenant: tenantA, CompanyID: "250",
			UserID: userOne, UPN: "alice@contoso.com", ContactID: fmt.Sprint(100 + i%2), Action: "updated",
			Changes: []ledger.FieldChange{{Field: "job_title", Old: "Dev", New: fmt.Sprintf("Lead, \"%d\"", i)}},
			Trigger: ledger.Trigger{Kind: ledger.TriggerRun, RunID: "r1", Mode: "full"}, Result: ledger.ResultWritten})
	}
	require.NoError(t, l.Append(context.Background(), es...))
}

func TestChangesAPI(t *testing.T) {
	t.Parallel()
	b := setupLedger(t)
	seedChanges(t, b.l)

	resp, body := b.get(t, "/api/v1/changes?contact=101&limit=1")
	require.Equal(t, http.StatusOK, resp.StatusCode, "body: %s", body)
	var page ledger.Page
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Entries, 1)
	require.Equal(t, "101", page.Entries[0].ContactID)
	require.NotEmpty(t, page.Next)

	resp, body = b.get(t, "/api/v1/changes?contact=101&limit=1&cursor="+url.QueryEscape(page.Next))
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var next ledger.Page
	require.NoError(t, json.Unmarshal(body, &next))
	require.Len(t, next.Entries, 1)
	require.Less(t, next.Entries[0].Time, page.Entries[0].Time, "the next page is older")
	require.Empty(t, next.Next)

	resp, body = b.get(t, "/api/v1/changes?tenant="+tenantA+"&format=csv&limit=3")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/csv; charset=utf-8", resp.Header.Get("Content-Type"))
	require.Equal(t, `attachment; filename="psasync-changes.csv"`, resp.Header.Get("Content-Disposition"))
	require.NotEmpty(t, resp.Header.Get("X-Next-Cursor"))
	rows, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4)
	require.Equal(t, "id", rows[0][0])
	require.Equal(t, `Lead, "4"`, rows[1][10])

	resp, body = b.get(t, "/api/v1/changes?user=nobody")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.JSONEq(t, `{"entries":[]}`, string(body))
}

func TestLedgerAPIBadParameters(t *testing.T) {
	t.Parallel()
	b := setupLedger(t)
	tests := []struct{ path, param string }{
		{"/api/v1/changes?since=yesterday", "since"},
		{"/api/v1/changes?limit=0", "limit"},
		{"/api/v1/changes?trigger=cron", "trigger"},
		{"/api/v1/changes?cursor=x", "cursor"},
		{"/api/v1/changes?contcat=1", "contcat"},
		{"/api/v1/changes?format=xml", "format"},
		{"/api/v1/changes?format=csv&format=json", "format"},
		{"/api/v1/runs?state=failed&until=later", "until"},
		{"/api/v1/runs?limit=-1", "limit"},
		{"/api/v1/runs?cursor=abc", "cursor"},
		{"/api/v1/conflicts?status=maybe", "status"},
		{"/api/v1/conflicts?user=x", "user"},
		{"/api/v1/held?tenant=a&tenant=b", "tenant"},
		{"/api/v1/quarantine?company=1", "company"},
	}
	for _, tc := range tests {
		resp, body := b.get(t, tc.path)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode, tc.path)
		e := requireErrorEnvelope(t, body, codeInvalidRequest)
		require.Contains(t, e.Message, `"`+tc.param+`"`, tc.path)
	}
}

func TestDecisionsAPI(t *testing.T) {
	t.Parallel()
	b := setupLedger(t)
	ctx := context.Background()
	_, err := b.l.OpenConflict(ctx, ledger.Conflict{Tenant: tenantA, UserID: userOne, UPN: "alice@contoso.com",
		Code: "DuplicateContact", Candidates: []ledger.Candidate{{ContactID: "1"}, {ContactID: "2"}}})
	require.NoError(t, err)
	_, _, err = b.l.Hold(ctx, tenantA, "250", []ledger.HeldContact{{ContactID: "7", Reason: "user disabled"}})
	require.NoError(t, err)
	_, _, err = b.l.RecordFailure(ctx, tenantB, userTwo, "bob@fabrikam.com", "InvalidFieldMapping", "bad", "", 1)
	require.NoError(t, err)

	var conflicts struct{ Conflicts []ledger.Conflict }
	resp, body := b.get(t, "/api/v1/conflicts?tenant="+tenantA)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, json.Unmarshal(body, &conflicts))
	require.Len(t, conflicts.Conflicts, 1)
	require.Len(t, conflicts.Conflicts[0].Candidates, 2)
	_, body = b.get(t, "/api/v1/conflicts?status=resolved")
	require.JSONEq(t, `{"conflicts":[]}`, string(body))

	var held struct{ Held []ledger.HeldBatch }
	_, body = b.get(t, "/api/v1/held")
	require.NoError(t, json.Unmarshal(body, &held))
	require.Len(t, held.Held, 1)
	require.Equal(t, "user disabled", held.Held[0].Contacts[0].Reason)
	_, body = b.get(t, "/api/v1/held?tenant="+tenantB)
	require.JSONEq(t, `{"held":[]}`, string(body))

	var q struct{ Quarantine []ledger.Quarantine }
	_, body = b.get(t, "/api/v1/quarantine?tenant="+tenantB)
	require.NoError(t, json.Unmarshal(body, &q))
	require.Len(t, q.Quarantine, 1)
	require.Equal(t, userTwo, q.Quarantine[0].UserID)
}

func TestRunsAPIFromHistory(t *testing.T) {
	t.Parallel()
	b := setupLedger(t)
	ctx := context.Background()
	base := time.Now().UTC().Add(-time.Hour)
	for i, r := range []struct{ tenant, mode, state string }{
		{tenantA, "full", "succeeded"}, {tenantB, "incremental", "failed"}, {tenantA, "incremental", "failed"},
	} {
		id := fmt.Sprintf("run-%d", i)
		require.NoError(t, b.l.SaveRun(ctx, ledger.Run{ID: id, Tenant: r.tenant, Mode: r.mode, State: r.state,
			CreatedAt: base.Add(time.Duration(i) * time.Minute), Record: json.RawMessage(`{"id":"` + id + `"}`)}))
	}
	ids := func(body []byte) ([]string, string) {
		var v struct {
			Runs []struct{ ID string }
			Next string
		}
		require.NoError(t, json.Unmarshal(body, &v), "body: %s", body)
		var out []string
		for _, r := range v.Runs {
			out = append(out, r.ID)
		}
		return out, v.Next
	}
	for path, want := range map[string][]string{
		"/api/v1/runs":                        {"run-2", "run-1", "run-0"},
		"/api/v1/runs?tenant=" + tenantA:      {"run-2", "run-0"},
		"/api/v1/runs?state=failed":           {"run-2", "run-1"},
		"/api/v1/runs?mode=full":              {"run-0"},
		"/api/v1/runs?state=failed&mode=full": nil,
		"/api/v1/runs?until=" + url.QueryEscape(base.Add(time.Minute).Format(time.RFC3339Nano)): {"run-1", "run-0"},
	} {
		resp, body := b.get(t, path)
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		got, next := ids(body)
		require.Equal(t, want, got, path)
		require.Empty(t, next, path)
	}
	_, body := b.get(t, "/api/v1/runs?limit=2")
	got, next := ids(body)
	require.Equal(t, []string{"run-2", "run-1"}, got)
	_, body = b.get(t, "/api/v1/runs?limit=2&cursor="+url.QueryEscape(next))
	got, _ = ids(body)
	require.Equal(t, []string{"run-0"}, got)
	require.Zero(t, b.runs.lastLimit, "Runs.ListRuns is not used when the history is set")
}

func TestLedgerAPIMounting(t *testing.T) {
	t.Parallel()
	t.Run("without the ledger", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		for _, p := range []string{"/api/v1/changes", "/api/v1/conflicts", "/api/v1/held", "/api/v1/quarantine"} {
			resp, _ := b.do(t, http.MethodGet, p, "", nil, bearer(testToken))
			require.Equal(t, http.StatusNotFound, resp.StatusCode, p)
		}
	})
	t.Run("needs the token", func(t *testing.T) {
		t.Parallel()
		b := setupLedger(t)
		resp, _ := b.do(t, http.MethodGet, "/api/v1/changes", "", nil, nil)
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	})
	t.Run("ledger without Runs", func(t *testing.T) {
		t.Parallel()
		b := setupLedger(t, func(c *Config) { c.Runs = nil })
		resp, _ := b.get(t, "/api/v1/changes")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp, _ = b.get(t, "/api/v1/runs")
		require.Equal(t, http.StatusOK, resp.StatusCode)
		resp, _ = b.do(t, http.MethodPost, "/api/v1/sync", "application/json", strings.NewReader(`{}`), bearer(testToken))
		require.Equal(t, http.StatusNotFound, resp.StatusCode)
	})
}
