package ledger

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func testRun(id, tenant, mode, state string, created time.Time) Run {
	return Run{ID: id, Tenant: tenant, Mode: mode, State: state, CreatedAt: created,
		Record: json.RawMessage(fmt.Sprintf(`{"id":%q,"state":%q}`, id, state))}
}

func runIDs(t *testing.T, recs []json.RawMessage) []string {
	t.Helper()
	out := []string{}
	for _, r := range recs {
		var v struct{ ID string }
		require.NoError(t, json.Unmarshal(r, &v))
		out = append(out, v.ID)
	}
	return out
}

func TestRunHistory(t *testing.T) {
	t.Parallel()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Hour) }
	forEachBackend(t, Options{RunsPerTenant: 3}, func(t *testing.T, b bundle) {
		ok, err := b.l.CreateRun(b.ctx, testRun("a1", "A", "full", "queued", at(0)))
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = b.l.CreateRun(b.ctx, testRun("a1", "A", "full", "queued", at(0)))
		require.NoError(t, err)
		require.False(t, ok, "a second create of the same id is refused")

		require.NoError(t, b.l.SaveRun(b.ctx, testRun("a1", "A", "full", "succeeded", at(0))))
		require.NoError(t, b.l.SaveRun(b.ctx, testRun("b1", "B", "incremental", "failed", at(1))))
		require.NoError(t, b.l.SaveRun(b.ctx, testRun("a2", "A", "incremental", "succeeded", at(2))))
		require.NoError(t, b.l.SaveRun(b.ctx, testRun("a3", "A", "full", "failed", at(3))))
		rec, ok, err := b.l.Run(b.ctx, "a1")
		require.NoError(t, err)
		require.True(t, ok)
		require.JSONEq(t, `{"id":"a1","state":"succeeded"}`, string(rec), "SaveRun upserts")

		require.NoError(t, b.l.SaveRun(b.ctx, testRun("a4", "A", "full", "running", at(4))))
		_, ok, err = b.l.Run(b.ctx, "a1")
		require.NoError(t, err)
		require.False(t, ok, "the oldest run beyond RunsPerTenant is removed")

		tests := []struct {
			name string
			q    RunQuery
			want []string
		}{
			{"all", RunQuery{}, []string{"a4", "a3", "a2", "b1"}},
			{"tenant", RunQuery{Tenant: "A"}, []string{"a4", "a3", "a2"}},
			{"mode", RunQuery{Mode: "full"}, []string{"a4", "a3"}},
			{"state", RunQuery{State: "failed"}, []string{"a3", "b1"}},
			{"tenant and state", RunQuery{Tenant: "B", State: "failed"}, []string{"b1"}},
			{"since", RunQuery{Since: at(2)}, []string{"a4", "a3", "a2"}},
			{"until", RunQuery{Until: at(2)}, []string{"a2", "b1"}},
			{"none", RunQuery{Tenant: "Z"}, []string{}},
		}
		for _, tc := range tests {
			recs, next, err := b.l.Runs(b.ctx, tc.q)
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, runIDs(t, recs), tc.name)
			require.Empty(t, next, tc.name)
		}

		var seen []string
		q := RunQuery{Limit: 1}
		for {
			recs, next, err := b.l.Runs(b.ctx, q)
			require.NoError(t, err)
			seen = append(seen, runIDs(t, recs)...)
			if next == "" {
				break
			}
			q.Cursor = next
		}
		require.Equal(t, []string{"a4", "a3", "a2", "b1"}, seen, "cursor paging")

		require.NoError(t, b.l.DeleteRun(b.ctx, "a3"))
		require.NoError(t, b.l.DeleteRun(b.ctx, "missing"))
		recs, _, err := b.l.Runs(b.ctx, RunQuery{Tenant: "A"})
		require.NoError(t, err)
		require.Equal(t, []string{"a4", "a2"}, runIDs(t, recs))
	})
}

func TestRunErrors(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	require.ErrorContains(t, b.l.SaveRun(b.ctx, Run{Tenant: "A"}), "without id")
	require.ErrorContains(t, b.l.SaveRun(b.ctx, Run{ID: "x"}), "without tenant")
	_, _, err := b.l.Runs(b.ctx, RunQuery{Cursor: "bad"})
	require.ErrorContains(t, err, "cursor")
}
