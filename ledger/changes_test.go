package ledger

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// seedEntries are appended one minute apart; tests name them by index.
func seedEntries() []Entry {
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	return []Entry{
		{Time: at(0), Tenant: "A", CompanyID: "C1", UserID: "u1", UPN: "alice@a.com", ContactID: "101", Action: "created",
			Changes: []FieldChange{{"first_name", "", "Alice"}, {"email", "", "alice@a.com"}},
			Trigger: Trigger{Kind: TriggerRun, RunID: "r1", Mode: "full"}, Result: ResultWritten},
		{Time: at(1), Tenant: "A", CompanyID: "C1", UserID: "u2", UPN: "bob@a.com", ContactID: "102", Action: "updated",
			Changes: []FieldChange{{"job_title", "Dev", "Lead"}}, Trigger: Trigger{Kind: TriggerNotification, SubscriptionID: "s1"}, Result: ResultWritten},
		{Time: at(2), Tenant: "A", CompanyID: "C2", UserID: "u1", UPN: "alice@a.com", ContactID: "101", Action: "updated",
			Changes: []FieldChange{{"phone", "1", "2"}}, Trigger: Trigger{Kind: TriggerOperator, Actor: "admin"}, Result: ResultWritten},
		{Time: at(3), Tenant: "B", CompanyID: "C9", UserID: "u3", UPN: "carol@b.com", ContactID: "201", Action: "deactivated",
			Changes: []FieldChange{{"inactive", "false", "true"}}, Trigger: Trigger{Kind: TriggerRun, RunID: "r2"}, Result: ResultWritten},
		{Time: at(4), Tenant: "A", CompanyID: "C1", UserID: "u2", UPN: "bob@a.com", ContactID: "102", Action: "updated",
			Changes: []FieldChange{{"email", "bob@a.com", "robert@a.com"}}, Trigger: Trigger{Kind: TriggerNotification},
			Result: ResultFailed, ErrorCode: "ContactUpdateFailed", PSAError: "email in use"},
		{Time: at(5), Tenant: "B", CompanyID: "C9", UserID: "u3", UPN: "carol@b.com", ContactID: "201", Action: "reactivated",
			Changes: []FieldChange{{"inactive", "true", "false"}}, Trigger: Trigger{Kind: TriggerOperator, Actor: "ops"}, Result: ResultWritten},
		{Time: at(6), Tenant: "A", CompanyID: "C1", UserID: "u4", UPN: "dan@a.com", Action: "created",
			Trigger: Trigger{Kind: TriggerRun, RunID: "r3"}, Result: ResultFailed, ErrorCode: "ContactCreationFailed"},
	}
}

// indexesOf names entries by their minute offset from t0.
func indexesOf(es []Entry) []int {
	out := []int{}
	for _, e := range es {
		out = append(out, int(e.Time.Sub(t0)/time.Minute))
	}
	return out
}

func TestChangesFilters(t *testing.T) {
	t.Parallel()
	at := func(i int) time.Time { return t0.Add(time.Duration(i) * time.Minute) }
	tests := []struct {
		name string
		q    Query
		want []int
	}{
		{"all", Query{}, []int{6, 5, 4, 3, 2, 1, 0}},
		{"tenant", Query{Tenant: "A"}, []int{6, 4, 2, 1, 0}},
		{"company", Query{CompanyID: "C1"}, []int{6, 4, 1, 0}},
		{"user by id", Query{User: "u1"}, []int{2, 0}},
		{"user by upn, any case", Query{User: "ALICE@A.com"}, []int{2, 0}},
		{"contact", Query{ContactID: "102"}, []int{4, 1}},
		{"contact, tenant and company", Query{ContactID: "101", Tenant: "A", CompanyID: "C2"}, []int{2}},
		{"field", Query{Field: "email"}, []int{4, 0}},
		{"action", Query{Action: "updated"}, []int{4, 2, 1}},
		{"trigger", Query{Trigger: TriggerOperator}, []int{5, 2}},
		{"time range", Query{Since: at(2), Until: at(4)}, []int{4, 3, 2}},
		{"contact since", Query{ContactID: "201", Since: at(4)}, []int{5}},
		{"contact until", Query{ContactID: "201", Until: at(4)}, []int{3}},
		{"user and field", Query{User: "bob@a.com", Field: "email"}, []int{4}},
		{"unknown user", Query{User: "zed"}, []int{}},
		{"limit", Query{Tenant: "A", Limit: 2}, []int{6, 4}},
	}
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		require.NoError(t, b.l.Append(b.ctx, seedEntries()...))
		for _, tc := range tests {
			p, err := b.l.Changes(b.ctx, tc.q)
			require.NoError(t, err, tc.name)
			require.Equal(t, tc.want, indexesOf(p.Entries), tc.name)
		}
		p, err := b.l.Changes(b.ctx, Query{ContactID: "102", Limit: 1})
		require.NoError(t, err)
		got := p.Entries[0]
		require.NotEmpty(t, got.ID)
		got.ID = ""
		require.Equal(t, seedEntries()[4], got, "an entry reads back as appended")
	})
}

