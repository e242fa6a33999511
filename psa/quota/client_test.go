package quota

import (
	"context"
	"iter"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

func TestBudgetIsSharedByReplicas(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	cfg := r.config(Config{Requests: 20, Burst: 20, Period: time.Hour})
	fake := &fakePSA{}
	const replicas, workers, perWorker = 4, 4, 10
	clients := make([]*Client, replicas)
	for i := range clients {
		clients[i] = Wrap(fake, r.client(t), cfg)
	}

	errs := make(chan error, replicas*workers*perWorker)
	var wg sync.WaitGroup
	for w := range replicas * workers {
		wg.Go(func() {
			c := clients[w%replicas]
			for j := range perWorker {
				errs <- methods[(w+j)%len(methods)].call(t.Context(), c)
			}
		})
	}
	wg.Wait()
	close(errs)

	allowed := 0
	for err := range errs {
		if err == nil {
			allowed++
			continue
		}
		requireRateLimited(t, err, 59*time.Minute, time.Hour)
	}
	require.Equal(t, 20, allowed, "calls let through across replicas")
	require.Equal(t, 20, fake.callCount(), "calls that reached the PSA")
	st := sumStats(clients)
	require.EqualValues(t, 20, st.Calls)
	require.EqualValues(t, replicas*workers*perWorker-20, st.Limited)
}

func TestBudgetSpentErrorMakesNoCall(t *testing.T) {
	t.Parallel()
	for _, m := range methods {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRedis(t)
			fake := &fakePSA{}
			c := Wrap(fake, r.client(t), r.config(Config{Requests: 1, Burst: 1, Period: time.Hour}), WithName("autotask"))
			require.NoError(t, m.call(t.Context(), c))
			require.Equal(t, 1, fake.callCount())

			err := m.call(t.Context(), c)
			pe := requireRateLimited(t, err, 59*time.Minute, time.Hour)
			require.Equal(t, "quota: "+map[string]string{
				"ListContacts": "list contacts", "FindContactsByEmail": "find contacts by email",
				"FindContactsByExternalID": "find contacts by object id",
				"GetContact":               "get contact", "CreateContact": "create contact", "UpdateContact": "update contact",
			}[m.name], pe.Op)
			require.Contains(t, pe.Message, "psasync's own quota for autotask is spent")
			require.Zero(t, pe.StatusCode, "no PSA answered")
			d, ok := psa.RetryAfter(err)
			require.True(t, ok)
			require.Equal(t, pe.RetryAfter, d)
			require.Equal(t, 1, fake.callCount(), "a spent budget must not reach the PSA")
			require.Equal(t, Stats{Calls: 1, Limited: 1}, c.Stats())
		})
	}
}

func TestBudgetRefillsAfterRetryAfter(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	fake := &fakePSA{}
	// 3 per 600ms with a burst of 1: one call, then one every 200ms.
	c := Wrap(fake, r.client(t), r.config(Config{Requests: 3, Burst: 1, Period: 600 * time.Millisecond}))
	_, err := c.GetContact(t.Context(), "1")
	require.NoError(t, err)
	_, err = c.GetContact(t.Context(), "1")
	pe := requireRateLimited(t, err, 100*time.Millisecond, 200*time.Millisecond)

	time.Sleep(pe.RetryAfter + 20*time.Millisecond)
	_, err = c.GetContact(t.Context(), "1")
	require.NoError(t, err, "the budget allows a call once RetryAfter has passed")
	require.Equal(t, 2, fake.callCount())
}

