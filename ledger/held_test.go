package ledger

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func heldSet() []HeldContact {
	return []HeldContact{
		{ContactID: "1", UserID: "u1", UPN: "a@x", Reason: "user disabled"},
		{ContactID: "2", UserID: "u2", UPN: "b@x", Reason: "user deleted"},
		{ContactID: "3", UserID: "u3", UPN: "c@x", Reason: "out of scope"},
	}
}

func TestHeldFlow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		batch, fresh, err := b.l.Hold(b.ctx, "A", "C1", heldSet())
		require.NoError(t, err)
		require.True(t, fresh)
		require.Equal(t, HeldPending, batch.Status)
		require.Len(t, batch.Contacts, 3)

		again, fresh, err := b.l.Hold(b.ctx, "A", "C1", heldSet())
		require.NoError(t, err)
		require.False(t, fresh, "the same set does not warn again")
		require.Equal(t, batch.ID, again.ID)

		list, err := b.l.HeldBatches(b.ctx, "A")
		require.NoError(t, err)
		require.Len(t, list, 1)
		got, ok, err := b.l.HeldBatch(b.ctx, batch.ID)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, batch.ID, got.ID)

		_, _, err = b.l.ApproveHeld(b.ctx, batch.ID, []string{"9"}, "admin")
		require.ErrorIs(t, err, ErrNotInBatch)
		_, _, err = b.l.ApproveHeld(b.ctx, "nope", nil, "admin")
		require.ErrorIs(t, err, ErrNotFound)

		after, apply, err := b.l.ApproveHeld(b.ctx, batch.ID, []string{"1", "2"}, "admin")
		require.NoError(t, err)
		require.Len(t, apply, 2)
		require.Equal(t, HeldApproved, apply[0].Status)
		require.Equal(t, "admin", apply[0].Actor)
		require.Equal(t, HeldPending, after.Status, "one contact still waits")
		_, apply, err = b.l.ApproveHeld(b.ctx, batch.ID, []string{"1"}, "admin")
		require.NoError(t, err)
		require.Empty(t, apply, "approving twice applies nothing twice")
		_, err = b.l.RejectHeld(b.ctx, batch.ID, []string{"1"}, "admin")
		require.ErrorIs(t, err, ErrNotOpen, "an approved contact cannot be rejected")

		st, err := b.l.HeldState(b.ctx, "A", "C1")
		require.NoError(t, err)
		require.Equal(t, map[string]string{"1": "user disabled", "2": "user deleted"}, st.Approved)
		require.Equal(t, batch.ID, st.Pending.ID, "the batch still waits for its third contact")

		still, fresh, err := b.l.Hold(b.ctx, "A", "C1", heldSet())
		require.NoError(t, err)
		require.False(t, fresh, "the undecided rest is the same batch")
		require.Equal(t, batch.ID, still.ID)

		done, err := b.l.RejectHeld(b.ctx, batch.ID, nil, "ops") // the rest
		require.NoError(t, err)
		require.Equal(t, BatchDone, done.Status)
		require.Equal(t, HeldRejected, done.Contacts[2].Status)
		st, err = b.l.HeldState(b.ctx, "A", "C1")
		require.NoError(t, err)
		require.Len(t, st.Rejected, 1)
		require.Empty(t, st.Pending.ID, "a done batch no longer waits")
		_, err = b.l.RejectHeld(b.ctx, batch.ID, nil, "ops")
		require.ErrorIs(t, err, ErrStale, "a done batch is stale")

		none, fresh, err := b.l.Hold(b.ctx, "A", "C1", heldSet())
		require.NoError(t, err)
		require.False(t, fresh)
		require.Empty(t, none.ID, "every contact was decided: nothing is held again")
		list, err = b.l.HeldBatches(b.ctx, "")
		require.NoError(t, err)
		require.Empty(t, list)

		changed := heldSet()
		changed[2].Reason = "user deleted" // the rejected contact's reason changed
		nb, fresh, err := b.l.Hold(b.ctx, "A", "C1", changed)
		require.NoError(t, err)
		require.True(t, fresh)
		require.NotEqual(t, batch.ID, nb.ID)
		require.Len(t, nb.Contacts, 1)
		require.Equal(t, "3", nb.Contacts[0].ContactID)

		repl, fresh, err := b.l.Hold(b.ctx, "A", "C1", append(changed, HeldContact{ContactID: "4", Reason: "out of scope"}))
		require.NoError(t, err)
		require.True(t, fresh, "a different set replaces the pending batch")
		_, _, err = b.l.ApproveHeld(b.ctx, nb.ID, nil, "admin")
		require.ErrorIs(t, err, ErrStale)
		_, ok, err = b.l.HeldBatch(b.ctx, nb.ID)
		require.NoError(t, err)
		require.False(t, ok, "a replaced batch is gone")
		_, ok, err = b.l.HeldBatch(b.ctx, repl.ID)
		require.NoError(t, err)
		require.True(t, ok)
	})
}

func TestHeldForgetsDecisionsOfContactsNoLongerHeld(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	batch, _, err := b.l.Hold(b.ctx, "A", "C1", heldSet()[:1])
	require.NoError(t, err)
	_, err = b.l.RejectHeld(b.ctx, batch.ID, nil, "ops")
	require.NoError(t, err)
	_, _, err = b.l.Hold(b.ctx, "A", "C1", nil) // the user came back: nothing held
	require.NoError(t, err)
	again, fresh, err := b.l.Hold(b.ctx, "A", "C1", heldSet()[:1])
	require.NoError(t, err)
	require.True(t, fresh, "a contact held again after leaving the set is proposed again")
	require.Len(t, again.Contacts, 1)
}
