package webhook

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
)

func lifecycleItem(sub, tenant string, clientState *string, event string) map[string]any {
	m := map[string]any{
		"subscriptionId":                 sub,
		"subscriptionExpirationDateTime": "2026-03-20T11:00:00.0000000Z",
		"tenantId":                       tenant,
		"lifecycleEvent":                 event,
	}
	if clientState != nil {
		m["clientState"] = *clientState
	} else {
		m["clientState"] = nil
	}
	return m
}

func TestLifecycleFixture(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := fixture(t, "lifecycle-notification.json", map[string]string{
		"<subscription_guid>": subA, "<tenant_guid>": tenantA, "<secretClientState>": secretA,
	})
	resp, data := b.postJSON(t, "/webhook/graph/lifecycle", body)
	require.Equal(t, http.StatusAccepted, resp.StatusCode, "body: %s", data)
	require.Empty(t, data)
	require.Equal(t, [][]LifecycleEvent{{{TenantID: tenantA, SubscriptionID: subA, Event: directory.LifecycleReauthorizationRequired}}}, b.enq.lifecycleCalls())
	require.Empty(t, b.enq.userCalls())
	require.InDelta(t, 1, b.accepted(endpointLifecycle), 0)
}

func TestLifecycleEvents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body, err := json.Marshal(map[string]any{"value": []map[string]any{
		lifecycleItem(subA, tenantA, ptr(secretA), directory.LifecycleReauthorizationRequired),
		lifecycleItem(subB, tenantB, nil, directory.LifecycleSubscriptionRemoved),
		lifecycleItem(subA, tenantA, ptr(secretA), directory.LifecycleMissed),
		lifecycleItem(subA, tenantA, ptr(secretA), "somethingNew"),
		lifecycleItem(subA, tenantA, ptr("forged"), directory.LifecycleSubscriptionRemoved),
		lifecycleItem(subA, tenantB, ptr(secretA), directory.LifecycleMissed),
		lifecycleItem("nope", tenantA, ptr(secretA), directory.LifecycleMissed),
	}})
	require.NoError(t, err)
	resp, _ := b.postJSON(t, "/webhook/graph/lifecycle", string(body))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, [][]LifecycleEvent{{
		{TenantID: tenantA, SubscriptionID: subA, Event: directory.LifecycleReauthorizationRequired},
		{TenantID: tenantB, SubscriptionID: subB, Event: directory.LifecycleSubscriptionRemoved},
		{TenantID: tenantA, SubscriptionID: subA, Event: directory.LifecycleMissed},
	}}, b.enq.lifecycleCalls())
	require.InDelta(t, 3, b.accepted(endpointLifecycle), 0)
	require.InDelta(t, 1, b.rejected(endpointLifecycle, reasonUnknownLifecycleEvent), 0)
	require.InDelta(t, 1, b.rejected(endpointLifecycle, reasonClientStateMismatch), 0)
	require.InDelta(t, 1, b.rejected(endpointLifecycle, reasonTenantMismatch), 0)
	require.InDelta(t, 1, b.rejected(endpointLifecycle, reasonUnknownSubscription), 0)
	require.Zero(t, b.accepted(endpointNotifications))
}

func TestLifecycleFailures(t *testing.T) {
	t.Parallel()
	body := `{"value":[` + mustJSON(t, lifecycleItem(subA, tenantA, ptr(secretA), directory.LifecycleReauthorizationRequired)) + `]}`
	t.Run("enqueue error is 503", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.enq.setErr(errRedisDown)
		resp, data := b.postJSON(t, "/webhook/graph/lifecycle", body)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		requireErrorEnvelope(t, data, codeUnavailable)
		require.InDelta(t, 1, testutilValue(b.srv.metrics.enqueueFailures[endpointLifecycle]), 0)
		require.Zero(t, b.accepted(endpointLifecycle))
	})
	t.Run("lookup error is 503", func(t *testing.T) {
		t.Parallel()
		b := setup(t)
		b.lookup.setErr(errRedisDown)
		resp, _ := b.postJSON(t, "/webhook/graph/lifecycle", body)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
		require.Empty(t, b.enq.lifecycleCalls())
	})
	t.Run("bad input", func(t *testing.T) {
		t.Parallel()
		b := setup(t, func(c *Config) { c.MaxBodyBytes = 64 })
		resp, _ := b.postJSON(t, "/webhook/graph/lifecycle", `{"value":`)
		require.Equal(t, http.StatusBadRequest, resp.StatusCode)
		resp, _ = b.do(t, http.MethodPost, "/webhook/graph/lifecycle", "text/plain", strings.NewReader(body), nil)
		require.Equal(t, http.StatusUnsupportedMediaType, resp.StatusCode)
		resp, _ = b.postJSON(t, "/webhook/graph/lifecycle", body)
		require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
		require.Empty(t, b.enq.lifecycleCalls())
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}

// Graph lets lifecycleNotificationUrl equal notificationUrl, so the
// notifications route handles lifecycle items too.
func TestLifecycleOnNotificationsRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := fixture(t, "lifecycle-notification.json", map[string]string{
		"<subscription_guid>": subA, "<tenant_guid>": tenantA, "<secretClientState>": secretA,
	})
	resp, _ := b.postJSON(t, "/webhook/graph", body)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, [][]LifecycleEvent{{{TenantID: tenantA, SubscriptionID: subA, Event: directory.LifecycleReauthorizationRequired}}}, b.enq.lifecycleCalls())
	require.Empty(t, b.enq.userCalls())
	require.InDelta(t, 1, b.accepted(endpointNotifications), 0)

	// A forged one is still refused.
	resp, _ = b.postJSON(t, "/webhook/graph", `{"value":[`+mustJSON(t, lifecycleItem(subA, tenantA, ptr("forged"), directory.LifecycleMissed))+`]}`)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Len(t, b.enq.lifecycleCalls(), 1)
}

// A change notification posted to the lifecycle route is not a lifecycle
// event: it is dropped, never turned into a user job.
func TestChangeOnLifecycleRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, _ := b.postJSON(t, "/webhook/graph/lifecycle", collection(t, item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne)))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Empty(t, b.enq.userCalls())
	require.Empty(t, b.enq.lifecycleCalls())
	require.InDelta(t, 1, b.rejected(endpointLifecycle, reasonUnknownLifecycleEvent), 0)
}