func TestChangesPaging(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		var batch []Entry
		for i := range 250 {
			if i%50 == 0 { // many entries share one millisecond
				b.clock.Add(time.Millisecond)
			}
			batch = append(batch, Entry{Tenant: "A", UserID: "u1", ContactID: "c1", Action: "updated",
				Result: ResultWritten, PSAError: fmt.Sprint(i), Time: b.clock.Now()})
		}
		require.NoError(t, b.l.Append(b.ctx, batch...))
		for _, q := range []Query{{Tenant: "A", Limit: 7}, {ContactID: "c1", Limit: 7}, {User: "u1", Limit: 50}} {
			var seen []string
			pages := 0
			for {
				p, err := b.l.Changes(b.ctx, q)
				require.NoError(t, err)
				pages++
				for _, e := range p.Entries {
					seen = append(seen, e.PSAError)
				}
				if p.Next == "" {
					break
				}
				require.Len(t, p.Entries, q.Limit)
				q.Cursor = p.Next
			}
			want := make([]string, 250)
			for i := range want {
				want[i] = fmt.Sprint(249 - i)
			}
			require.Equal(t, want, seen, "newest first, no duplicate, no gap")
			require.Equal(t, (250+q.Limit-1)/q.Limit, pages, "no empty last page")
		}
	})
}

func TestAppendIdempotent(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{}, func(t *testing.T, b bundle) {
		e := Entry{Tenant: "A", UserID: "u1", ContactID: "c1", Action: "updated", Result: ResultWritten, Key: "job-1"}
		require.NoError(t, b.l.Append(b.ctx, e, e)) // twice in one batch
		require.NoError(t, b.l.Append(b.ctx, e))    // and a retried job
		e.Key = "job-2"
		require.NoError(t, b.l.Append(b.ctx, e, Entry{Tenant: "A", ContactID: "c1", Action: "linked"}))
		p, err := b.l.Changes(b.ctx, Query{ContactID: "c1"})
		require.NoError(t, err)
		require.Len(t, p.Entries, 3)
		ttl, err := b.rdb.TTL(b.ctx, b.l.keys.idem("job-1")).Result()
		require.NoError(t, err)
		require.InDelta(t, DefaultRetention.Seconds(), ttl.Seconds(), 60, "the key lives as long as the entries")
	})
}

func TestChangesRetention(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{Retention: 24 * time.Hour}, func(t *testing.T, b bundle) {
		old := make([]Entry, 400)
		for i := range old {
			old[i] = Entry{Tenant: "A", UserID: "u1", ContactID: "c1", Action: "updated", Result: ResultWritten, PSAError: "old"}
		}
		require.NoError(t, b.l.Append(b.ctx, old...))
		b.clock.Add(25 * time.Hour)
		require.NoError(t, b.l.Append(b.ctx, Entry{Tenant: "A", UserID: "u1", ContactID: "c1", Action: "updated", PSAError: "new"}))
		n, err := b.rdb.XLen(b.ctx, b.l.keys.changes()).Result()
		require.NoError(t, err)
		require.Less(t, n, int64(200), "the stream is trimmed by time (whole nodes on a real Redis)")
		ix, err := b.rdb.ZCard(b.ctx, b.l.keys.contactIx("c1")).Result()
		require.NoError(t, err)
		require.Equal(t, int64(1), ix, "the index is trimmed exactly")
		for _, q := range []Query{{}, {ContactID: "c1"}, {User: "u1"}, {Tenant: "A"}} {
			p, err := b.l.Changes(b.ctx, q)
			require.NoError(t, err)
			require.Len(t, p.Entries, 1, "entries past retention are never shown")
			require.Equal(t, "new", p.Entries[0].PSAError)
		}
	})
}

func TestChangesSizeBound(t *testing.T) {
	t.Parallel()
	forEachBackend(t, Options{MaxEntries: 100}, func(t *testing.T, b bundle) {
		for range 10 {
			batch := make([]Entry, 100)
			for i := range batch {
				batch[i] = Entry{Tenant: "A", ContactID: "c1", Action: "updated"}
			}
			require.NoError(t, b.l.Append(b.ctx, batch...))
		}
		n, err := b.rdb.XLen(b.ctx, b.l.keys.changes()).Result()
		require.NoError(t, err)
		require.GreaterOrEqual(t, n, int64(100))
		require.LessOrEqual(t, n, int64(200), "approximate trimming keeps at most one node more")
		p, err := b.l.Changes(b.ctx, Query{ContactID: "c1", Limit: MaxLimit})
		require.NoError(t, err)
		require.Len(t, p.Entries, int(n), "index members of trimmed entries are skipped")
		ids := make([]string, len(p.Entries))
		for i, e := range p.Entries {
			ids[i] = e.ID
		}
		require.Len(t, slices.Compact(ids), int(n))
	})
}

func TestChangesClockGoesBack(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	require.NoError(t, b.l.Append(b.ctx, Entry{Tenant: "A", PSAError: "1"}))
	b.clock.Add(-time.Minute) // another replica's clock is behind
	require.NoError(t, b.l.Append(b.ctx, Entry{Tenant: "A", PSAError: "2"}))
	p, err := b.l.Changes(b.ctx, Query{})
	require.NoError(t, err)
	require.Equal(t, []string{"2", "1"}, []string{p.Entries[0].PSAError, p.Entries[1].PSAError}, "appended order is kept")
}

func TestChangesBadCursor(t *testing.T) {
	t.Parallel()
	b := miniBundle(t, Options{})
	_, err := b.l.Changes(b.ctx, Query{Cursor: "nope"})
	require.ErrorContains(t, err, "cursor")
}
