package subscription_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/subscription"
)

// countingHook counts the round trips a client makes (a pipeline is one).
type countingHook struct{ trips atomic.Int64 }

func (h *countingHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *countingHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.trips.Add(1)
		return next(ctx, cmd)
	}
}

func (h *countingHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.trips.Add(1)
		return next(ctx, cmds)
	}
}

const secret = "s3cr3t-client-state-value-that-must-never-leak"

func sampleRecord(tenant, id string) subscription.Record {
	at := time.Date(2025, 5, 1, 10, 0, 0, 0, time.UTC)
	return subscription.Record{
		ID: id, TenantID: tenant, ClientState: secret, Resource: "/users", ChangeType: "updated,deleted",
		NotificationURL: "https://psasync.example.com/webhook/graph", LifecycleURL: "https://psasync.example.com/webhook/graph/lifecycle",
		Expiry: at.Add(29 * 24 * time.Hour), CreatedAt: at, RenewedAt: at.Add(time.Hour), Health: subscription.HealthHealthy,
		NextAttemptAt: at.Add(26 * 24 * time.Hour),
	}
}

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := subscription.NewStore(r.rdb, r.prefix)

	_, ok, err := s.LookupSubscription(ctx, "nope")
	require.NoError(t, err)
	require.False(t, ok)
	_, ok, err = s.ByTenant(ctx, "contoso")
	require.NoError(t, err)
	require.False(t, ok)

	rec := sampleRecord("contoso", "sub-1")
	require.NoError(t, s.Save(ctx, rec))
	got, ok, err := s.LookupSubscription(ctx, "sub-1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, rec, got)
	got, ok, err = s.ByTenant(ctx, "contoso")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, rec, got)

	seen := time.Date(2025, 5, 2, 8, 30, 15, 123e6, time.UTC)
	require.NoError(t, s.TouchNotification(ctx, "sub-1", seen))
	got, _, err = s.LookupSubscription(ctx, "sub-1")
	require.NoError(t, err)
	require.True(t, seen.Equal(got.LastNotificationAt))
	got, _, err = s.ByTenant(ctx, "contoso")
	require.NoError(t, err)
	require.True(t, seen.Equal(got.LastNotificationAt))

	// Save never overwrites the notification time with a stale copy.
	stale := rec
	stale.LastNotificationAt = time.Time{}
	stale.Health = subscription.HealthPending
	require.NoError(t, s.Save(ctx, stale))
	got, _, err = s.ByTenant(ctx, "contoso")
	require.NoError(t, err)
	require.True(t, seen.Equal(got.LastNotificationAt))
	require.Equal(t, subscription.HealthPending, got.Health)

	// A new subscription id retires the old one's keys.
	next := sampleRecord("contoso", "sub-2")
	require.NoError(t, s.Save(ctx, next))
	_, ok, err = s.LookupSubscription(ctx, "sub-1")
	require.NoError(t, err)
	require.False(t, ok, "the replaced subscription is no longer accepted")
	got, ok, err = s.LookupSubscription(ctx, "sub-2")
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, got.LastNotificationAt.IsZero(), "a new subscription starts without notifications")

	// A tenant without a subscription still has a record (its health).
	require.NoError(t, s.Save(ctx, subscription.Record{TenantID: "fabrikam", Health: subscription.HealthUnhealthy, ErrorCode: "PermissionDenied"}))
	all, err := s.All(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "contoso", all[0].TenantID)
	require.Equal(t, "sub-2", all[0].ID)
	require.Equal(t, "fabrikam", all[1].TenantID)
	require.Empty(t, all[1].ID)

	require.NoError(t, s.Delete(ctx, "contoso"))
	require.NoError(t, s.Delete(ctx, "never-existed"))
	_, ok, err = s.LookupSubscription(ctx, "sub-2")
	require.NoError(t, err)
	require.False(t, ok)
	all, err = s.All(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Error(t, s.Save(ctx, subscription.Record{ID: "x"}), "a record needs its tenant")
	require.Error(t, s.TouchNotification(ctx, "", seen))
}

func TestStoreHotPathIsOneRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	h := &countingHook{}
	r.rdb.AddHook(h)
	s := subscription.NewStore(r.rdb, r.prefix)
	require.NoError(t, s.Save(ctx, sampleRecord("contoso", "sub-1")))

	for _, tc := range []struct {
		name string
		call func() error
	}{
		{"lookup of a known id", func() error { _, _, err := s.LookupSubscription(ctx, "sub-1"); return err }},
		{"lookup of an unknown id", func() error { _, _, err := s.LookupSubscription(ctx, "sub-9"); return err }},
		{"touch", func() error { return s.TouchNotification(ctx, "sub-1", time.Now()) }},
	} {
		before := h.trips.Load()
		require.NoError(t, tc.call(), tc.name)
		require.EqualValues(t, 1, h.trips.Load()-before, tc.name)
	}
}

func TestStoreFailsWhenRedisIsDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	t.Cleanup(func() { _ = rdb.Close() })
	s := subscription.NewStore(rdb, "")
	_, _, err := s.LookupSubscription(ctx, "sub-1")
	require.ErrorContains(t, err, "look up subscription sub-1")
	require.Error(t, s.TouchNotification(ctx, "sub-1", time.Now()))
	_, err = s.All(ctx)
	require.Error(t, err)
	require.Error(t, s.Save(ctx, sampleRecord("contoso", "sub-1")))
}

func TestClientStateNeverLeaks(t *testing.T) {
	t.Parallel()
	rec := sampleRecord("contoso", "sub-1")
	rec.LastError = "boom"
	st := rec.Status()
	b1, err := json.Marshal(rec)
	require.NoError(t, err)
	b2, err := json.Marshal(st)
	require.NoError(t, err)
	b3, err := json.Marshal([]subscription.Status{st})
	require.NoError(t, err)
	logger, logs := test.NewNullLogger()
	logger.WithField("record", rec).WithField("status", st).Info("x")
	logger.WithFields(logrus.Fields{"r": &rec}).Info("y")
	for name, s := range map[string]string{
		"String": rec.String(), "%v": fmt.Sprintf("%v", rec), "%+v": fmt.Sprintf("%+v", rec), "%#v": fmt.Sprintf("%#v", rec),
		"%s pointer": fmt.Sprintf("%s", &rec), "json": string(b1), "status json": string(b2), "listing json": string(b3),
		"status %+v": fmt.Sprintf("%+v", st), "log": fmt.Sprint(logs.AllEntries()[0].Data) + fmt.Sprint(logs.AllEntries()[1].Data),
	} {
		require.NotContains(t, s, secret, name)
	}
	require.Contains(t, rec.String(), "sub-1")
	require.Contains(t, string(b2), `"subscription_id":"sub-1"`)
}
