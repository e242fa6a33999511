package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
)

// TestLedgerServedByTheNode checks the wiring: the App's one ledger is what
// the node's API reads.
func TestLedgerServedByTheNode(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, tune: func(c *config.Config) {
		c.Ledger.Retention = 10 * 24 * time.Hour // from the config
	}})
	l := nb.n.App().Ledger()
	require.Equal(t, 10*24*time.Hour, l.Options().Retention, "the config's ledger settings are used")
	ctx := context.Background()
	require.NoError(t, l.Append(ctx, ledger.Entry{Tenant: nb.tenant, UserID: "u-1", UPN: "alice@contoso.com", ContactID: "17",
		Action: "updated", Changes: []ledger.FieldChange{{Field: "job_title", Old: "a", New: "b"}},
		Trigger: ledger.Trigger{Kind: ledger.TriggerOperator, Actor: "admin"}, Result: ledger.ResultWritten}))
	_, err := l.OpenConflict(ctx, ledger.Conflict{Tenant: nb.tenant, UserID: "u-2", Code: "DuplicateContact",
		Candidates: []ledger.Candidate{{ContactID: "1"}, {ContactID: "2"}}})
	require.NoError(t, err)

	status, body := nb.api(t, http.MethodGet, "/api/v1/changes?contact=17", nil)
	require.Equal(t, http.StatusOK, status, string(body))
	var page ledger.Page
	require.NoError(t, json.Unmarshal(body, &page))
	require.Len(t, page.Entries, 1)
	require.Equal(t, "admin", page.Entries[0].Trigger.Actor)

	status, body = nb.api(t, http.MethodGet, "/api/v1/changes?format=csv", nil)
	require.Equal(t, http.StatusOK, status)
	require.True(t, strings.HasPrefix(string(body), "id,time,tenant"), string(body))

	status, body = nb.api(t, http.MethodGet, "/api/v1/conflicts?tenant="+nb.tenant, nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), `"office365_id":"u-2"`)
	for _, p := range []string{"/api/v1/held", "/api/v1/quarantine"} {
		status, _ = nb.api(t, http.MethodGet, p, nil)
		require.Equal(t, http.StatusOK, status, p)
	}
	status, body = nb.api(t, http.MethodGet, "/api/v1/changes?since=never", nil)
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(body), `\"since\"`)
}
