package subscription_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// fakeClock is a settable clock shared by the simulator and the manager.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(start time.Time) *fakeClock { return &fakeClock{now: start} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// testRedis is a Redis for one test: a fresh miniredis, or the real one at
// TEST_REDIS_ADDR with a key prefix of the test's own.
type testRedis struct {
	rdb    redis.UniversalClient
	prefix string
	// queue is an asynq queue name of the test's own.
	queue string
	addr  string
}

func newRedis(t *testing.T) testRedis {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	prefix, queue := "psasync-test-"+id+":", "subscription-test-"+id
	if addr := os.Getenv("TEST_REDIS_ADDR"); addr != "" {
		rdb := redis.NewClient(&redis.Options{Addr: addr})
		t.Cleanup(func() {
			ctx := context.Background()
			for _, pattern := range []string{prefix + "*", "asynq:{" + queue + "}*"} {
				keys, _ := rdb.Keys(ctx, pattern).Result()
				if len(keys) > 0 {
					rdb.Del(ctx, keys...)
				}
			}
			rdb.SRem(ctx, "asynq:queues", queue)
			_ = rdb.Close()
		})
		return testRedis{rdb: rdb, prefix: prefix, queue: queue, addr: addr}
	}
	mr := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return testRedis{rdb: rdb, prefix: prefix, queue: queue, addr: mr.Addr()}
}

// hook answers Graph's validation handshake on both webhook routes, as
// psasync's webhook does, records lifecycle events and touches the store
// for every change notification it accepts.
type hook struct {
	srv   *httptest.Server
	store *subscription.Store
	clock func() time.Time

	mu         sync.Mutex
	handshakes int
	lifecycle  []lifecycleItem
	changes    int
}

type lifecycleItem struct {
	SubscriptionID string `json:"subscriptionId"`
	TenantID       string `json:"tenantId"`
	ClientState    string `json:"clientState"`
	LifecycleEvent string `json:"lifecycleEvent"`
}

func newHook(t *testing.T, store *subscription.Store, clock func() time.Time) *hook {
	t.Helper()
	h := &hook{store: store, clock: clock}
	h.srv = httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) serve(w http.ResponseWriter, r *http.Request) {
	if tok := r.URL.Query().Get("validationToken"); tok != "" {
		h.mu.Lock()
		h.handshakes++
		h.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, tok)
		return
	}
	body, _ := io.ReadAll(r.Body)
	var coll struct {
		Value []json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal(body, &coll); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	switch r.URL.Path {
	case subscription.LifecyclePath:
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, raw := range coll.Value {
			var it lifecycleItem
			if json.Unmarshal(raw, &it) == nil {
				h.lifecycle = append(h.lifecycle, it)
			}
		}
	case subscription.NotificationPath:
		for _, raw := range coll.Value {
			var it struct {
				SubscriptionID string `json:"subscriptionId"`
				ClientState    string `json:"clientState"`
			}
			if json.Unmarshal(raw, &it) != nil {
				continue
			}
			rec, ok, err := h.store.LookupSubscription(r.Context(), it.SubscriptionID)
			if err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			if !ok || rec.ClientState != it.ClientState {
				continue
			}
			if err := h.store.TouchNotification(r.Context(), it.SubscriptionID, h.clock()); err != nil {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			h.mu.Lock()
			h.changes++
			h.mu.Unlock()
		}
	default:
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

func (h *hook) lifecycleEvents() []lifecycleItem {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]lifecycleItem(nil), h.lifecycle...)
}

// clients hands out the real Graph client of each simulated tenant; wrap,
// when set, lets a test interpose on one tenant's calls.
type clients struct {
	mu      sync.Mutex
	byID    map[string]subscription.SubscriptionAPI
	unknown map[string]bool
	wrap    func(tenant string, api subscription.SubscriptionAPI) subscription.SubscriptionAPI
}

func (c *clients) Subscriptions(_ context.Context, tenantID string) (subscription.SubscriptionAPI, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	api, ok := c.byID[tenantID]
	if !ok || c.unknown[tenantID] {
		return nil, fmt.Errorf("tenant %s: %w", tenantID, subscription.ErrUnknownTenant)
	}
	if c.wrap != nil {
		return c.wrap(tenantID, api), nil
	}
	return api, nil
}

func (c *clients) forget(tenantID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.unknown == nil {
		c.unknown = map[string]bool{}
	}
	c.unknown[tenantID] = true
}

// run is one run a recording enqueuer accepted.
type run struct {
	ID, Tenant, Mode, Reason string
	// At is when it was accepted, when the recorder has a clock.
	At time.Time
}

// runs records enqueued runs and, like asynq with TaskID, refuses an id it
// already holds (answering nil, as the adapter does). failNext makes the
// next call fail.
type runs struct {
	mu       sync.Mutex
	byID     map[string]run
	order    []string
	calls    int
	failNext error
	clock    func() time.Time
}

func newRuns() *runs { return &runs{byID: map[string]run{}} }

// EnqueueRun records the run with the worker's mode name for full or not.
func (r *runs) EnqueueRun(_ context.Context, id, tenantID string, full bool, reason string) error {
	mode := worker.ModeIncremental
	if full {
		mode = worker.ModeFull
	}
	return r.record(id, tenantID, mode, reason)
}

func (r *runs) record(id, tenantID, mode, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if err := r.failNext; err != nil {
		r.failNext = nil
		return err
	}
	if _, dup := r.byID[id]; dup {
		return nil
	}
	x := run{ID: id, Tenant: tenantID, Mode: mode, Reason: reason}
	if r.clock != nil {
		x.At = r.clock()
	}
	r.byID[id] = x
	r.order = append(r.order, id)
	return nil
}

// EnqueueEnsure lets the same recorder stand in for SubscriptionJobs.
func (r *runs) EnqueueEnsure(_ context.Context, id, tenantID, reason string) error {
	return r.record(id, tenantID, "ensure", reason)
}

func (r *runs) all() []run {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]run, 0, len(r.order))
	for _, id := range r.order {
		out = append(out, r.byID[id])
	}
	return out
}

