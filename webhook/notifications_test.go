package webhook

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// item builds one change notification as Graph sends it; clientState nil
// gives a JSON null.
func item(sub, tenant string, clientState *string, changeType, resource string) map[string]any {
	m := map[string]any{
		"subscriptionId":                 sub,
		"tenantId":                       tenant,
		"changeType":                     changeType,
		"resource":                       resource,
		"subscriptionExpirationDateTime": "2026-05-24T23:21:19.3554403+00:00",
		"resourceData": map[string]any{
			"@odata.type": "#Microsoft.Graph.User",
			"@odata.id":   resource,
			"id":          strings.TrimPrefix(strings.TrimPrefix(resource, "Users/"), "users/"),
		},
	}
	if clientState == nil {
		m["clientState"] = nil
	} else {
		m["clientState"] = *clientState
	}
	return m
}

func collection(t *testing.T, items ...map[string]any) string {
	t.Helper()
	data, err := json.Marshal(map[string]any{"value": items})
	require.NoError(t, err)
	return string(data)
}

func ptr(s string) *string { return &s }

func TestHandshake(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rawQuery string
		want     string
	}{
		{"plain", "validationToken=abc123", "abc123"},
		{"graph style with spaces", "validationToken=" + url.QueryEscape("Validation: Testing client application reachability for subscription Request-Id: 0e2b0f0a-1"),
			"Validation: Testing client application reachability for subscription Request-Id: 0e2b0f0a-1"},
		{"percent-encoded spaces", "validationToken=a%20b%2Bc", "a b+c"},
		{"script tag stays text", "validationToken=" + url.QueryEscape(`<script>alert("x")</script>`), `<script>alert("x")</script>`},
		{"html entity and unicode", "validationToken=" + url.QueryEscape("&lt;é✓"), "&lt;é✓"},
	}
	for _, tt := range tests {
		for _, path := range []string{"/webhook/graph", "/webhook/graph/lifecycle"} {
			t.Run(tt.name+" "+path, func(t *testing.T) {
				t.Parallel()
				b := setup(t)
				// Graph sends the handshake as text/plain with an empty body;
				// the body is not read, so anything goes.
				resp, body := b.do(t, http.MethodPost, path+"?"+tt.rawQuery, "text/plain; charset=utf-8", strings.NewReader("ignored"), nil)
				require.Equal(t, http.StatusOK, resp.StatusCode)
				require.Equal(t, tt.want, string(body))
				require.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
				require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
				require.Contains(t, resp.Header.Get("Content-Security-Policy"), "sandbox")
				require.Empty(t, b.enq.userCalls())
				require.Zero(t, b.lookup.callCount())
			})
		}
	}
}

func TestHandshakeBadToken(t *testing.T) {
	t.Parallel()
	for _, q := range []string{"validationToken=", "validationToken=a&validationToken=b", "validationToken=" + strings.Repeat("x", maxValidationTokenLength+1), "validationToken=%zz"} {
		t.Run(q[:min(len(q), 40)], func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			resp, body := b.do(t, http.MethodPost, "/webhook/graph?"+q, "", nil, nil)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			requireErrorEnvelope(t, body, codeInvalidRequest)
		})
	}
}

func TestHandshakeMetric(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.do(t, http.MethodPost, "/webhook/graph?validationToken=x", "", nil, nil)
	b.do(t, http.MethodPost, "/webhook/graph/lifecycle?validationToken=y", "", nil, nil)
	b.do(t, http.MethodPost, "/webhook/graph/lifecycle?validationToken=z", "", nil, nil)
	require.InDelta(t, 1, testutilValue(b.srv.metrics.handshakes[endpointNotifications]), 0)
	require.InDelta(t, 2, testutilValue(b.srv.metrics.handshakes[endpointLifecycle]), 0)
}

