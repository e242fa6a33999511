package quota

import (
	"context"
	crand "crypto/rand"
	"iter"
	"os"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// testRedis is the Redis a test runs against: miniredis, or the server at
// TEST_REDIS_ADDR when it is set. ns is a key namespace unique to the test.
type testRedis struct {
	addr string
	ns   string
}

var unsafeKeyChars = regexp.MustCompile(`[^A-Za-z0-9_-]+`)

func newTestRedis(tb testing.TB) testRedis {
	tb.Helper()
	ns := "psasync:test:quota:" + unsafeKeyChars.ReplaceAllString(tb.Name(), "_") + ":" + crand.Text()[:10]
	addr := os.Getenv("TEST_REDIS_ADDR")
	if addr == "" {
		addr = miniredis.RunT(tb).Addr()
		return testRedis{addr: addr, ns: ns}
	}
	r := testRedis{addr: addr, ns: ns}
	tb.Cleanup(func() {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		defer rdb.Close()
		ctx := context.Background()
		for _, pattern := range []string{ns + "*", "rate:" + ns + "*"} {
			keys, err := rdb.Keys(ctx, pattern).Result()
			if err == nil && len(keys) > 0 {
				rdb.Del(ctx, keys...)
			}
		}
	})
	return r
}

// client returns a new connection to the test's Redis, as one replica has.
func (r testRedis) client(tb testing.TB) *redis.Client {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: r.addr})
	tb.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// config returns cfg with the test's key namespace.
func (r testRedis) config(cfg Config) Config {
	cfg.Key = r.ns
	return cfg
}

// fakePSA is the wrapped psa.Client: it counts calls, measures how many are
// in flight per endpoint group, and can block or take time.
type fakePSA struct {
	delay    time.Duration
	block    chan struct{} // when set, every call waits for it to close
	entered  chan string   // when set, receives each call's group as it starts
	contacts int           // ListContacts yields this many contacts
	pageSize int           // in pages of this size (one call per page)
	err      error         // returned by every single-shot call when set

	mu          sync.Mutex
	calls       int
	times       []time.Time
	inFlight    map[string]int
	maxInFlight map[string]int
	maxTotal    int
}

var _ psa.Client = (*fakePSA)(nil)

func (f *fakePSA) do(ctx context.Context, group string) error {
	f.mu.Lock()
	if f.inFlight == nil {
		f.inFlight, f.maxInFlight = map[string]int{}, map[string]int{}
	}
	f.calls++
	f.times = append(f.times, time.Now())
	f.inFlight[group]++
	f.maxInFlight[group] = max(f.maxInFlight[group], f.inFlight[group])
	total := 0
	for _, n := range f.inFlight {
		total += n
	}
	f.maxTotal = max(f.maxTotal, total)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight[group]--
		f.mu.Unlock()
	}()
	if f.entered != nil {
		f.entered <- group
	}
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.delay > 0 {
		time.Sleep(f.delay)
	}
	return f.err
}

func (f *fakePSA) ListContacts(ctx context.Context, companyID string) iter.Seq2[psa.Contact, error] {
	return func(yield func(psa.Contact, error) bool) {
		size := max(f.pageSize, 1)
		for i := 0; i == 0 || i < f.contacts; i += size {
			if err := f.do(ctx, GroupContactsRead); err != nil {
				yield(psa.Contact{}, err)
				return
			}
			for j := i; j < min(i+size, f.contacts); j++ {
				if !yield(psa.Contact{ID: strconv.Itoa(j + 1), CompanyID: companyID}, nil) {
					return
				}
			}
		}
	}
}

func (f *fakePSA) FindContactsByEmail(ctx context.Context, companyID, email string) ([]psa.Contact, error) {
	if err := f.do(ctx, GroupContactsRead); err != nil {
		return nil, err
	}
	return []psa.Contact{{ID: "1", CompanyID: companyID, Email: email}}, nil
}

func (f *fakePSA) FindContactsByExternalID(ctx context.Context, companyID, objectID string) ([]psa.Contact, error) {
	if err := f.do(ctx, GroupContactsRead); err != nil {
		return nil, err
	}
	return []psa.Contact{{ID: "1", CompanyID: companyID, ExternalID: objectID}}, nil
}