// matching returns the accepted runs whose id starts with prefix.
func (r *runs) matching(prefix string) []run {
	var out []run
	for _, x := range r.all() {
		if strings.HasPrefix(x.ID, prefix) {
			out = append(out, x)
		}
	}
	return out
}

// bundle is a Graph simulator with tenants, their real Graph clients, a
// webhook that answers the handshake, a store, a recording run queue and a
// manager, all on one fake clock.
type bundle struct {
	t       *testing.T
	clock   *fakeClock
	sim     *graphsim.Sim
	redis   testRedis
	store   *subscription.Store
	hook    *hook
	clients *clients
	runs    *runs
	mgr     *subscription.Manager
	tenants []string
}

var simStart = time.Date(2025, 3, 3, 9, 0, 0, 0, time.UTC)

func setup(t *testing.T, tenants []string, tune func(*subscription.Config)) *bundle {
	t.Helper()
	b := &bundle{t: t, clock: newClock(simStart), runs: newRuns(), tenants: tenants}
	opts := []graphsim.Option{graphsim.WithClock(b.clock.Now), graphsim.WithDeliveryRetry(2, 10*time.Millisecond)}
	for i, id := range tenants {
		opts = append(opts, graphsim.WithGeneratedTenant(id, 4, int64(i+1)))
	}
	b.sim = graphsim.NewServer(t, opts...)
	b.redis = newRedis(t)
	b.store = subscription.NewStore(b.redis.rdb, b.redis.prefix)
	b.hook = newHook(t, b.store, b.clock.Now)
	b.clients = &clients{byID: map[string]subscription.SubscriptionAPI{}}
	for _, id := range tenants {
		b.clients.byID[id] = b.graphClient(id)
	}
	cfg := subscription.Config{PublicURL: b.hook.srv.URL, Clock: b.clock.Now}
	if tune != nil {
		tune(&cfg)
	}
	var err error
	b.mgr, err = subscription.NewManager(b.store, b.clients, b.runs, cfg)
	require.NoError(t, err)
	return b
}