func TestNotificationFixtures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		file  string
		fill  map[string]string
		sub   string
		want  UserChange
		setup func(b *testBundle)
	}{
		{
			name: "deleted, capital U, string sequenceNumber",
			file: "user-notification-deleted.json",
			fill: map[string]string{
				"<guid>": secretA, "<user-id>": userOne, "<tenant-id>": tenantA,
				"<sequence-number>": "42", "<microsoft-graph-subscription-id>": subA,
			},
			want: UserChange{TenantID: tenantA, UserID: userOne, ChangeType: ChangeDeleted, SubscriptionID: subA},
		},
		{
			name: "soft delete as updated, null clientState, numeric sequenceNumber",
			file: "user-notification-soft-delete-updated.json",
			fill: map[string]string{"{user-id}": userTwo, "{tenant-id}": tenantB, "{subscription-id}": subB},
			want: UserChange{TenantID: tenantB, UserID: userTwo, ChangeType: ChangeUpdated, SubscriptionID: subB},
		},
		{
			name: "tenant id in upper case still matches",
			file: "user-notification-soft-delete-updated.json",
			fill: map[string]string{"{user-id}": userTwo, "{tenant-id}": strings.ToUpper(tenantB), "{subscription-id}": subB},
			want: UserChange{TenantID: tenantB, UserID: userTwo, ChangeType: ChangeUpdated, SubscriptionID: subB},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			resp, body := b.do(t, http.MethodPost, "/webhook/graph", "application/json; charset=utf-8",
				strings.NewReader(fixture(t, tt.file, tt.fill)), nil)
			require.Equal(t, http.StatusAccepted, resp.StatusCode, "body: %s", body)
			require.Empty(t, body, "202 carries no body")
			require.Equal(t, [][]UserChange{{tt.want}}, b.enq.userCalls())
			require.InDelta(t, 1, b.accepted(endpointNotifications), 0)
		})
	}
}

func TestNotificationRejections(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		item   map[string]any
		reason rejectReason
	}{
		{"forged clientState", item(subA, tenantA, ptr("guessed-secret"), "updated", "Users/"+userOne), reasonClientStateMismatch},
		{"clientState differing in case", item(subA, tenantA, ptr(strings.ToUpper(secretA)), "updated", "Users/"+userOne), reasonClientStateMismatch},
		{"clientState prefix", item(subA, tenantA, ptr(secretA[:10]), "updated", "Users/"+userOne), reasonClientStateMismatch},
		{"null clientState where one is stored", item(subA, tenantA, nil, "updated", "Users/"+userOne), reasonClientStateMismatch},
		{"clientState sent where none is stored", item(subB, tenantB, ptr("anything"), "updated", "Users/"+userOne), reasonClientStateMismatch},
		{"unknown subscription", item("33333333-cccc-4ccc-8ccc-333333333333", tenantA, ptr(secretA), "updated", "Users/"+userOne), reasonUnknownSubscription},
		{"empty subscription id", item("", tenantA, ptr(secretA), "updated", "Users/"+userOne), reasonMalformed},
		{"wrong tenant", item(subA, tenantB, ptr(secretA), "updated", "Users/"+userOne), reasonTenantMismatch},
		{"missing tenant", item(subA, "", ptr(secretA), "updated", "Users/"+userOne), reasonTenantMismatch},
		{"created is not a user change type", item(subA, tenantA, ptr(secretA), "created", "Users/"+userOne), reasonUnsupportedChangeType},
		{"empty change type", item(subA, tenantA, ptr(secretA), "", "Users/"+userOne), reasonUnsupportedChangeType},
		{"groups resource", item(subA, tenantA, ptr(secretA), "updated", "Groups/"+userOne), reasonUnsupportedResource},
		{"nested user path", item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne+"/manager"), reasonUnsupportedResource},
		{"path traversal", item(subA, tenantA, ptr(secretA), "updated", "users/../groups"), reasonUnsupportedResource},
		{"query in id", item(subA, tenantA, ptr(secretA), "updated", "users/x?$select=y"), reasonUnsupportedResource},
		{"empty user id", item(subA, tenantA, ptr(secretA), "updated", "Users/"), reasonUnsupportedResource},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			resp, body := b.postJSON(t, "/webhook/graph", collection(t, tt.item))
			require.Equal(t, http.StatusAccepted, resp.StatusCode, "rejected items still get 202, body: %s", body)
			require.Empty(t, body, "the answer must not tell a forger which check failed")
			require.Empty(t, b.enq.userCalls(), "a rejected item is never enqueued")
			require.InDelta(t, 1, b.rejected(endpointNotifications, tt.reason), 0)
			require.Zero(t, b.accepted(endpointNotifications))
		})
	}
}

func TestNotificationResourceForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		resource string
		dataID   any
		wantID   string
		ok       bool
	}{
		{"capital Users", "Users/" + userOne, userOne, userOne, true},
		{"lower users", "users/" + userOne, userOne, userOne, true},
		{"no resourceData id", "users/" + userOne, nil, userOne, true},
		{"only resourceData id", "", userOne, userOne, true},
		{"ids differ", "Users/" + userOne, userTwo, "", false},
		{"ids differ only in case", "Users/" + userOne, strings.ToUpper(userOne), userOne, true},
		{"neither", "", nil, "", false},
		{"bad resourceData id", "", "x/../y", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			it := item(subA, tenantA, ptr(secretA), "updated", tt.resource)
			if tt.dataID == nil {
				delete(it["resourceData"].(map[string]any), "id")
			} else {
				it["resourceData"].(map[string]any)["id"] = tt.dataID
			}
			if tt.resource == "" {
				delete(it, "resource")
			}
			resp, _ := b.postJSON(t, "/webhook/graph", collection(t, it))
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
			calls := b.enq.userCalls()
			if !tt.ok {
				require.Empty(t, calls)
				require.InDelta(t, 1, b.rejected(endpointNotifications, reasonUnsupportedResource), 0)
				return
			}
			require.Len(t, calls, 1)
			require.Equal(t, tt.wantID, calls[0][0].UserID)
		})
	}
}

func TestNotificationMixedBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	body := collection(t,
		item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne),
		item(subA, tenantA, ptr("forged"), "updated", "Users/"+userTwo),
		item(subB, tenantB, nil, "deleted", "users/"+userTwo),
		item("unknown-sub", tenantA, ptr(secretA), "updated", "Users/"+userOne),
		item(subB, tenantA, nil, "updated", "Users/"+userOne),
		item(subA, tenantA, ptr(secretA), "deleted", "Users/"+userTwo),
	)
	// A malformed element and a null element ride along; they are dropped
	// without failing the batch.
	body = strings.Replace(body, `{"value":[`, `{"value":[null,{"subscriptionId":42},"text",`, 1)

	resp, _ := b.postJSON(t, "/webhook/graph", body)
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, [][]UserChange{{
		{TenantID: tenantA, UserID: userOne, ChangeType: ChangeUpdated, SubscriptionID: subA},
		{TenantID: tenantB, UserID: userTwo, ChangeType: ChangeDeleted, SubscriptionID: subB},
		{TenantID: tenantA, UserID: userTwo, ChangeType: ChangeDeleted, SubscriptionID: subA},
	}}, b.enq.userCalls(), "accepted items go to the Enqueuer in order, in one call")
	require.InDelta(t, 3, b.accepted(endpointNotifications), 0)
	require.InDelta(t, 3, b.rejected(endpointNotifications, reasonMalformed), 0)
	require.InDelta(t, 1, b.rejected(endpointNotifications, reasonClientStateMismatch), 0)
	require.InDelta(t, 1, b.rejected(endpointNotifications, reasonUnknownSubscription), 0)
	require.InDelta(t, 1, b.rejected(endpointNotifications, reasonTenantMismatch), 0)
	require.Equal(t, 3, b.lookup.callCount(), "one lookup per distinct subscription")
}

func TestNotificationOneLookupPerSubscription(t *testing.T) {
	t.Parallel()
	b := setup(t)
	items := make([]map[string]any, 50)
	for i := range items {
		items[i] = item(subA, tenantA, ptr(secretA), "updated", fmt.Sprintf("Users/user-%02d", i))
	}
	resp, _ := b.postJSON(t, "/webhook/graph", collection(t, items...))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, 1, b.lookup.callCount())
	require.Len(t, b.enq.userCalls()[0], 50)
}

func TestNotificationSubscriptionCap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	items := make([]map[string]any, 0, maxSubscriptionsPerRequest+2)
	for i := range maxSubscriptionsPerRequest {
		items = append(items, item(fmt.Sprintf("sub-%03d", i), tenantA, ptr(secretA), "updated", "Users/"+userOne))
	}
	// Past the cap even a genuine item is not looked up.
	items = append(items,
		item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne),
		item(subA, tenantA, ptr(secretA), "updated", "Users/"+userTwo))
	resp, _ := b.postJSON(t, "/webhook/graph", collection(t, items...))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, maxSubscriptionsPerRequest, b.lookup.callCount())
	require.Empty(t, b.enq.userCalls())
	require.InDelta(t, maxSubscriptionsPerRequest, b.rejected(endpointNotifications, reasonUnknownSubscription), 0)
	require.InDelta(t, 2, b.rejected(endpointNotifications, reasonTooManySubscriptions), 0)
}

