package graph_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
)

// webhook answers Graph's validation handshake and keeps notifications, as
// psasync's webhook does.
type webhook struct {
	srv         *httptest.Server
	mu          sync.Mutex
	handshakes  int
	collections map[string][]json.RawMessage // by path
	refuse      bool
}

func newWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{collections: map[string][]json.RawMessage{}}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		defer w.mu.Unlock()
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.handshakes++
			if w.refuse {
				rw.WriteHeader(http.StatusInternalServerError)
				return
			}
			rw.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(rw, tok)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.collections[r.URL.Path] = append(w.collections[r.URL.Path], body)
		rw.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

type notification struct {
	SubscriptionID string `json:"subscriptionId"`
	ChangeType     string `json:"changeType"`
	ClientState    string `json:"clientState"`
	Resource       string `json:"resource"`
	TenantID       string `json:"tenantId"`
	ResourceData   struct {
		ID string `json:"id"`
	} `json:"resourceData"`
}

func (w *webhook) notifications(t *testing.T, path string) []notification {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []notification
	for _, c := range w.collections[path] {
		var coll struct {
			Value []notification `json:"value"`
		}
		require.NoError(t, json.Unmarshal(c, &coll))
		out = append(out, coll.Value...)
	}
	return out
}

func TestSubscriptionLifecycle(t *testing.T) {
	t.Parallel()
	clock := &simClock{now: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)}
	b := setup(t, 5, []graphsim.Option{graphsim.WithClock(clock.Now)})
	ctx := context.Background()
	hook := newWebhook(t)
	want := directory.Subscription{
		Resource:                 "/users",
		ChangeType:               "updated,deleted",
		NotificationURL:          hook.srv.URL + "/graph/notifications",
		LifecycleNotificationURL: hook.srv.URL + "/graph/lifecycle",
		ClientState:              "a-random-client-state",
		ExpirationDateTime:       clock.Now().Add(graphsim.MaxUserSubscriptionMinutes * time.Minute),
	}

	sub, err := b.client.CreateSubscription(ctx, want)
	require.NoError(t, err)
	require.NotEmpty(t, sub.ID)
	require.Equal(t, 2, hook.handshakes, "notification and lifecycle URLs were validated")
	require.Equal(t, want.Resource, sub.Resource)
	require.Equal(t, want.ChangeType, sub.ChangeType)
	require.Equal(t, want.NotificationURL, sub.NotificationURL)
	require.Equal(t, want.LifecycleNotificationURL, sub.LifecycleNotificationURL)
	require.Equal(t, want.ClientState, sub.ClientState)
	require.True(t, want.ExpirationDateTime.Equal(sub.ExpirationDateTime))
	require.NotContains(t, sub.String(), want.ClientState, "String hides the clientState")

	_, err = b.client.CreateSubscription(ctx, want)
	require.ErrorIs(t, err, directory.ErrConflict)

	list, err := b.client.ListSubscriptions(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, sub.ID, list[0].ID)

	clock.Advance(20 * 24 * time.Hour)
	renewTo := clock.Now().Add(graphsim.MaxUserSubscriptionMinutes * time.Minute)
	renewed, err := b.client.RenewSubscription(ctx, sub.ID, renewTo)
	require.NoError(t, err)
	require.True(t, renewTo.Equal(renewed.ExpirationDateTime))
	got, err := b.client.GetSubscription(ctx, sub.ID)
	require.NoError(t, err)
	require.True(t, renewTo.Equal(got.ExpirationDateTime))
	_, err = b.client.RenewSubscription(ctx, sub.ID, clock.Now().Add(40*24*time.Hour))
	require.ErrorIs(t, err, graph.ErrRequest, "past the users maximum")

	require.NoError(t, b.sim.SendLifecycle(ctx, sub.ID, "reauthorizationRequired"))
	life := hook.notifications(t, "/graph/lifecycle")
	require.Len(t, life, 1)
	require.Equal(t, sub.ID, life[0].SubscriptionID)
	require.Equal(t, want.ClientState, life[0].ClientState)
	require.NoError(t, b.client.ReauthorizeSubscription(ctx, sub.ID))
	require.False(t, b.sim.Subscriptions(b.tenant)[0].ReauthorizationRequired)

	// Changes reach the webhook with the subscription's clientState.
	user := b.sim.Users(b.tenant)[0]
	_, err = b.sim.UpdateUser(b.tenant, user.ID, map[string]any{"jobTitle": "Notified"})
	require.NoError(t, err)
	waitCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, b.sim.WaitDeliveries(waitCtx))
	notes := hook.notifications(t, "/graph/notifications")
	require.Len(t, notes, 1)
	require.Equal(t, notification{
		SubscriptionID: sub.ID, ChangeType: "updated", ClientState: want.ClientState,
		Resource: "Users/" + user.ID, TenantID: b.tenant,
		ResourceData: struct {
			ID string `json:"id"`
		}{ID: user.ID},
	}, notes[0])

	require.NoError(t, b.client.DeleteSubscription(ctx, sub.ID))
	_, err = b.client.RenewSubscription(ctx, sub.ID, renewTo)
	require.ErrorIs(t, err, directory.ErrNotFound)
	require.ErrorIs(t, b.client.DeleteSubscription(ctx, sub.ID), directory.ErrNotFound)
	require.ErrorIs(t, b.client.ReauthorizeSubscription(ctx, sub.ID), directory.ErrNotFound)
	_, err = b.client.GetSubscription(ctx, sub.ID)
	require.ErrorIs(t, err, directory.ErrNotFound)
	list, err = b.client.ListSubscriptions(ctx)
	require.NoError(t, err)
	require.Empty(t, list)
}

func TestSubscriptionDeletedBehindOurBackIsNotFound(t *testing.T) {
	t.Parallel()
	b := setup(t, 2, nil)
	ctx := context.Background()
	hook := newWebhook(t)
	sub, err := b.client.CreateSubscription(ctx, directory.Subscription{
		Resource: "/users", ChangeType: "updated,deleted", NotificationURL: hook.srv.URL,
		ExpirationDateTime: time.Now().Add(time.Hour),
	})
	require.NoError(t, err)
	require.NoError(t, b.sim.DeleteSubscription(sub.ID))
	_, err = b.client.RenewSubscription(ctx, sub.ID, time.Now().Add(2*time.Hour))
	require.ErrorIs(t, err, directory.ErrNotFound)
}

func TestFailedHandshakeRefusesTheSubscription(t *testing.T) {
	t.Parallel()
	b := setup(t, 2, nil)
	hook := newWebhook(t)
	hook.refuse = true
	_, err := b.client.CreateSubscription(context.Background(), directory.Subscription{
		Resource: "/users", ChangeType: "updated,deleted", NotificationURL: hook.srv.URL,
		ExpirationDateTime: time.Now().Add(time.Hour),
	})
	require.ErrorIs(t, err, graph.ErrRequest)
	require.Contains(t, err.Error(), "validation")
	require.Empty(t, b.sim.Subscriptions(""))
}

func TestSubscriptionsNeedConsent(t *testing.T) {
	t.Parallel()
	b := setup(t, 2, nil)
	require.NoError(t, b.sim.RevokeConsent(b.tenant))
	_, err := b.client.ListSubscriptions(context.Background())
	require.ErrorIs(t, err, directory.ErrPermissionDenied)
}
