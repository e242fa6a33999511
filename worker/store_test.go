package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/worker"
)

func TestStoreLinks(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)

	_, ok, err := s.GetLink(ctx, "contoso", "u1")
	require.NoError(t, err)
	require.False(t, ok, "no link yet")
	all, err := s.Links(ctx, "contoso")
	require.NoError(t, err)
	require.Empty(t, all)

	require.NoError(t, s.SetLink(ctx, "contoso", "u1", worker.Link{ContactID: "10", CompanyID: "250"}))
	require.NoError(t, s.SetLink(ctx, "contoso", "u2", worker.Link{ContactID: "11", CompanyID: "251"}))
	require.NoError(t, s.SetLink(ctx, "fabrikam", "u1", worker.Link{ContactID: "99", CompanyID: "300"}))
	// A second SetLink replaces the first.
	require.NoError(t, s.SetLink(ctx, "contoso", "u1", worker.Link{ContactID: "12", CompanyID: "250"}))

	l, ok, err := s.GetLink(ctx, "contoso", "u1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, worker.Link{ContactID: "12", CompanyID: "250"}, l)

	all, err = s.Links(ctx, "contoso")
	require.NoError(t, err)
	require.Equal(t, map[string]worker.Link{"u1": {ContactID: "12", CompanyID: "250"}, "u2": {ContactID: "11", CompanyID: "251"}}, all,
		"links are per tenant")

	// The documented key layout: P link:{tenant} is a hash of JSON links.
	raw, err := r.rdb.HGet(ctx, r.prefix+"link:contoso", "u2").Result()
	require.NoError(t, err)
	require.JSONEq(t, `{"contact_id":"11","company_id":"251"}`, raw)
}

func TestStoreCorruptLinkIsIgnored(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)
	require.NoError(t, s.SetLink(ctx, "contoso", "good", worker.Link{ContactID: "1", CompanyID: "250"}))
	require.NoError(t, r.rdb.HSet(ctx, r.prefix+"link:contoso", "bad", "{not json").Err())

	all, err := s.Links(ctx, "contoso")
	require.NoError(t, err, "a corrupt cache entry is not an error")
	require.Equal(t, map[string]worker.Link{"good": {ContactID: "1", CompanyID: "250"}}, all)

	_, ok, err := s.GetLink(ctx, "contoso", "bad")
	require.NoError(t, err)
	require.False(t, ok, "a corrupt link reads as no link, so matching falls back to the PSA")
}

func TestStoreRedisDown(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := worker.NewStore(deadRedis(t), "")
	_, err := s.Links(ctx, "contoso")
	require.ErrorContains(t, err, "read links of tenant contoso")
	_, _, err = s.GetLink(ctx, "contoso", "u1")
	require.ErrorContains(t, err, "read link of user u1")
	require.ErrorContains(t, s.SetLink(ctx, "contoso", "u1", worker.Link{}), "store link of user u1")
	_, err = s.DeltaLink(ctx, "contoso")
	require.ErrorContains(t, err, "read delta link of tenant contoso")
	require.ErrorContains(t, s.SaveRun(ctx, worker.RunRecord{ID: "r1", Inputs: worker.DefaultRunInputs("contoso")}), "run r1")
	_, _, err = s.Run(ctx, "r1")
	require.ErrorContains(t, err, "read run r1")
	_, err = s.Runs(ctx, ledger.RunQuery{}, 5)
	require.ErrorContains(t, err, "list runs")
	_, _, err = s.UserOutcome(ctx, "contoso", "u1")
	require.ErrorContains(t, err, "read outcome of user u1")
}

func TestStoreDeltaLink(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)

	link, err := s.DeltaLink(ctx, "contoso")
	require.NoError(t, err)
	require.Empty(t, link, "no delta link yet")

	const l1 = "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=abc"
	require.NoError(t, s.SetDeltaLink(ctx, "contoso", l1))
	require.NoError(t, s.SetDeltaLink(ctx, "fabrikam", "other"))
	link, err = s.DeltaLink(ctx, "contoso")
	require.NoError(t, err)
	require.Equal(t, l1, link)

	require.NoError(t, s.SetDeltaLink(ctx, "contoso", ""))
	link, err = s.DeltaLink(ctx, "contoso")
	require.NoError(t, err)
	require.Empty(t, link, `"" clears the link`)
	n, err := r.rdb.Exists(ctx, r.prefix+"delta:contoso").Result()
	require.NoError(t, err)
	require.Zero(t, n, "the key is deleted, not set to an empty string")

	link, err = s.DeltaLink(ctx, "fabrikam")
	require.NoError(t, err)
	require.Equal(t, "other", link, "other tenants keep theirs")
}

// TestStorePrefixIsTakenAsGiven: the default prefix is config's; the store
// puts exactly the prefix it is given in front of every key.
func TestStorePrefixIsTakenAsGiven(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix+"given:")
	require.NoError(t, s.SetDeltaLink(ctx, "contoso", "x"))
	v, err := r.rdb.Get(ctx, r.prefix+"given:delta:contoso").Result()
	require.NoError(t, err)
	require.Equal(t, "x", v)
	require.Equal(t, r.prefix+"given:ingest", s.IngestKey())
	require.Equal(t, 30*24*time.Hour, s.RunTTL)
}

