package graphsim_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/graphsim"
)

// subBody is a create-subscription body for /users.
func subBody(notify, lifecycle, state string, exp time.Time) map[string]any {
	m := map[string]any{
		"changeType":         "updated,deleted",
		"notificationUrl":    notify,
		"resource":           "/users",
		"expirationDateTime": exp.UTC().Format(time.RFC3339),
		"clientState":        state,
	}
	if lifecycle != "" {
		m["lifecycleNotificationUrl"] = lifecycle
	}
	return m
}

func (b *testBundle) createSub(t *testing.T, tok string, body map[string]any) (int, map[string]any) {
	t.Helper()
	status, raw, _ := b.do(t, http.MethodPost, "/v1.0/subscriptions", tok, body)
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m), string(raw))
	return status, m
}

func TestCreateSubscriptionPerformsTheHandshake(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 3, 1), graphsim.WithClock(clock.Now))
	tok := b.token(t, "t1")
	rcv := newReceiver(t)
	life := newReceiver(t)
	exp := clock.Now().Add(graphsim.MaxUserSubscriptionMinutes * time.Minute)

	status, m := b.createSub(t, tok, subBody(rcv.srv.URL+"/notify?x=1", life.srv.URL+"/life", "s3cret", exp))
	require.Equal(t, http.StatusCreated, status, m)
	require.Equal(t, 1, rcv.validationCount())
	require.Equal(t, 1, life.validationCount())
	require.True(t, strings.HasPrefix(rcv.validations[0], "Validation: Testing client application reachability"), "the token arrives URL-decoded: %q", rcv.validations[0])
	require.Equal(t, "/users", m["resource"])
	require.Equal(t, "updated,deleted", m["changeType"])
	require.Equal(t, "s3cret", m["clientState"])
	require.Equal(t, graphsim.DefaultClientID, m["applicationId"])
	require.Equal(t, exp.UTC().Format("2006-01-02T15:04:05.0000000Z"), m["expirationDateTime"])
	id := m["id"].(string)

	// Same resource, changeType and URL again: 409.
	status, raw, _ := b.do(t, http.MethodPost, "/v1.0/subscriptions", tok, subBody(rcv.srv.URL+"/notify?x=1", "", "other", exp))
	require.Equal(t, http.StatusConflict, status)
	code, msg := graphError(t, raw)
	require.Equal(t, "Conflict", code)
	require.Contains(t, msg, id)

	// List, get, renew, reauthorize, delete.
	status, list := b.getJSON(t, "/v1.0/subscriptions", tok)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, values(t, list), 1)
	status, got := b.getJSON(t, "/v1.0/subscriptions/"+id, tok)
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, id, got["id"])

	clock.Advance(24 * time.Hour)
	newExp := clock.Now().Add(48 * time.Hour)
	status, raw, _ = b.do(t, http.MethodPatch, "/v1.0/subscriptions/"+id, tok, map[string]any{"expirationDateTime": newExp.Format(time.RFC3339Nano)})
	require.Equal(t, http.StatusOK, status, string(raw))
	snap := b.sim.Subscriptions("t1")
	require.Len(t, snap, 1)
	require.True(t, snap[0].ExpirationDateTime.Equal(newExp))
	require.True(t, snap[0].LastReauthorized.Equal(clock.Now()), "a renewal reauthorizes")

	require.NoError(t, b.sim.SendLifecycle(context.Background(), id, "reauthorizationRequired"))
	require.True(t, b.sim.Subscriptions("t1")[0].ReauthorizationRequired)
	status, _, _ = b.do(t, http.MethodPost, "/v1.0/subscriptions/"+id+"/reauthorize", tok, nil)
	require.Equal(t, http.StatusNoContent, status)
	require.False(t, b.sim.Subscriptions("t1")[0].ReauthorizationRequired)

	status, _, _ = b.do(t, http.MethodDelete, "/v1.0/subscriptions/"+id, tok, nil)
	require.Equal(t, http.StatusNoContent, status)
	for _, call := range []struct{ method, path string }{
		{http.MethodGet, "/v1.0/subscriptions/" + id},
		{http.MethodPatch, "/v1.0/subscriptions/" + id},
		{http.MethodDelete, "/v1.0/subscriptions/" + id},
		{http.MethodPost, "/v1.0/subscriptions/" + id + "/reauthorize"},
	} {
		status, raw, _ := b.do(t, call.method, call.path, tok, map[string]any{"expirationDateTime": newExp.Format(time.RFC3339)})
		require.Equal(t, http.StatusNotFound, status, call)
		code, _ := graphError(t, raw)
		require.Equal(t, "ResourceNotFound", code)
	}
}