func TestBudgetHoldsInEveryWindowAcrossReplicas(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	// 5 per second with a burst of 2: 2 at once, then one every 250ms.
	cfg := r.config(Config{Requests: 5, Burst: 2, Period: time.Second})
	fake := &fakePSA{}
	clients := make([]*Client, 4)
	for i := range clients {
		clients[i] = Wrap(fake, r.client(t), cfg)
	}
	start := time.Now()
	deadline := start.Add(1300 * time.Millisecond)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				_, err := clients[w%len(clients)].GetContact(t.Context(), "1")
				if err != nil {
					d, ok := psa.RetryAfter(err)
					if !ok {
						t.Errorf("limited without RetryAfter: %v", err)
						return
					}
					time.Sleep(min(d, 10*time.Millisecond))
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	calls, times, _, _ := fake.snapshot()
	require.LessOrEqual(t, calls, 2+int(elapsed/(250*time.Millisecond)), "burst plus one per emission interval")
	require.GreaterOrEqual(t, calls, 5, "the budget refills while replicas keep asking")
	slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
	// Any window a bit shorter than Period (slack for scheduling between
	// the limiter's decision and the call) holds at most Requests calls.
	for i, j := 0, 0; i < len(times); i++ {
		for times[i].Sub(times[j]) >= 900*time.Millisecond {
			j++
		}
		require.LessOrEqual(t, i-j+1, 5, "calls within 900ms ending at call %d", i)
	}
	require.EqualValues(t, calls, sumStats(clients).Calls)
}

func TestConcurrencyCapAcrossReplicas(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	cfg := r.config(Config{MaxConcurrent: 2, ConcurrencyWait: 10 * time.Second})
	fake := &fakePSA{delay: 10 * time.Millisecond}
	clients := make([]*Client, 4)
	for i := range clients {
		clients[i] = Wrap(fake, r.client(t), cfg)
	}
	const workers, perWorker = 8, 6
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for j := range perWorker {
				if err := methods[(w+j)%len(methods)].call(t.Context(), clients[w%len(clients)]); err != nil {
					t.Errorf("worker %d call %d: %v", w, j, err)
				}
			}
		})
	}
	wg.Wait()

	calls, _, maxInFlight, _ := fake.snapshot()
	require.Equal(t, workers*perWorker, calls)
	require.LessOrEqual(t, maxInFlight[GroupContactsRead], 2, "reads in flight")
	require.LessOrEqual(t, maxInFlight[GroupContactsWrite], 2, "writes in flight")
	require.Equal(t, 2, max(maxInFlight[GroupContactsRead], maxInFlight[GroupContactsWrite]), "the cap is used, not undercut")
	st := sumStats(clients)
	require.EqualValues(t, workers*perWorker, st.Calls)
	require.Positive(t, st.ConcurrencyWaits)
	require.Positive(t, st.Waited)
	require.Zero(t, st.Limited)
}

func TestEndpointGroups(t *testing.T) {
	t.Parallel()
	held := []struct {
		group string
		call  func(ctx context.Context, c psa.Client) error
	}{
		{GroupContactsRead, methods[3].call},  // GetContact
		{GroupContactsWrite, methods[4].call}, // CreateContact
	}
	for _, h := range held {
		for _, m := range methods {
			t.Run(h.group+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				r := newTestRedis(t)
				cfg := r.config(Config{MaxConcurrent: 1, ConcurrencyWait: 50 * time.Millisecond})
				holding := &fakePSA{block: make(chan struct{}), entered: make(chan string, 1)}
				done := make(chan error, 1)
				go func() { done <- h.call(t.Context(), Wrap(holding, r.client(t), cfg)) }()
				waitEntered(t, holding.entered)

				free := &fakePSA{}
				c := Wrap(free, r.client(t), cfg)
				err := m.call(t.Context(), c)
				if m.group == h.group {
					pe := requireRateLimited(t, err, time.Second, time.Second)
					require.Contains(t, pe.Message, "group "+m.group)
					require.Zero(t, free.callCount())
					require.Equal(t, Stats{Limited: 1, ConcurrencyWaits: 1, Waited: c.Stats().Waited}, c.Stats())
					require.GreaterOrEqual(t, c.Stats().Waited, 50*time.Millisecond)
				} else {
					require.NoError(t, err, "the other group has its own slots")
					require.Equal(t, 1, free.callCount())
				}
				close(holding.block)
				require.NoError(t, <-done)
			})
		}
	}
}

func TestCrashedHolderSlotExpires(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	cfg := r.config(Config{MaxConcurrent: 1, ConcurrencyWait: 5 * time.Second})
	const lease = 300 * time.Millisecond

	// Replica A takes the only slot, then loses Redis for good mid-call, as
	// a crashed process does: no more renewals, no release.
	crashedRedis := redis.NewClient(&redis.Options{Addr: r.addr, MaxRetries: -1})
	stuck := &fakePSA{block: make(chan struct{}), entered: make(chan string, 1)}
	defer close(stuck.block)
	go func() { _, _ = Wrap(stuck, crashedRedis, cfg, WithLease(lease)).GetContact(t.Context(), "1") }()
	waitEntered(t, stuck.entered)
	crashed := time.Now()
	require.NoError(t, crashedRedis.Close())

	fake := &fakePSA{}
	b := Wrap(fake, r.client(t), cfg, WithLease(lease))
	_, err := b.GetContact(t.Context(), "2")
	require.NoError(t, err, "the crashed replica's slot frees itself")
	require.Equal(t, 1, fake.callCount())
	require.Less(t, time.Since(crashed), lease+time.Second, "freed about one lease after the crash")
	require.EqualValues(t, 1, b.Stats().ConcurrencyWaits)
}

