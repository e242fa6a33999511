package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
	"github.com/psasync/psasync/worker/reporttest"
)

func TestValidationHandshake(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, subscribe: true})
	rec, ok, err := nb.n.Subscriptions().ByTenant(context.Background(), nb.tenant)
	require.NoError(t, err)
	require.True(t, ok, "the subscription was created: the simulator's handshake against our webhook succeeded")
	require.Equal(t, "healthy", rec.Health)

	token := "Validation: <script>alert(1)</script> & more"
	resp, err := http.Post(nb.n.BaseURL()+"/webhook/graph?validationToken="+url.QueryEscape(token), "text/plain", nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, token, string(b))
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain"))
}

func TestNotificationLeadsToExactlyOneUpdate(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: p}, subscribe: true})
			require.True(t, nb.fullSync(t).Success)
			u := firstSyncable(t, nb.testBundle)
			before := nb.env.PSA.Stats().Writes
			_, err := nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "Head of Notifications"})
			require.NoError(t, err)
			nb.waitContact(t, u.ID, func(c simenv.Contact) bool { return c.Title == "Head of Notifications" })
			require.Eventually(t, func() bool { return nb.queueIdle(t) }, 10*time.Second, 20*time.Millisecond)
			require.Equal(t, 1, nb.env.PSA.Stats().Writes-before, "exactly one PSA write")
			out, ok, err := nb.n.Engine().Store().UserOutcome(context.Background(), nb.tenant, u.ID)
			require.NoError(t, err)
			require.True(t, ok, "the job's outcome is recorded")
			require.Equal(t, "updated", out.Action)
			require.Equal(t, []string{"job_title"}, out.ChangedFields)
			// On the record: the notification, with its subscription.
			page, err := nb.n.App().Ledger().Changes(context.Background(), ledger.Query{Tenant: nb.tenant, User: u.ID, Limit: 1})
			require.NoError(t, err)
			require.Len(t, page.Entries, 1)
			rec, _, err := nb.n.Subscriptions().ByTenant(context.Background(), nb.tenant)
			require.NoError(t, err)
			require.Equal(t, ledger.TriggerNotification, page.Entries[0].Trigger.Kind)
			require.Equal(t, rec.ID, page.Entries[0].Trigger.SubscriptionID)
			require.NotEmpty(t, page.Entries[0].Trigger.TaskID)
			require.Equal(t, "Head of Notifications", page.Entries[0].Changes[0].New)
		})
	}
}

func TestForgedNotificationsEnqueueNothing(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, subscribe: true})
	rec, _, err := nb.n.Subscriptions().ByTenant(context.Background(), nb.tenant)
	require.NoError(t, err)
	u := firstSyncable(t, nb.testBundle)
	cases := map[string]map[string]any{
		"forged clientState":   notification(rec.ID, "not-the-secret", nb.tenant, u.ID),
		"unknown subscription": notification("00000000-0000-0000-0000-000000000000", rec.ClientState, nb.tenant, u.ID),
		"wrong tenant":         notification(rec.ID, rec.ClientState, "11111111-1111-1111-1111-111111111111", u.ID),
		"null clientState":     notification(rec.ID, "", nb.tenant, u.ID),
	}
	cases["null clientState"]["value"].([]any)[0].(map[string]any)["clientState"] = nil
	before := nb.env.PSA.Stats().Writes
	for name, body := range cases {
		require.Equal(t, http.StatusAccepted, nb.postNotification(t, body), name)
	}
	time.Sleep(300 * time.Millisecond)
	require.True(t, nb.queueIdle(t), "nothing was enqueued")
	require.Equal(t, before, nb.env.PSA.Stats().Writes)

	// The genuine item is accepted.
	require.Equal(t, http.StatusAccepted, nb.postNotification(t, notification(rec.ID, rec.ClientState, nb.tenant, u.ID)))
	require.Eventually(t, func() bool {
		_, ok, _ := nb.n.Engine().Store().UserOutcome(context.Background(), nb.tenant, u.ID)
		return ok
	}, 10*time.Second, 20*time.Millisecond)
}