func TestCreateSubscriptionRefusals(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 3, 1), graphsim.WithClock(clock.Now), graphsim.WithHandshakeTimeout(300*time.Millisecond))
	tok := b.token(t, "t1")
	rcv := newReceiver(t)
	exp := clock.Now().Add(time.Hour)
	tests := []struct {
		name   string
		change func(m map[string]any)
		prep   func()
	}{
		{name: "too long", change: func(m map[string]any) {
			m["expirationDateTime"] = clock.Now().Add((graphsim.MaxUserSubscriptionMinutes + 1) * time.Minute).Format(time.RFC3339)
		}},
		{name: "in the past", change: func(m map[string]any) { m["expirationDateTime"] = clock.Now().Add(-time.Minute).Format(time.RFC3339) }},
		{name: "created is not for users", change: func(m map[string]any) { m["changeType"] = "created,updated" }},
		{name: "unsupported resource", change: func(m map[string]any) { m["resource"] = "/groups" }},
		{name: "plain http to a public host", change: func(m map[string]any) { m["notificationUrl"] = "http://example.com/hook" }},
		{name: "clientState too long", change: func(m map[string]any) { m["clientState"] = strings.Repeat("x", 129) }},
		{name: "rich notifications", change: func(m map[string]any) { m["includeResourceData"] = true }},
		{name: "unknown property", change: func(m map[string]any) { m["colour"] = "red" }},
		{name: "wrong echo", change: func(map[string]any) {}, prep: func() { rcv.mu.Lock(); rcv.badEcho = true; rcv.mu.Unlock() }},
		{name: "echo not text/plain", change: func(map[string]any) {}, prep: func() {
			rcv.mu.Lock()
			rcv.badEcho, rcv.contentType = false, "application/json"
			rcv.mu.Unlock()
		}},
		{name: "unreachable", change: func(m map[string]any) { m["notificationUrl"] = "http://127.0.0.1:1/hook" }},
	}
	for _, tc := range tests {
		if tc.prep != nil {
			tc.prep()
		}
		body := subBody(rcv.srv.URL, "", "s", exp)
		tc.change(body)
		status, raw, _ := b.do(t, http.MethodPost, "/v1.0/subscriptions", tok, body)
		require.Equal(t, http.StatusBadRequest, status, "%s: %s", tc.name, raw)
		graphError(t, raw)
	}
	require.Empty(t, b.sim.Subscriptions(""))
}

func TestSubscriptionCapPerAppAndTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 1, 1))
	tok := b.token(t, "t1")
	rcv := newReceiver(t)
	exp := time.Now().Add(time.Hour)
	for i := 0; i < graphsim.MaxSubscriptionsPerAppAndTenant; i++ {
		status, m := b.createSub(t, tok, subBody(fmt.Sprintf("%s/n%d", rcv.srv.URL, i), "", "", exp))
		require.Equal(t, http.StatusCreated, status, m)
	}
	status, raw, _ := b.do(t, http.MethodPost, "/v1.0/subscriptions", tok, subBody(rcv.srv.URL+"/one-more", "", "", exp))
	require.Equal(t, http.StatusForbidden, status)
	graphError(t, raw)
}

func TestSubscriptionsExpireWithTheClock(t *testing.T) {
	t.Parallel()
	clock := newFakeClock()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 3, 1), graphsim.WithClock(clock.Now))
	tok := b.token(t, "t1")
	rcv := newReceiver(t)
	status, _ := b.createSub(t, tok, subBody(rcv.srv.URL, "", "s", clock.Now().Add(2*time.Hour)))
	require.Equal(t, http.StatusCreated, status)
	clock.Advance(2 * time.Hour)
	require.Empty(t, b.sim.Subscriptions("t1"))
	_, list := b.getJSON(t, "/v1.0/subscriptions", tok)
	require.Empty(t, values(t, list))
	_, err := b.sim.UpdateUser("t1", b.sim.Users("t1")[0].ID, map[string]any{"jobTitle": "x"})
	require.NoError(t, err)
	require.NoError(t, b.sim.WaitDeliveries(context.Background()))
	require.Empty(t, rcv.notifications(t), "a lapsed subscription gets nothing")
}