func TestLeaseIsRenewedWhileCallRuns(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	cfg := r.config(Config{MaxConcurrent: 1, ConcurrencyWait: 30 * time.Millisecond})
	const lease = 240 * time.Millisecond
	long := &fakePSA{block: make(chan struct{}), entered: make(chan string, 1)}
	done := make(chan error, 1)
	go func() {
		_, err := Wrap(long, r.client(t), cfg, WithLease(lease)).GetContact(t.Context(), "1")
		done <- err
	}()
	waitEntered(t, long.entered)

	other := &fakePSA{}
	b := Wrap(other, r.client(t), cfg, WithLease(lease))
	for end := time.Now().Add(4 * lease); time.Now().Before(end); {
		_, err := b.GetContact(t.Context(), "2")
		requireRateLimited(t, err, time.Second, time.Second)
	}
	require.Zero(t, other.callCount(), "a running call keeps its slot past its first lease")

	close(long.block)
	require.NoError(t, <-done)
	_, err := b.GetContact(t.Context(), "2")
	require.NoError(t, err, "the slot is given back when the call returns")
}

func TestContextEndsWhileWaiting(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	cfg := r.config(Config{MaxConcurrent: 1, ConcurrencyWait: time.Minute})
	holding := &fakePSA{block: make(chan struct{}), entered: make(chan string, 1)}
	defer close(holding.block)
	go func() { _, _ = Wrap(holding, r.client(t), cfg).GetContact(t.Context(), "1") }()
	waitEntered(t, holding.entered)

	fake := &fakePSA{}
	c := Wrap(fake, r.client(t), cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetContact(ctx, "2")
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, psa.ErrRateLimited)
	require.Less(t, time.Since(start), 500*time.Millisecond, "returns promptly once ctx ends")
	require.Zero(t, fake.callCount())
	require.EqualValues(t, 1, c.Stats().ConcurrencyWaits)
	require.Zero(t, c.Stats().Limited)

	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	_, err = c.CreateContact(done, psa.Contact{})
	require.ErrorIs(t, err, context.Canceled, "an ended ctx is refused before Redis is asked")
	require.Zero(t, fake.callCount())
}

func TestListContactsChargesPerPage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		contacts  int
		requests  int
		wantRead  int
		wantPages int
		wantCalls int64
		wantErr   bool
	}{
		{name: "pages", contacts: 250, requests: 100, wantRead: 250, wantPages: 3, wantCalls: 3},
		{name: "empty company", contacts: 0, requests: 100, wantRead: 0, wantPages: 1, wantCalls: 1},
		{name: "exact multiple is charged one page more", contacts: 200, requests: 100, wantRead: 200, wantPages: 2, wantCalls: 3},
		{name: "budget ends between pages", contacts: 250, requests: 2, wantRead: 200, wantPages: 2, wantCalls: 2, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := newTestRedis(t)
			fake := &fakePSA{contacts: tt.contacts, pageSize: 100}
			c := Wrap(fake, r.client(t), r.config(Config{Requests: tt.requests, Burst: tt.requests, Period: time.Hour, MaxConcurrent: 1}),
				WithPageSize(100))
			var read int
			var gotErr error
			for ct, err := range c.ListContacts(t.Context(), "7") {
				if err != nil {
					gotErr = err
					break
				}
				require.Equal(t, "7", ct.CompanyID)
				read++
			}
			require.Equal(t, tt.wantRead, read)
			require.Equal(t, tt.wantPages, fake.callCount(), "pages the PSA served")
			require.Equal(t, tt.wantCalls, c.Stats().Calls, "pages charged")
			if tt.wantErr {
				requireRateLimited(t, gotErr, time.Minute, time.Hour)
			} else {
				require.NoError(t, gotErr)
			}
		})
	}
}

func TestListContactsHoldsSlotPerPage(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	cfg := r.config(Config{MaxConcurrent: 1, ConcurrencyWait: 50 * time.Millisecond})
	lister := &fakePSA{contacts: 150, pageSize: 100, block: make(chan struct{}), entered: make(chan string, 2)}
	next, stop := iter.Pull2(Wrap(lister, r.client(t), cfg, WithPageSize(100)).ListContacts(t.Context(), "7"))
	defer stop()
	type pulled struct {
		c   psa.Contact
		err error
		ok  bool
	}
	first := make(chan pulled, 1)
	go func() {
		c, err, ok := next()
		first <- pulled{c, err, ok}
	}()
	waitEntered(t, lister.entered)

	reader := Wrap(&fakePSA{}, r.client(t), cfg)
	_, err := reader.GetContact(t.Context(), "1")
	requireRateLimited(t, err, time.Second, time.Second)

	close(lister.block)
	p := <-first
	require.True(t, p.ok)
	require.NoError(t, p.err)
	_, err = reader.GetContact(t.Context(), "1")
	require.NoError(t, err, "between pages the listing gives its slot back")

	read := 1
	for {
		_, err, ok := next()
		if !ok {
			break
		}
		require.NoError(t, err)
		read++
	}
	require.Equal(t, 150, read)
	require.Equal(t, 2, lister.callCount())
}