func TestRedisDownGives503AndNothingIsLost(t *testing.T) {
	t.Parallel()
	mr := miniredis.RunT(t)
	t.Cleanup(app.FollowRealTime(mr))
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, subscribe: true, redis: mr.Addr()})
	require.True(t, nb.fullSync(t).Success)
	rec, _, err := nb.n.Subscriptions().ByTenant(context.Background(), nb.tenant)
	require.NoError(t, err)
	u := firstSyncable(t, nb.testBundle)

	mr.Close()
	_, err = nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "Changed While Redis Was Down"})
	require.NoError(t, err)
	body := notification(rec.ID, rec.ClientState, nb.tenant, u.ID)
	require.Equal(t, http.StatusServiceUnavailable, nb.postNotification(t, body), "Graph must deliver again")
	resp, err := http.Get(nb.n.BaseURL() + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)

	require.NoError(t, mr.Restart())
	// Graph redelivers the notification it got a 503 for.
	require.Eventually(t, func() bool { return nb.postNotification(t, body) == http.StatusAccepted }, 10*time.Second, 50*time.Millisecond)
	nb.waitContact(t, u.ID, func(c simenv.Contact) bool { return c.Title == "Changed While Redis Was Down" })
}

func TestBurstCollapsesIntoFewWrites(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, subscribe: true})
	require.True(t, nb.fullSync(t).Success)
	rec, _, err := nb.n.Subscriptions().ByTenant(context.Background(), nb.tenant)
	require.NoError(t, err)
	u := firstSyncable(t, nb.testBundle)
	before := nb.env.PSA.Stats().Writes
	titles := make([]string, 20)
	start := time.Now()
	for i := range titles {
		titles[i] = "Title " + string(rune('A'+i))
		_, err := nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": titles[i]})
		require.NoError(t, err)
		require.Equal(t, http.StatusAccepted, nb.postNotification(t, notification(rec.ID, rec.ClientState, nb.tenant, u.ID)))
		time.Sleep(40 * time.Millisecond)
	}
	require.Less(t, time.Since(start), 1500*time.Millisecond)
	nb.waitContact(t, u.ID, func(c simenv.Contact) bool { return c.Title == titles[len(titles)-1] })
	require.Eventually(t, func() bool { return nb.queueIdle(t) }, 10*time.Second, 20*time.Millisecond)
	// The simulator also delivers its own notification for each change:
	// 40 notifications in all, still at most two writes.
	require.LessOrEqual(t, nb.env.PSA.Stats().Writes-before, 2)
}

func TestChangeDuringRunningJobIsNotLost(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise}, subscribe: true})
	require.True(t, nb.fullSync(t).Success)
	u := firstSyncable(t, nb.testBundle)
	// The PSA answers the next update slowly: the job is still running when
	// the second change arrives.
	nb.env.PSA.InjectFault(simenv.Fault{Method: "PATCH", Latency: 1500 * time.Millisecond, Count: 1})
	_, err := nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "First"})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := nb.queueInfo()
		return err == nil && info.Active > 0
	}, 10*time.Second, 10*time.Millisecond, "the first job is running")
	_, err = nb.env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "Second"})
	require.NoError(t, err)
	nb.waitContact(t, u.ID, func(c simenv.Contact) bool { return c.Title == "Second" })
}

func TestAPITriggerDryRun(t *testing.T) {
	t.Parallel()
	nb := startNode(t, nodeOpts{setupOpts: setupOpts{psa: config.PSAConnectWise, seedPSA: true}})
	status, body := nb.api(t, http.MethodPost, "/api/v1/sync", map[string]any{"sync_mode": "full", "dry_run": true})
	require.Equal(t, http.StatusAccepted, status, string(body))
	var started struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal(body, &started))
	require.NotEmpty(t, started.RunID)
	var rec worker.RunRecord
	require.Eventually(t, func() bool {
		status, body := nb.api(t, http.MethodGet, "/api/v1/runs/"+started.RunID, nil)
		if status != http.StatusOK {
			return false
		}
		require.NoError(t, json.Unmarshal(body, &rec))
		if rec.Report == nil {
			return false
		}
		// The API's own bytes keep the contract.
		var raw struct {
			Report json.RawMessage `json:"report"`
		}
		require.NoError(t, json.Unmarshal(body, &raw))
		reporttest.Validate(t, []byte(raw.Report))
		return true
	}, 20*time.Second, 50*time.Millisecond)
	require.True(t, rec.Report.DryRun)
	require.Equal(t, "full", rec.Report.SyncMode)
	require.NotZero(t, rec.Report.Statistics.ContactsCreated)
	require.Zero(t, nb.env.PSA.Stats().Writes, "a dry run writes nothing")

	status, body = nb.api(t, http.MethodGet, "/api/v1/runs", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), started.RunID)

	status, body = nb.api(t, http.MethodPost, "/api/v1/sync", map[string]any{"sync_mode": "sideways"})
	require.Equal(t, http.StatusBadRequest, status)
	require.Contains(t, string(body), "sync_mode")
	status, _ = nb.api(t, http.MethodPost, "/api/v1/sync", map[string]any{"dryrun": true})
	require.Equal(t, http.StatusBadRequest, status)
}