func TestStoreRuns(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)

	_, ok, err := s.Run(ctx, "missing")
	require.NoError(t, err)
	require.False(t, ok)
	runs, err := s.Runs(ctx, ledger.RunQuery{}, 10)
	require.NoError(t, err)
	require.Empty(t, runs)

	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	in := worker.DefaultRunInputs("contoso")
	// Saved out of order: the list is by creation time, not by save order.
	for _, i := range []int{2, 0, 4, 1, 3} {
		rec := worker.RunRecord{ID: "run-" + itoa(i), State: worker.RunQueued, Inputs: in, CreatedAt: base.Add(time.Duration(i) * time.Minute)}
		require.NoError(t, s.SaveRun(ctx, rec))
	}
	started, finished := base.Add(10*time.Minute), base.Add(11*time.Minute)
	done := worker.RunRecord{ID: "run-2", State: worker.RunSucceeded, Inputs: in, CreatedAt: base.Add(2 * time.Minute),
		StartedAt: &started, FinishedAt: &finished, Report: &worker.Report{Success: true, SyncMode: worker.ModeFull, TenantID: "contoso"}}
	require.NoError(t, s.SaveRun(ctx, done), "saving again updates the record")

	got, ok, err := s.Run(ctx, "run-2")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, worker.RunSucceeded, got.State)
	require.True(t, got.StartedAt.Equal(started))
	require.True(t, got.FinishedAt.Equal(finished))
	require.NotNil(t, got.Report)
	require.True(t, got.Report.Success)
	require.Equal(t, in, got.Inputs)

	ids := func(rs []worker.RunRecord) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	runs, err = s.Runs(ctx, ledger.RunQuery{}, 3)
	require.NoError(t, err)
	require.Equal(t, []string{"run-4", "run-3", "run-2"}, ids(runs), "newest first, at most limit")
	require.Equal(t, worker.RunSucceeded, runs[2].State)

	runs, err = s.Runs(ctx, ledger.RunQuery{}, 0)
	require.NoError(t, err)
	require.Equal(t, []string{"run-4", "run-3", "run-2", "run-1", "run-0"}, ids(runs), "limit 0 means the default (20)")
}

func TestStoreKeepsTheNewestRunsOfEachTenant(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)
	worker.NewEngine(nil, nil, s, nil, worker.Config{Ledger: ledger.New(r.rdb, r.prefix, ledger.Options{RunsPerTenant: 2})}, nil)
	base := time.Now().UTC()
	for i, tenant := range []string{"contoso", "contoso", "fabrikam", "contoso"} {
		in := worker.DefaultRunInputs(tenant)
		require.NoError(t, s.SaveRun(ctx, worker.RunRecord{ID: fmt.Sprintf("run-%d", i), State: worker.RunSucceeded, Inputs: in, CreatedAt: base.Add(time.Duration(i) * time.Minute)}))
	}
	_, ok, err := s.Run(ctx, "run-0")
	require.NoError(t, err)
	require.False(t, ok, "the oldest of contoso's three runs is gone")
	runs, err := s.Runs(ctx, ledger.RunQuery{Tenant: "contoso"}, 10)
	require.NoError(t, err)
	require.Len(t, runs, 2)
	require.Equal(t, "run-3", runs[0].ID)
	all, err := s.Runs(ctx, ledger.RunQuery{}, 10)
	require.NoError(t, err)
	require.Len(t, all, 3, "fabrikam keeps its run")
}

func TestStoreRefusesARunWithoutTenant(t *testing.T) {
	t.Parallel()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)
	err := s.SaveRun(context.Background(), worker.RunRecord{ID: "x", State: worker.RunQueued, CreatedAt: time.Now()})
	require.ErrorContains(t, err, "without tenant")
}

func TestStoreOutcome(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := newRedis(t)
	s := worker.NewStore(r.rdb, r.prefix)

	_, ok, err := s.UserOutcome(ctx, "contoso", "u1")
	require.NoError(t, err)
	require.False(t, ok, "no job ran yet")

	want := worker.UserOutcome{TenantID: "contoso", UserID: "u1", UserPrincipalName: "jane@contoso.example", Action: "updated",
		ChangedFields: []string{"job_title"}, ContactID: "42", At: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	b, err := json.Marshal(want)
	require.NoError(t, err)
	// The handler writes P outcome:{tenant}:{user}; the store reads it back.
	require.NoError(t, r.rdb.Set(ctx, r.prefix+"outcome:contoso:u1", b, time.Hour).Err())
	got, ok, err := s.UserOutcome(ctx, "contoso", "u1")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, want, got)

	require.NoError(t, r.rdb.Set(ctx, r.prefix+"outcome:contoso:u2", "[", time.Hour).Err())
	_, _, err = s.UserOutcome(ctx, "contoso", "u2")
	require.ErrorContains(t, err, "decode outcome of user u2")
}
