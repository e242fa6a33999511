package ledger

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestLastRuns: each tenant's newest run, whatever the order runs were
// saved in; tenants without a run are absent.
func TestLastRuns(t *testing.T) {
	t.Parallel()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		require.NoError(t, b.l.SaveRun(b.ctx, testRun("a2", "A", "full", "running", at(2))))
		require.NoError(t, b.l.SaveRun(b.ctx, testRun("a1", "A", "full", "succeeded", at(1))))
		require.NoError(t, b.l.SaveRun(b.ctx, testRun("b1", "B", "incremental", "failed", at(0))))
		last, err := b.l.LastRuns(b.ctx, []string{"A", "B", "C"})
		require.NoError(t, err)
		require.Len(t, last, 2, "C has no run")
		require.Equal(t, []string{"a2"}, runIDs(t, []json.RawMessage{last["A"]}))
		require.Equal(t, []string{"b1"}, runIDs(t, []json.RawMessage{last["B"]}))
		none, err := b.l.LastRuns(b.ctx, nil)
		require.NoError(t, err)
		require.Empty(t, none)
	})
}
