package ledger

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// benchEntry is a typical update: three field changes of a run, for one
// of contacts contacts.
func benchEntry(i, contacts int) Entry {
	return Entry{Tenant: "contoso.onmicrosoft.com", CompanyID: "250", UserID: fmt.Sprintf("6f1c2c1e-0000-4000-8000-%012d", i),
		UPN: fmt.Sprintf("user%d@contoso.com", i), ContactID: strconv.Itoa(100000 + i%contacts), Action: "updated",
		Changes: []FieldChange{{"job_title", "Engineer", "Senior Engineer"}, {"department", "R&D", "Platform"},
			{"phone", "+1 555 0100", "+1 555 0199"}},
		Trigger: Trigger{Kind: TriggerRun, RunID: "run-20261204-full", Mode: "full"}, Result: ResultWritten,
		Key: fmt.Sprintf("run-20261204-full:%d", i)}
}

// benchLedger is a ledger on a redis-server of the benchmark's own (AOF on,
// as in production), so a large log does not fill the shared Redis.
func benchLedger(b *testing.B) *Ledger {
	srv := startAOFRedis(b, "everysec")
	rdb := redis.NewClient(&redis.Options{Addr: srv.addr()})
	b.Cleanup(func() { _ = rdb.Close() })
	return New(rdb, "psasync:", Options{})
}

// BenchmarkAppend appends the change log of a 10,000-user first sync in
// batches of 500 (one op = 10,000 entries).
func BenchmarkAppend(b *testing.B) {
	l := benchLedger(b)
	ctx := context.Background()
	const users, batch = 10_000, 500
	entries := make([]Entry, users)
	for i := range entries {
		entries[i] = benchEntry(i, 10_000)
	}
	round := 0
	for b.Loop() {
		round++
		for i := range entries {
			entries[i].Key = fmt.Sprintf("r%d:%d", round, i) // new keys: nothing is dropped
		}
		for i := 0; i < users; i += batch {
			if err := l.Append(ctx, entries[i:i+batch]...); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*users), "µs/entry")
	if os.Getenv("LEDGER_BENCH_STATS") != "" {
		st, _ := l.rdb.Info(ctx, "commandstats").Result()
		b.Log(st)
	}
}

// BenchmarkChangesByContact reads the newest page (100 entries) of one
// contact's history in a log of LEDGER_BENCH_ENTRIES entries, 100 per
// contact. The default 300,000 builds in about 25 s; 1,000,000 (about 75 s
// to build here) gave the same ~1.2 ms per page.
func BenchmarkChangesByContact(b *testing.B) {
	n := 300_000
	if s := os.Getenv("LEDGER_BENCH_ENTRIES"); s != "" {
		var err error
		n, err = strconv.Atoi(s)
		require.NoError(b, err)
	}
	l := benchLedger(b)
	ctx := context.Background()
	start := time.Now()
	const batch = 1000
	entries := make([]Entry, batch)
	for i := 0; i < n; i += batch {
		for j := range entries {
			entries[j] = benchEntry(i+j, n/100)
		}
		require.NoError(b, l.Append(ctx, entries[:min(batch, n-i)]...))
	}
	b.Logf("built %d entries in %s", n, time.Since(start).Round(time.Millisecond))
	b.ResetTimer()
	k := 0
	for b.Loop() {
		k++
		p, err := l.Changes(ctx, Query{ContactID: strconv.Itoa(100000 + k%(n/100)), Limit: 100})
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Entries) != 100 {
			b.Fatalf("got %d entries", len(p.Entries))
		}
	}
}