func TestSubscriptionsAreTheAppsOwnPerTenant(t *testing.T) {
	t.Parallel()
	b := setup(t,
		graphsim.WithGeneratedTenant("a", 1, 1),
		graphsim.WithTenant(graphsim.TenantSpec{ID: "b", ClientID: "app-b", ClientSecret: "sec-b"}))
	rcv := newReceiver(t)
	status, m := b.createSub(t, b.token(t, "a"), subBody(rcv.srv.URL, "", "", time.Now().Add(time.Hour)))
	require.Equal(t, http.StatusCreated, status)
	_, tb := b.tokenResponse(t, "b", map[string][]string{
		"grant_type": {"client_credentials"}, "client_id": {"app-b"}, "client_secret": {"sec-b"},
		"scope": {"https://graph.microsoft.com/.default"},
	})
	tokB := tb["access_token"].(string)
	_, list := b.getJSON(t, "/v1.0/subscriptions", tokB)
	require.Empty(t, values(t, list))
	status, _, _ = b.do(t, http.MethodGet, "/v1.0/subscriptions/"+m["id"].(string), tokB, nil)
	require.Equal(t, http.StatusNotFound, status)
	require.Len(t, b.sim.Subscriptions(""), 1)
	require.Empty(t, b.sim.Subscriptions("b"))
}

func TestChangeNotificationsAreDelivered(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 5, 1), graphsim.WithDeliveryRetry(4, 10*time.Millisecond))
	tok := b.token(t, "t1")
	all := newReceiver(t)
	onlyDeleted := newReceiver(t)
	status, m := b.createSub(t, tok, subBody(all.srv.URL, "", "state-1", time.Now().Add(time.Hour)))
	require.Equal(t, http.StatusCreated, status)
	subID := m["id"].(string)
	body := subBody(onlyDeleted.srv.URL, "", "", time.Now().Add(time.Hour))
	body["changeType"] = "deleted"
	status, _ = b.createSub(t, tok, body)
	require.Equal(t, http.StatusCreated, status)

	users := b.sim.Users("t1")
	all.mu.Lock()
	all.failNext = 2 // the first delivery needs three attempts
	all.mu.Unlock()
	_, err := b.sim.UpdateUser("t1", users[0].ID, map[string]any{"mobilePhone": "+1 555 0000"})
	require.NoError(t, err)
	require.NoError(t, b.sim.DeleteUser("t1", users[1].ID))
	require.NoError(t, b.sim.PurgeUser("t1", users[2].ID))
	_, err = b.sim.UpdateUser("t1", users[3].ID, map[string]any{"mobilePhone": users[3].MobilePhone})
	require.NoError(t, err, "a PATCH that changes nothing notifies nobody")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, b.sim.WaitDeliveries(ctx))

	got := all.notifications(t)
	require.Len(t, got, 3)
	wantTypes := []string{"updated", "updated", "deleted"}
	for i, n := range got {
		require.Equal(t, subID, n["subscriptionId"])
		require.Equal(t, "state-1", n["clientState"])
		require.Equal(t, "t1", n["tenantId"])
		require.Equal(t, wantTypes[i], n["changeType"])
		rd := n["resourceData"].(map[string]any)
		require.Equal(t, "#Microsoft.Graph.User", rd["@odata.type"])
		require.Equal(t, "Users/"+rd["id"].(string), n["resource"])
		require.Equal(t, "t1", rd["organizationId"])
		require.NotNil(t, rd["sequenceNumber"])
	}
	require.Equal(t, users[0].ID, got[0]["resourceData"].(map[string]any)["id"])

	del := onlyDeleted.notifications(t)
	require.Len(t, del, 1)
	require.Equal(t, users[2].ID, del[0]["resourceData"].(map[string]any)["id"])
	require.Nil(t, del[0]["clientState"], "no clientState is sent as null")

	stats := b.sim.Stats()
	require.Equal(t, 4, stats.NotificationsDelivered)
	require.Equal(t, 2, stats.NotificationsFailed)
	for _, s := range b.sim.Subscriptions("t1") {
		if s.ID == subID {
			require.Equal(t, 3, s.NotificationsSent)
		}
	}
}

func TestDuplicateAndOutOfOrderDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 5, 1),
		graphsim.WithDuplicateDelivery(1), graphsim.WithOutOfOrderDelivery(100*time.Millisecond))
	tok := b.token(t, "t1")
	rcv := newReceiver(t)
	status, _ := b.createSub(t, tok, subBody(rcv.srv.URL, "", "s", time.Now().Add(time.Hour)))
	require.Equal(t, http.StatusCreated, status)
	users := b.sim.Users("t1")
	for i := 0; i < 3; i++ {
		_, err := b.sim.UpdateUser("t1", users[i].ID, map[string]any{"jobTitle": fmt.Sprintf("T%d", i)})
		require.NoError(t, err)
	}
	require.NoError(t, b.sim.WaitDeliveries(context.Background()))
	got := rcv.notifications(t)
	require.Len(t, got, 6, "every notification twice")
	var order []string
	for i := 0; i < len(got); i += 2 {
		require.Equal(t, got[i], got[i+1], "the duplicate is identical")
		order = append(order, got[i]["resourceData"].(map[string]any)["id"].(string))
	}
	require.Equal(t, []string{users[2].ID, users[1].ID, users[0].ID}, order, "a batch arrives reversed")
}

func TestLifecycleNotification(t *testing.T) {
	t.Parallel()
	b := setup(t, graphsim.WithGeneratedTenant("t1", 1, 1))
	tok := b.token(t, "t1")
	rcv := newReceiver(t)
	life := newReceiver(t)
	status, m := b.createSub(t, tok, subBody(rcv.srv.URL, life.srv.URL, "cs", time.Now().Add(time.Hour)))
	require.Equal(t, http.StatusCreated, status)
	id := m["id"].(string)

	status, _, _ = b.do(t, http.MethodPost, "/_sim/subscriptions/"+id+"/lifecycle", "", map[string]any{"lifecycleEvent": "reauthorizationRequired"})
	require.Equal(t, http.StatusNoContent, status)
	got := life.notifications(t)
	require.Len(t, got, 1)
	require.Equal(t, map[string]any{
		"subscriptionId":                 id,
		"subscriptionExpirationDateTime": m["expirationDateTime"],
		"tenantId":                       "t1",
		"clientState":                    "cs",
		"lifecycleEvent":                 "reauthorizationRequired",
	}, got[0])
	require.Empty(t, rcv.notifications(t), "lifecycle events go to the lifecycle URL only")

	require.ErrorIs(t, b.sim.SendLifecycle(context.Background(), "nope", "reauthorizationRequired"), graphsim.ErrSubscriptionNotFound)
	status, _, _ = b.do(t, http.MethodDelete, "/_sim/subscriptions/"+id, "", nil)
	require.Equal(t, http.StatusNoContent, status)
	require.ErrorIs(t, b.sim.DeleteSubscription(id), graphsim.ErrSubscriptionNotFound)
}

func TestCloseStopsDeliveries(t *testing.T) {
	t.Parallel()
	sim := graphsim.New(graphsim.WithGeneratedTenant("t1", 3, 1), graphsim.WithDeliveryRetry(50, time.Second))
	require.NoError(t, sim.Start("127.0.0.1:0"))
	b := &testBundle{sim: sim, hc: sim.HTTPClient()}
	tok := b.token(t, "t1")
	rcv := newReceiver(t)
	status, _ := b.createSub(t, tok, subBody(rcv.srv.URL, "", "", time.Now().Add(time.Hour)))
	require.Equal(t, http.StatusCreated, status)
	rcv.mu.Lock()
	rcv.failNext = 1000
	rcv.mu.Unlock()
	_, err := sim.UpdateUser("t1", sim.Users("t1")[0].ID, map[string]any{"jobTitle": "x"})
	require.NoError(t, err)
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	sim.Close()
	require.Less(t, time.Since(start), 2*time.Second, "Close aborts the retry backoff")
	require.NoError(t, sim.WaitDeliveries(context.Background()))
	_, err = sim.UpdateUser("t1", sim.Users("t1")[0].ID, map[string]any{"jobTitle": "y"})
	require.NoError(t, err, "changes after Close still apply, without deliveries")
	require.NoError(t, sim.WaitDeliveries(context.Background()))
}