func TestRedisUnavailable(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	addr := m.Addr()
	m.Close()
	tests := []struct {
		name string
		cfg  Config
		what string
	}{
		{"rate", Config{Requests: 10, Period: time.Hour, Key: "k"}, "check the rate budget"},
		{"concurrency", Config{MaxConcurrent: 1, Key: "k"}, "take a concurrency slot"},
	}
	for _, tt := range tests {
		for _, m := range methods {
			t.Run(tt.name+"/"+m.name, func(t *testing.T) {
				t.Parallel()
				rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
				t.Cleanup(func() { _ = rdb.Close() })
				fake := &fakePSA{}
				err := m.call(t.Context(), Wrap(fake, rdb, tt.cfg))
				require.ErrorIs(t, err, psa.ErrConnection)
				var pe *psa.Error
				require.ErrorAs(t, err, &pe)
				require.Contains(t, pe.Message, tt.what)
				require.Error(t, pe.Err, "the Redis error is kept")
				require.Zero(t, fake.callCount(), "the PSA is never called unmetered")
			})
		}
	}
}

func TestUnlimitedConfigPassesThrough(t *testing.T) {
	t.Parallel()
	fake := &fakePSA{err: &psa.Error{Op: "fake", Kind: psa.ErrNotFound}}
	c := Wrap(fake, nil, Config{})
	for _, m := range methods[1:] {
		require.ErrorIs(t, m.call(t.Context(), c), psa.ErrNotFound, m.name)
	}
	require.Equal(t, Stats{Calls: int64(len(methods) - 1)}, c.Stats())
}

func TestInnerResultsPassThrough(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	cfg := r.config(Config{Requests: 100, Period: time.Hour, MaxConcurrent: 2})
	c := Wrap(&fakePSA{}, r.client(t), cfg)
	got, err := c.CreateContact(t.Context(), psa.Contact{Email: "a@example.com"})
	require.NoError(t, err)
	require.Equal(t, psa.Contact{ID: "new", Email: "a@example.com"}, got)
	found, err := c.FindContactsByEmail(t.Context(), "7", "a@example.com")
	require.NoError(t, err)
	require.Equal(t, []psa.Contact{{ID: "1", CompanyID: "7", Email: "a@example.com"}}, found)

	failing := Wrap(&fakePSA{err: &psa.Error{Op: "fake", Kind: psa.ErrDuplicate}}, r.client(t), cfg)
	_, err = failing.CreateContact(t.Context(), psa.Contact{})
	require.ErrorIs(t, err, psa.ErrDuplicate)
	_, err = failing.UpdateContact(t.Context(), psa.Contact{}, nil)
	require.ErrorIs(t, err, psa.ErrDuplicate)
	// Both calls gave their slots back: a third fits under the cap of 2.
	_, err = c.GetContact(t.Context(), "1")
	require.NoError(t, err)
}

func TestWrapRejectsWiringMistakes(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = rdb.Close() })
	require.PanicsWithValue(t, "quota: Wrap needs a psa.Client to wrap", func() { Wrap(nil, rdb, Config{}) })
	require.PanicsWithValue(t, "quota: Wrap needs a Redis client when the config sets limits", func() {
		Wrap(&fakePSA{}, nil, Config{Requests: 1, Period: time.Hour, Key: "k"})
	})
	require.Panics(t, func() { Wrap(&fakePSA{}, rdb, Config{Requests: -1}) })
	require.NotPanics(t, func() { Wrap(&fakePSA{}, nil, Config{}) })
}

// TestSupportedFieldsPassesThrough: the engine asks the decorated client
// which fields it stores; the answer is the inner client's, and asking
// spends no budget even when the budget is gone.
func TestSupportedFieldsPassesThrough(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	fake := &fakePSA{}
	c := Wrap(fake, r.client(t), r.config(Config{Requests: 1, Burst: 1, Period: time.Hour}))
	require.NoError(t, methods[0].call(t.Context(), c))
	require.Equal(t, fake.SupportedFields(), c.SupportedFields())
	require.Equal(t, Stats{Calls: 1}, c.Stats())
}
