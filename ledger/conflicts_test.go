package ledger

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testConflict() Conflict {
	return Conflict{Tenant: "A", UserID: "U1", UPN: "alice@a.com", Email: "alice@a.com", CompanyID: "C1",
		Code: "DuplicateContact", Message: "2 contacts have alice@a.com",
		Candidates: []Candidate{{ContactID: "11", FirstName: "Alice"}, {ContactID: "12", FirstName: "Alicia"}}}
}

func TestConflictFlow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		c, err := b.l.OpenConflict(b.ctx, testConflict())
		require.NoError(t, err)
		require.Equal(t, ConflictOpen, c.Status)
		require.Equal(t, t0, c.FirstSeen)

		b.clock.Add(time.Hour)
		again := testConflict()
		again.Candidates = append(again.Candidates, Candidate{ContactID: "13"})
		c, err = b.l.OpenConflict(b.ctx, again)
		require.NoError(t, err)
		require.Equal(t, t0, c.FirstSeen, "first seen stays")
		require.Equal(t, t0.Add(time.Hour), c.LastSeen)
		require.Len(t, c.Candidates, 3, "candidates refreshed")

		list, err := b.l.Conflicts(b.ctx, "", "")
		require.NoError(t, err)
		require.Len(t, list, 1)
		list, err = b.l.Conflicts(b.ctx, "B", "")
		require.NoError(t, err)
		require.Empty(t, list)

		_, err = b.l.ResolveConflict(b.ctx, "A", "U1", "99", "admin")
		require.ErrorIs(t, err, ErrNotCandidate)
		_, err = b.l.ResolveConflict(b.ctx, "A", "nobody", "11", "admin")
		require.ErrorIs(t, err, ErrNotFound)

		c, err = b.l.ResolveConflict(b.ctx, "A", "ALICE@a.com", "12", "admin") // by UPN
		require.NoError(t, err)
		require.Equal(t, ConflictResolved, c.Status)
		require.Equal(t, "12", c.ResolvedContactID)
		require.Equal(t, "admin", c.Actor)
		c, err = b.l.ResolveConflict(b.ctx, "A", "U1", "12", "admin")
		require.NoError(t, err, "resolving again the same way is idempotent")
		require.Equal(t, ConflictResolved, c.Status)
		_, err = b.l.ResolveConflict(b.ctx, "A", "U1", "11", "admin")
		require.ErrorIs(t, err, ErrNotOpen)
		_, err = b.l.IgnoreConflict(b.ctx, "A", "U1", "admin")
		require.ErrorIs(t, err, ErrNotOpen)

		c, err = b.l.OpenConflict(b.ctx, testConflict())
		require.NoError(t, err)
		require.Equal(t, ConflictResolved, c.Status, "the engine gets the decision back")
		require.Equal(t, "12", c.ResolvedContactID)
		list, err = b.l.Conflicts(b.ctx, "A", "")
		require.NoError(t, err)
		require.Empty(t, list, "a resolved conflict is not listed as open")
		list, err = b.l.Conflicts(b.ctx, "A", ConflictResolved)
		require.NoError(t, err)
		require.Len(t, list, 1)
		ok, err := b.l.CloseConflict(b.ctx, "A", "U1")
		require.NoError(t, err)
		require.False(t, ok, "a resolved conflict does not close")
	})
}

func TestConflictIgnoreAndClose(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		_, err := b.l.OpenConflict(b.ctx, testConflict())
		require.NoError(t, err)
		ok, err := b.l.CloseConflict(b.ctx, "A", "U1")
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = b.l.CloseConflict(b.ctx, "A", "U1")
		require.NoError(t, err)
		require.False(t, ok, "closing twice is a no-op")
		_, err = b.l.ResolveConflict(b.ctx, "A", "U1", "11", "admin")
		require.ErrorIs(t, err, ErrNotOpen, "a closed conflict cannot be resolved")

		b.clock.Add(time.Hour)
		c, err := b.l.OpenConflict(b.ctx, testConflict())
		require.NoError(t, err)
		require.Equal(t, ConflictOpen, c.Status, "a closed conflict that comes back opens again")
		require.Equal(t, t0.Add(time.Hour), c.FirstSeen)

		c, err = b.l.IgnoreConflict(b.ctx, "A", "U1", "ops")
		require.NoError(t, err)
		require.Equal(t, ConflictIgnored, c.Status)
		_, err = b.l.IgnoreConflict(b.ctx, "A", "U1", "ops")
		require.NoError(t, err, "ignoring twice is idempotent")
		got, ok, err := b.l.Conflict(b.ctx, "A", "u1")
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, ConflictIgnored, got.Status)
		_, ok, err = b.l.Conflict(b.ctx, "A", "nobody")
		require.NoError(t, err)
		require.False(t, ok)
	})
}

func TestConflictBadInput(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	_, err := b.l.OpenConflict(b.ctx, Conflict{Tenant: "A"})
	require.ErrorContains(t, err, "user id")
	_, err = b.l.Conflicts(b.ctx, "", "bogus")
	var pe *ParamError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, "status", pe.Param)
}
