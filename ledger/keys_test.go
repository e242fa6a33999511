package ledger

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestEveryKeyCarriesTheHashTag touches every kind of ledger state and
// checks that each key it wrote is in the {ledger} slot (Cluster-safe
// scripts and transactions).
func TestEveryKeyCarriesTheHashTag(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	require.NoError(t, b.l.Append(b.ctx, Entry{Tenant: "A", UserID: "U", UPN: "u@x", ContactID: "1", Key: "k"}))
	require.NoError(t, b.l.SaveRun(b.ctx, Run{ID: "r", Tenant: "A", CreatedAt: b.clock.Now()}))
	_, err := b.l.OpenConflict(b.ctx, testConflict())
	require.NoError(t, err)
	batch, _, err := b.l.Hold(b.ctx, "A", "C1", heldSet())
	require.NoError(t, err)
	_, err = b.l.RejectHeld(b.ctx, batch.ID, []string{"1"}, "ops")
	require.NoError(t, err)
	_, _, err = b.l.RecordFailure(b.ctx, "A", "U", "u@x", "X", "", "", 1)
	require.NoError(t, err)
	_, _, err = b.l.RecordTenantFailure(b.ctx, "A", "PermissionDenied", "", 1)
	require.NoError(t, err)
	b.clock.Add(time.Second)

	ks, err := b.rdb.Keys(b.ctx, "*").Result()
	require.NoError(t, err)
	require.Len(t, ks, 18, "%v", ks)
	for _, k := range ks {
		require.True(t, strings.HasPrefix(k, b.l.keys.p), "key %s outside the ledger's prefix and hash tag", k)
	}
}