func (f *fakePSA) GetContact(ctx context.Context, id string) (psa.Contact, error) {
	if err := f.do(ctx, GroupContactsRead); err != nil {
		return psa.Contact{}, err
	}
	return psa.Contact{ID: id}, nil
}

func (f *fakePSA) CreateContact(ctx context.Context, c psa.Contact) (psa.Contact, error) {
	if err := f.do(ctx, GroupContactsWrite); err != nil {
		return psa.Contact{}, err
	}
	c.ID = "new"
	return c, nil
}

func (f *fakePSA) UpdateContact(ctx context.Context, c psa.Contact, _ []psa.Field) (psa.Contact, error) {
	if err := f.do(ctx, GroupContactsWrite); err != nil {
		return psa.Contact{}, err
	}
	return c, nil
}

// SupportedFields makes no call: the decorator must pass it through
// without asking the limiter.
func (f *fakePSA) SupportedFields() []psa.Field {
	return []psa.Field{psa.FieldFirstName, psa.FieldInactive}
}

func (f *fakePSA) snapshot() (calls int, times []time.Time, maxInFlight map[string]int, maxTotal int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]int, len(f.maxInFlight))
	for k, v := range f.maxInFlight {
		m[k] = v
	}
	return f.calls, append([]time.Time(nil), f.times...), m, f.maxTotal
}

func (f *fakePSA) callCount() int {
	calls, _, _, _ := f.snapshot()
	return calls
}

// method is one psa.Client call, for tables over all of them.
type method struct {
	name  string
	group string
	call  func(ctx context.Context, c psa.Client) error
}

var methods = []method{
	{"ListContacts", GroupContactsRead, func(ctx context.Context, c psa.Client) error {
		for _, err := range c.ListContacts(ctx, "7") {
			if err != nil {
				return err
			}
		}
		return nil
	}},
	{"FindContactsByEmail", GroupContactsRead, func(ctx context.Context, c psa.Client) error {
		_, err := c.FindContactsByEmail(ctx, "7", "a@example.com")
		return err
	}},
	{"FindContactsByExternalID", GroupContactsRead, func(ctx context.Context, c psa.Client) error {
		_, err := c.FindContactsByExternalID(ctx, "7", "oid-1")
		return err
	}},
	{"GetContact", GroupContactsRead, func(ctx context.Context, c psa.Client) error {
		_, err := c.GetContact(ctx, "1")
		return err
	}},
	{"CreateContact", GroupContactsWrite, func(ctx context.Context, c psa.Client) error {
		_, err := c.CreateContact(ctx, psa.Contact{CompanyID: "7", Email: "a@example.com"})
		return err
	}},
	{"UpdateContact", GroupContactsWrite, func(ctx context.Context, c psa.Client) error {
		_, err := c.UpdateContact(ctx, psa.Contact{ID: "1", CompanyID: "7"}, []psa.Field{psa.FieldJobTitle})
		return err
	}},
}

// requireRateLimited asserts err is psasync's own limit: a *psa.Error of
// kind ErrRateLimited whose RetryAfter lies in [lo, hi].
func requireRateLimited(t *testing.T, err error, lo, hi time.Duration) *psa.Error {
	t.Helper()
	require.ErrorIs(t, err, psa.ErrRateLimited)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.GreaterOrEqual(t, pe.RetryAfter, lo, "RetryAfter")
	require.LessOrEqual(t, pe.RetryAfter, hi, "RetryAfter")
	return pe
}

// waitEntered waits for the fake to report a started call.
func waitEntered(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case g := <-ch:
		return g
	case <-time.After(5 * time.Second):
		require.FailNow(t, "the wrapped client was never called")
		return ""
	}
}

func sumStats(clients []*Client) Stats {
	var s Stats
	for _, c := range clients {
		st := c.Stats()
		s.Calls += st.Calls
		s.Limited += st.Limited
		s.ConcurrencyWaits += st.ConcurrencyWaits
		s.Waited += st.Waited
	}
	return s
}
