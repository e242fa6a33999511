package ledger

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestUserQuarantine(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		fail := func() (Quarantine, bool) {
			q, on, err := b.l.RecordFailure(b.ctx, "A", "U1", "a@x", "InvalidFieldMapping", "bad", "fp1", 3)
			require.NoError(t, err)
			return q, on
		}
		_, on := fail()
		require.False(t, on)
		require.NoError(t, b.l.RecordSuccess(b.ctx, "A", "U1"))
		_, on = fail()
		require.False(t, on)
		q, on := fail()
		require.False(t, on, "a success in between resets the count")
		require.Equal(t, 2, q.Failures)
		_, ok, err := b.l.UserQuarantine(b.ctx, "A", "U1")
		require.NoError(t, err)
		require.False(t, ok, "a count below the threshold is not a quarantine")

		q, on = fail()
		require.True(t, on)
		require.Equal(t, 3, q.Failures)
		require.Equal(t, t0, q.Since)
		require.Equal(t, "fp1", q.Fingerprint)
		got, ok, err := b.l.UserQuarantine(b.ctx, "A", "u1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, "InvalidFieldMapping", got.Code)
		list, err := b.l.Quarantined(b.ctx, "")
		require.NoError(t, err)
		require.Len(t, list, 1)
		list, err = b.l.Quarantined(b.ctx, "B")
		require.NoError(t, err)
		require.Empty(t, list)

		ok, err = b.l.ReleaseUser(b.ctx, "A", "U1", "admin")
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = b.l.ReleaseUser(b.ctx, "A", "U1", "admin")
		require.NoError(t, err)
		require.False(t, ok, "releasing twice is a no-op")
		q, on = fail()
		require.False(t, on, "a released user starts counting again")
		require.Equal(t, 1, q.Failures)
	})
}

func TestTenantQuarantineBackoff(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		fail := func() (Quarantine, bool) {
			q, on, err := b.l.RecordTenantFailure(b.ctx, "A", "PermissionDenied", "consent revoked", 2)
			require.NoError(t, err)
			return q, on
		}
		_, on := fail()
		require.False(t, on)
		b.clock.Add(time.Minute)
		q, on := fail()
		require.True(t, on)
		require.Equal(t, t0.Add(time.Minute+TenantFirstRetry), q.NextRetry, "an hour after quarantine")
		b.clock.Add(time.Hour)
		q, on = fail()
		require.True(t, on)
		require.Equal(t, t0.Add(61*time.Minute+TenantLaterRetry), q.NextRetry, "a day after each later failure")
		require.Equal(t, t0.Add(time.Minute), q.Since)

		_, _, err := b.l.RecordFailure(b.ctx, "A", "U9", "z@x", "UserDataIncomplete", "", "", 1)
		require.NoError(t, err)
		list, err := b.l.Quarantined(b.ctx, "A")
		require.NoError(t, err)
		require.Len(t, list, 2)
		require.Empty(t, list[0].UserID, "the tenant comes first")
		require.Equal(t, "U9", list[1].UserID)

		got, ok, err := b.l.TenantQuarantine(b.ctx, "A")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, 3, got.Failures)
		ok, err = b.l.ReleaseTenant(b.ctx, "A", "admin")
		require.NoError(t, err)
		require.True(t, ok)
		_, ok, err = b.l.TenantQuarantine(b.ctx, "A")
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestQuarantineBadInput(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	_, _, err := b.l.RecordFailure(b.ctx, "A", "", "", "X", "", "", 3)
	require.ErrorContains(t, err, "user id")
	q, on, err := b.l.RecordFailure(b.ctx, "A", "U", "", "X", "", "", 0)
	require.NoError(t, err)
	require.False(t, on, "threshold 0 means the default 3")
	require.Equal(t, 1, q.Failures)
}

func TestConcurrentFailuresAreAllCounted(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		const n = 16
		errs := make(chan error, n)
		for range n {
			go func() {
				_, _, err := b.l.RecordFailure(b.ctx, "A", "U1", "a@x", "X", "", "", 100)
				errs <- err
			}()
		}
		for range n {
			require.NoError(t, <-errs)
		}
		q, _, err := b.l.RecordFailure(b.ctx, "A", "U1", "a@x", "X", "", "", 100)
		require.NoError(t, err)
		require.Equal(t, n+1, q.Failures, "optimistic transactions retry; no count is lost")
	})
}
