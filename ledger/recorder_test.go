package ledger

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRecorder(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		r := b.l.NewRecorder(b.ctx, 7, time.Hour)
		for i := range 30 {
			r.Add(Entry{Tenant: "A", ContactID: "c1", PSAError: fmt.Sprint(i), Key: fmt.Sprint("k", i%25)})
		}
		require.NoError(t, r.Close())
		p, err := b.l.Changes(b.ctx, Query{ContactID: "c1", Limit: 100})
		require.NoError(t, err)
		require.Len(t, p.Entries, 25, "every entry once, in order, duplicates dropped")
		require.Equal(t, "24", p.Entries[0].PSAError)
		require.Equal(t, "0", p.Entries[24].PSAError)
	})
}

func TestRecorderReportsFailures(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	ctx, cancel := context.WithCancel(b.ctx)
	cancel() // every append fails
	r := b.l.NewRecorder(ctx, 2, time.Hour)
	for range 5 {
		r.Add(Entry{Tenant: "A"})
	}
	err := r.Close()
	require.ErrorContains(t, err, "5 entries not appended")
	require.ErrorIs(t, err, context.Canceled)
}