func TestNotificationAllRejectedOrEmpty(t *testing.T) {
	t.Parallel()
	for _, body := range []string{`{"value":[]}`, collection(t, item(subA, tenantA, ptr("nope"), "updated", "Users/"+userOne))} {
		t.Run(body[:min(len(body), 30)], func(t *testing.T) {
			t.Parallel()
			b := setup(t)
			b.enq.setErr(errRedisDown) // proves the Enqueuer is not even called
			resp, _ := b.postJSON(t, "/webhook/graph", body)
			require.Equal(t, http.StatusAccepted, resp.StatusCode)
		})
	}
}

func TestNotificationEnqueueFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.enq.setErr(errRedisDown)
	resp, body := b.postJSON(t, "/webhook/graph", collection(t,
		item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne),
		item(subA, tenantA, ptr("forged"), "updated", "Users/"+userOne)))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	env := requireErrorEnvelope(t, body, codeUnavailable)
	require.NotContains(t, env.Message, "10.0.0.7", "the cause stays in the logs")
	require.InDelta(t, 1, testutilValue(b.srv.metrics.enqueueFailures[endpointNotifications]), 0)
	require.Zero(t, b.accepted(endpointNotifications), "nothing counts until Graph gets its 202")
	require.Zero(t, b.rejected(endpointNotifications, reasonClientStateMismatch), "a redelivery must not double-count")

	// Redis is back: Graph's redelivery succeeds.
	b.enq.setErr(nil)
	resp, _ = b.postJSON(t, "/webhook/graph", collection(t, item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne)))
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Len(t, b.enq.userCalls(), 1)
}

func TestNotificationLookupFailure(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.lookup.setErr(errRedisDown)
	resp, body := b.postJSON(t, "/webhook/graph", collection(t, item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne)))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	requireErrorEnvelope(t, body, codeUnavailable)
	require.Empty(t, b.enq.userCalls())
	require.InDelta(t, 1, testutilValue(b.srv.metrics.lookupFailures[endpointNotifications]), 0)
}

func TestNotificationLookupErrorWrappingBadRequestIsStill503(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.lookup.setErr(fmt.Errorf("odd store error: %w", ErrBadRequest))
	resp, _ := b.postJSON(t, "/webhook/graph", collection(t, item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne)))
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
}

func TestNotificationBadInput(t *testing.T) {
	t.Parallel()
	good := collection(t, item(subA, tenantA, ptr(secretA), "updated", "Users/"+userOne))
	tests := []struct {
		name        string
		contentType string
		body        io.Reader
		status      int
		code        string
	}{
		{"not JSON", "application/json", strings.NewReader(`{"value":[`), http.StatusBadRequest, codeInvalidRequest},
		{"garbage", "application/json", strings.NewReader(`<xml/>`), http.StatusBadRequest, codeInvalidRequest},
		{"empty body", "application/json", strings.NewReader(``), http.StatusBadRequest, codeInvalidRequest},
		{"top-level array", "application/json", strings.NewReader(`[` + good + `]`), http.StatusBadRequest, codeInvalidRequest},
		{"no value", "application/json", strings.NewReader(`{"values":[]}`), http.StatusBadRequest, codeInvalidRequest},
		{"null value", "application/json", strings.NewReader(`{"value":null}`), http.StatusBadRequest, codeInvalidRequest},
		{"object value", "application/json", strings.NewReader(`{"value":{}}`), http.StatusBadRequest, codeInvalidRequest},
		{"string value", "application/json", strings.NewReader(`{"value":"x"}`), http.StatusBadRequest, codeInvalidRequest},
		{"trailing garbage", "application/json", strings.NewReader(good + `x`), http.StatusBadRequest, codeInvalidRequest},
		{"no content type", "", strings.NewReader(good), http.StatusUnsupportedMediaType, codeUnsupportedMedia},
		{"text/plain", "text/plain", strings.NewReader(good), http.StatusUnsupportedMediaType, codeUnsupportedMedia},
		{"form", "application/x-www-form-urlencoded", strings.NewReader(good), http.StatusUnsupportedMediaType, codeUnsupportedMedia},
		{"latin-1 charset", "application/json; charset=iso-8859-1", strings.NewReader(good), http.StatusUnsupportedMediaType, codeUnsupportedMedia},
		{"too large with length", "application/json", strings.NewReader(padded(good, 4096)), http.StatusRequestEntityTooLarge, codeTooLarge},
		{"too large chunked", "application/json", io.MultiReader(strings.NewReader(padded(good, 4096))), http.StatusRequestEntityTooLarge, codeTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, func(c *Config) { c.MaxBodyBytes = 2048 })
			resp, body := b.do(t, http.MethodPost, "/webhook/graph", tt.contentType, tt.body, nil)
			require.Equal(t, tt.status, resp.StatusCode, "body: %s", body)
			requireErrorEnvelope(t, body, tt.code)
			require.Equal(t, "application/json; charset=utf-8", resp.Header.Get("Content-Type"))
			require.Empty(t, b.enq.userCalls())
			require.Zero(t, b.lookup.callCount())
		})
	}
}

func TestNotificationMethodNotAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	resp, body := b.do(t, http.MethodGet, "/webhook/graph?validationToken=x", "", nil, nil)
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	requireErrorEnvelope(t, body, codeMethodNotAllowed)
}

// padded makes body at least n bytes long with insignificant whitespace.
func padded(body string, n int) string {
	if len(body) >= n {
		return body
	}
	return body + strings.Repeat(" ", n-len(body))
}

func TestUserIDFromResource(t *testing.T) {
	t.Parallel()
	tests := []struct {
		resource, dataID, want string
		ok                     bool
	}{
		{"Users/abc", "", "abc", true},
		{"users/abc", "abc", "abc", true},
		{"USERS/abc", "", "abc", true},
		{"", "abc", "abc", true},
		{"Users/a b", "", "", false},
		{"Users/", "abc", "", false},
		{"Users", "abc", "", false},
		{"/users/abc", "", "", false},
		{"Users/abc", "abd", "", false},
		{"Users/" + strings.Repeat("a", maxIDLength+1), "", "", false},
		{"Users/ab%2Fc", "", "", false},
		{"Users/jane.doe@contoso.com", "", "jane.doe@contoso.com", true},
	}
	for _, tt := range tests {
		t.Run(tt.resource+"|"+tt.dataID, func(t *testing.T) {
			t.Parallel()
			got, ok := userIDFromResource(tt.resource, tt.dataID)
			require.Equal(t, tt.ok, ok)
			if tt.ok {
				require.Equal(t, tt.want, got)
			}
		})
	}
}

func TestClientStateMatches(t *testing.T) {
	t.Parallel()
	require.True(t, clientStateMatches(nil, ""))
	require.True(t, clientStateMatches(ptr(""), ""))
	require.True(t, clientStateMatches(ptr("abc"), "abc"))
	require.False(t, clientStateMatches(nil, "abc"))
	require.False(t, clientStateMatches(ptr(""), "abc"))
	require.False(t, clientStateMatches(ptr("abd"), "abc"))
	require.False(t, clientStateMatches(ptr("abcd"), "abc"))
	require.False(t, clientStateMatches(ptr("x"), ""))
}

func TestParseNotificationsItemTypes(t *testing.T) {
	t.Parallel()
	items, err := parseNotifications([]byte(`{"value":[null,1,"s",[],{"clientState":5},{"resourceData":"x"},{"subscriptionId":"a","clientState":null,"resourceData":{"id":"u","sequenceNumber":"7"}},{"subscriptionId":"b","resourceData":{"sequenceNumber":7}}]}`))
	require.NoError(t, err)
	require.Len(t, items, 8)
	for i := range 6 {
		require.True(t, items[i].Malformed, "item %d", i)
	}
	require.False(t, items[6].Malformed)
	require.Nil(t, items[6].ClientState)
	require.Equal(t, "u", items[6].ResourceDataID)
	require.False(t, items[7].Malformed)
}