// graphClient builds the real Graph client of a simulated tenant, with the
// real token flow.
func (b *bundle) graphClient(tenant string) *graph.Client {
	b.t.Helper()
	authority, base, id, secret := b.sim.GraphConfig(tenant)
	c, err := graph.New(context.Background(), graph.Config{
		TenantID: tenant, ClientID: id, ClientSecret: secret, AuthorityHost: authority, BaseURL: base,
	}, graph.WithHTTPClient(b.sim.HTTPClient()), graph.WithThrottleRetry(0, 0))
	require.NoError(b.t, err)
	return c
}

// live returns the tenant's subscriptions at Graph.
func (b *bundle) live(tenant string) []graphsim.Subscription { return b.sim.Subscriptions(tenant) }

// only returns the tenant's single subscription at Graph.
func (b *bundle) only(tenant string) graphsim.Subscription {
	b.t.Helper()
	subs := b.live(tenant)
	require.Len(b.t, subs, 1, "tenant %s must have exactly one subscription", tenant)
	return subs[0]
}

// record returns the tenant's stored record.
func (b *bundle) record(tenant string) subscription.Record {
	b.t.Helper()
	rec, ok, err := b.store.ByTenant(context.Background(), tenant)
	require.NoError(b.t, err)
	require.True(b.t, ok, "tenant %s has a record", tenant)
	return rec
}

// ensureAll ensures every tenant and fails the test on any error.
func (b *bundle) ensureAll() {
	b.t.Helper()
	for _, id := range b.tenants {
		_, err := b.mgr.Ensure(context.Background(), id)
		require.NoError(b.t, err, "ensure %s", id)
	}
}

// graphCalls counts the simulator's recorded Graph requests by "METHOD
// kind" (kind: subscriptions, subscription, reauthorize).
func (b *bundle) graphCalls() map[string]int {
	out := map[string]int{}
	for _, r := range b.sim.Requests() {
		if !strings.HasPrefix(r.Path, "/v1.0/subscriptions") {
			continue
		}
		kind := "subscription"
		switch {
		case r.Path == "/v1.0/subscriptions":
			kind = "subscriptions"
		case strings.HasSuffix(r.Path, "/reauthorize"):
			kind = "reauthorize"
		}
		out[r.Method+" "+kind]++
	}
	return out
}

// expectedExpiry is what the manager asks for at now with the default
// lifetime (Graph's maximum less the skew allowance).
func expectedExpiry(now time.Time) time.Time {
	return now.Add(subscription.MaxExpiry - 2*time.Minute).Truncate(time.Second)
}

// spy records the manager's Graph calls with the fake clock's time.
type spy struct {
	subscription.SubscriptionAPI
	clock func() time.Time
	mu    sync.Mutex
	calls []spyCall
	// beforeRenew runs before each RenewSubscription (to stage races).
	beforeRenew func(id string)
}

type spyCall struct {
	Op, ID string
	At     time.Time
}

func (s *spy) note(op, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, spyCall{Op: op, ID: id, At: s.clock()})
}

func (s *spy) RenewSubscription(ctx context.Context, id string, expiry time.Time) (directory.Subscription, error) {
	if s.beforeRenew != nil {
		s.beforeRenew(id)
	}
	s.note("renew", id)
	return s.SubscriptionAPI.RenewSubscription(ctx, id, expiry)
}

func (s *spy) CreateSubscription(ctx context.Context, sub directory.Subscription) (directory.Subscription, error) {
	out, err := s.SubscriptionAPI.CreateSubscription(ctx, sub)
	s.note("create", out.ID)
	return out, err
}

func (s *spy) DeleteSubscription(ctx context.Context, id string) error {
	s.note("delete", id)
	return s.SubscriptionAPI.DeleteSubscription(ctx, id)
}

func (s *spy) ops() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.calls))
	for _, c := range s.calls {
		out = append(out, c.Op)
	}
	return out
}

// sortedTenants returns the tenant ids of statuses, in order.
func sortedTenants(st []subscription.Status) []string {
	out := make([]string, 0, len(st))
	for _, s := range st {
		out = append(out, s.TenantID)
	}
	sort.Strings(out)
	return out
}
