package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// ingestClients is how many keep-alive HTTP clients post notifications at
// once in BenchmarkWebhookIngest (Graph delivers over many connections).
const ingestClients = 32

// benchRedisTarget is where a benchmark's Redis is.
type benchRedisTarget struct {
	addr string
	kind string // "TEST_REDIS_ADDR", "local redis-server" or "miniredis"
}

// benchRedis picks the Redis of TEST_REDIS_ADDR, else a redis-server on
// 127.0.0.1:6379 if one answers PING, else an in-process miniredis (whose
// figures say little about a real deployment; the benchmark logs which).
// On a real Redis the benchmark's queues and keys carry a prefix of their
// own (its hundreds of thousands of jobs must not reach other tests'
// workers) and are deleted when it ends.
func benchRedis(b *testing.B) benchRedisTarget {
	b.Helper()
	if addr := os.Getenv("TEST_REDIS_ADDR"); addr != "" {
		return benchRedisTarget{addr: addr, kind: "TEST_REDIS_ADDR"}
	}
	const local = "127.0.0.1:6379"
	c := redis.NewClient(&redis.Options{Addr: local, DialTimeout: 300 * time.Millisecond, MaxRetries: -1})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if c.Ping(ctx).Err() == nil {
		return benchRedisTarget{addr: local, kind: "local redis-server"}
	}
	mr := miniredis.RunT(b)
	b.Cleanup(app.FollowRealTime(mr))
	return benchRedisTarget{addr: mr.Addr(), kind: "miniredis"}
}

// benchNode is a psasync node started for a benchmark, with its simulated
// world and the tenant's subscription in place.
type benchNode struct {
	env         *simenv.Env
	n           *app.Node
	tenant      string
	subID       string
	clientState string
	insp        *asynq.Inspector
}

type benchNodeOpts struct {
	roles       app.Role
	users       int
	concurrency int
	graph       []graphsim.Option
	// psaURL, when set, replaces the PSA's address (a proxy).
	psaURL func(env *simenv.Env) string
}

// startBenchNode starts a node as `psasync serve` wires it (real webhook,
// subscription store, queue and, with app.RoleWorker, workers) against the
// benchmark Redis, and subscribes the tenant: the Graph simulator performs
// the validation handshake against the node's webhook.
func startBenchNode(b *testing.B, rt benchRedisTarget, o benchNodeOpts) *benchNode {
	b.Helper()
	ctx := context.Background()
	env, err := simenv.Start(ctx, simenv.Options{PSA: config.PSAConnectWise, Users: o.users, Unlimited: true, GraphOptions: o.graph})
	require.NoError(b, err)
	b.Cleanup(env.Close)
	cfg := env.Config
	if o.psaURL != nil {
		cfg.PSA.ConnectWise.SiteURL = o.psaURL(env)
	}
	cfg.Redis.Addr = rt.addr
	cfg.Redis.KeyPrefix = fmt.Sprintf("psasync-bench:%d:", time.Now().UnixNano())
	cfg.Redis.QueuePrefix = cfg.Redis.KeyPrefix
	cfg.PSA.Quota = &quota.Config{} // unlimited: the benchmarks measure psasync, not the budget
	cfg.Server.APIToken = testAPIToken
	n, err := app.NewNode(ctx, cfg, app.NodeOptions{Roles: o.roles | app.RoleWebhook, Listen: "127.0.0.1:0", Concurrency: o.concurrency,
		NoScheduler: true, World: env, Logger: quietLogger()})
	require.NoError(b, err)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- n.Run(runCtx) }()
	bn := &benchNode{env: env, n: n, tenant: env.Tenants[0], insp: asynq.NewInspector(n.RedisConnOpt())}
	b.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
		}
		_ = bn.insp.Close()
		n.Close()
		if rt.kind != "miniredis" {
			cleanTestRedis(b, rt.addr, cfg.Redis.DB, cfg.Redis.KeyPrefix, n.Queues())
		}
	})
	require.Eventually(b, func() bool {
		resp, err := http.Get(n.BaseURL() + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 10*time.Second, 20*time.Millisecond, "node never became ready")
	_, err = n.Manager().Ensure(ctx, bn.tenant)
	require.NoError(b, err, "subscribe (the simulator performs the handshake against our webhook)")
	rec, ok, err := n.Subscriptions().ByTenant(ctx, bn.tenant)
	require.NoError(b, err)
	require.True(b, ok)
	bn.subID, bn.clientState = rec.ID, rec.ClientState
	return bn
}

// dropQueued empties the default queue between benchmark rounds so Redis
// does not grow with every b.N the framework tries.
func (bn *benchNode) dropQueued(b *testing.B) {
	b.Helper()
	_, err := bn.insp.DeleteAllPendingTasks(bn.n.Queues().Default)
	if err != nil && !queueMissing(err) {
		require.NoError(b, err)
	}
	_, err = bn.insp.DeleteAllScheduledTasks(bn.n.Queues().Default)
	if err != nil && !queueMissing(err) {
		require.NoError(b, err)
	}
}

// notificationTemplate is a collection of batch items whose user ids are
// filled in per request by copying bytes, so the load generator spends its
// CPU on HTTP, not on JSON.
type notificationTemplate struct {
	body []byte
	// slots[i] are the offsets of item i's 12-character id suffix (its
	// resource, @odata.id and id).
	slots [][]int
}

const idSlot = 12

func newNotificationTemplate(b *testing.B, bn *benchNode, batch int) *notificationTemplate {
	b.Helper()
	items := make([]any, batch)
	marks := make([]string, batch)
	for i := range items {
		marks[i] = fmt.Sprintf("ZZZZZZZZ%04d", i) // not hex: cannot occur elsewhere
		uid := "7a1d0c3e-0000-4000-8000-" + marks[i]
		items[i] = notification(bn.subID, bn.clientState, bn.tenant, uid)["value"].([]any)[0]
	}
	body, err := json.Marshal(map[string]any{"value": items})
	require.NoError(b, err)
	t := &notificationTemplate{body: body, slots: make([][]int, batch)}
	for i, m := range marks {
		for off := 0; ; {
			k := bytes.Index(body[off:], []byte(m))
			if k < 0 {
				break
			}
			t.slots[i] = append(t.slots[i], off+k)
			off += k + len(m)
		}
		require.Len(b, t.slots[i], 3, "item %d names its user three times", i)
	}
	return t
}

// fill writes a copy of the template into buf with item i's user id ending
// in the hex of ids(i).
func (t *notificationTemplate) fill(buf []byte, ids func(i int) uint64) []byte {
	buf = append(buf[:0], t.body...)
	const hexdigits = "0123456789abcdef"
	for i, offs := range t.slots {
		v := ids(i)
		var h [idSlot]byte
		for k := idSlot - 1; k >= 0; k-- {
			h[k] = hexdigits[v&0xf]
			v >>= 4
		}
		for _, off := range offs {
			copy(buf[off:], h[:])
		}
	}
	return buf
}

// latencies collects request durations from many goroutines.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d []time.Duration) {
	l.mu.Lock()
	l.d = append(l.d, d...)
	l.mu.Unlock()
}

// report sorts the samples and reports p50 and p99 in milliseconds.
func (l *latencies) report(b *testing.B, unit string) (p50, p99 time.Duration) {
	b.Helper()
	if len(l.d) == 0 {
		return 0, 0
	}
	slices.Sort(l.d)
	p50, p99 = l.d[len(l.d)*50/100], l.d[min(len(l.d)-1, len(l.d)*99/100)]
	b.ReportMetric(float64(p50.Microseconds())/1000, "p50-"+unit+"-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, "p99-"+unit+"-ms")
	return p50, p99
}

// BenchmarkWebhookIngest measures POST /webhook/graph through the real
// node: gin, the notification parser, the subscription lookup in Redis, the
// coalescing script and the asynq enqueue of every user's job, and the
// notification timestamp. ingestClients keep-alive clients post over
// loopback. Every notification names a different user (each opens a
// coalescing window and enqueues a job), except in the hot100 variant where
// 100 users change over and over (most notifications hit an open window).
// Reported: notifications/s and the p50/p99 latency of the 202. Targets:
// ≥25,000/s single-item, ≥100,000/s in batches of 50, p99 ≤ 25 ms.
func BenchmarkWebhookIngest(b *testing.B) {
	rt := benchRedis(b)
	b.Logf("redis: %s (%s)", rt.kind, rt.addr)
	bn := startBenchNode(b, rt, benchNodeOpts{roles: app.RoleWebhook, users: 10})
	var run atomic.Uint64 // makes every round's user ids new
	for _, tc := range []struct {
		name  string
		batch int
		hot   uint64 // 0: every notification a new user
	}{
		{"batch=1", 1, 0},
		{"batch=50", 50, 0},
		{"batch=50-hot100", 50, 100},
	} {
		tmpl := newNotificationTemplate(b, bn, tc.batch)
		b.Run(tc.name, func(b *testing.B) {
			bn.dropQueued(b)
			round := run.Add(1) << 36
			tr := &http.Transport{MaxIdleConnsPerHost: ingestClients, MaxConnsPerHost: ingestClients, DisableCompression: true,
				DialContext: (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
			url := bn.n.BaseURL() + "/webhook/graph"
			var (
				next  atomic.Int64
				lat   latencies
				wg    sync.WaitGroup
				fails atomic.Int64
				first atomic.Value
			)
			b.SetBytes(int64(len(tmpl.body)))
			b.ResetTimer()
			for g := 0; g < ingestClients; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var buf []byte
					local := make([]time.Duration, 0, b.N/ingestClients+1)
					for {
						k := next.Add(1) - 1
						if k >= int64(b.N) {
							break
						}
						buf = tmpl.fill(buf, func(i int) uint64 {
							if tc.hot > 0 {
								return (uint64(k)*uint64(tc.batch) + uint64(i)) % tc.hot
							}
							return round | (uint64(k)*uint64(tc.batch) + uint64(i))
						})
						start := time.Now()
						resp, err := client.Post(url, "application/json", bytes.NewReader(buf))
						if err == nil {
							_, _ = io.Copy(io.Discard, resp.Body)
							resp.Body.Close()
							if resp.StatusCode != http.StatusAccepted {
								err = fmt.Errorf("status %d", resp.StatusCode)
							}
						}
						local = append(local, time.Since(start))
						if err != nil {
							fails.Add(1)
							first.CompareAndSwap(nil, err.Error())
						}
					}
					lat.add(local)
				}()
			}
			wg.Wait()
			b.StopTimer()
			if n := fails.Load(); n > 0 {
				b.Fatalf("%d of %d posts failed; first: %v", n, b.N, first.Load())
			}
			b.ReportMetric(float64(b.N*tc.batch)/b.Elapsed().Seconds(), "notifications/s")
			lat.report(b, "202")
		})
	}
}

// captureTransport lets the Graph simulator's validation handshakes through
// and keeps its change notifications (answering 202 for the receiver), so
// the benchmark posts each one itself and knows when its 202 came back.
type captureTransport struct {
	next     http.RoundTripper
	captured chan []byte
}

func (c captureTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Query().Has("validationToken") {
		return c.next.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	select {
	case c.captured <- body:
	default:
	}
	return &http.Response{StatusCode: http.StatusAccepted, Status: "202 Accepted", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{}, Body: io.NopCloser(strings.NewReader("")), Request: r}, nil
}

// BenchmarkEndToEndLatency measures how long a change in Microsoft 365
// takes to reach the PSA once psasync has accepted Graph's notification: a
// full node (webhook and workers) with the tenant subscribed and a first
// full sync done; each iteration changes a different user in the Graph
// simulator, posts the notification the simulator produced (kept back from
// its own delivery), and waits for the PSA's answer to the PATCH carrying
// the new value, timestamped by a proxy in front of the PSA simulator.
// Reported: p50/p99 from the 202 to the PSA write (target p50 ≤ 1 s) and
// from the POST to the PSA write. Run with e.g. -benchtime 50x.
func BenchmarkEndToEndLatency(b *testing.B) {
	rt := benchRedis(b)
	b.Logf("redis: %s (%s)", rt.kind, rt.addr)
	captured := make(chan []byte, 64)
	notifyClient := &http.Client{Transport: captureTransport{next: http.DefaultTransport, captured: captured}, Timeout: 10 * time.Second}
	var proxy *psaProxy
	bn := startBenchNode(b, rt, benchNodeOpts{roles: app.RoleWorker, users: 300, concurrency: 10,
		graph: []graphsim.Option{graphsim.WithNotificationClient(notifyClient)},
		psaURL: func(env *simenv.Env) string {
			proxy = newPSAProxy(b, env.PSA.Root())
			proxy.writes = make(chan psaWrite, 1024)
			return proxy.URL
		}})
	waitQueuesIdle(b, bn.insp, bn.n.Queues())
	in := worker.DefaultRunInputs(bn.tenant)
	in.SyncMode = worker.ModeFull
	rep, err := bn.n.Engine().Run(context.Background(), "bench-first-full-sync", in)
	require.NoError(b, err)
	require.True(b, rep.Success, "%+v", rep.Errors)
	var users []graphsim.User
	for _, u := range bn.env.Graph.Users(bn.tenant) {
		if syncable(u) {
			users = append(users, u)
		}
	}
	require.NotEmpty(b, users)
	drain(captured)
	drainWrites(proxy.writes)
	client := &http.Client{Timeout: 30 * time.Second}
	url := bn.n.BaseURL() + "/webhook/graph"
	var fromAccepted, fromPost, queueWait latencies
	store := bn.n.Engine().Store()
	nonce := time.Now().UnixNano()
	rng := mrand.New(mrand.NewPCG(uint64(nonce), 7))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Changes arrive at random moments, not in step with the workers'
		// polling of the queue (asynq polls an empty queue every 0.5-1.5 s,
		// and a change made right after a job ends would always wait the
		// whole pause).
		b.StopTimer()
		time.Sleep(time.Duration(rng.Int64N(int64(time.Second))))
		b.StartTimer()
		u := users[i%len(users)]
		title := fmt.Sprintf("E2E %d-%d", nonce%100000, i)
		_, err := bn.env.Graph.UpdateUser(bn.tenant, u.ID, map[string]any{"jobTitle": title})
		require.NoError(b, err)
		body := awaitNotification(b, captured, u.ID)
		start := time.Now()
		resp, err := client.Post(url, "application/json", bytes.NewReader(body))
		require.NoError(b, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		accepted := time.Now()
		require.Equal(b, http.StatusAccepted, resp.StatusCode)
		w := awaitWrite(b, proxy.writes, title)
		fromAccepted.add([]time.Duration{w.At.Sub(accepted)})
		fromPost.add([]time.Duration{w.At.Sub(start)})
		// The job's outcome records when it started: the rest is the
		// job itself (read the user from Graph, write the PSA).
		var began time.Time
		require.Eventually(b, func() bool {
			o, ok, err := store.UserOutcome(context.Background(), bn.tenant, u.ID)
			began = o.At
			return err == nil && ok && !o.At.Before(start.Add(-time.Second))
		}, 10*time.Second, 2*time.Millisecond, "no outcome for %s", u.ID)
		queueWait.add([]time.Duration{began.Sub(accepted)})
	}
	b.StopTimer()
	p50, p99 := fromAccepted.report(b, "e2e-from-202")
	fromPost.report(b, "e2e-from-post")
	queueWait.report(b, "202-to-job-start")
	b.Logf("%d changes: 202 -> PSA write p50 %s p99 %s", b.N, p50, p99)
}

// awaitNotification returns the next captured notification naming user.
func awaitNotification(b *testing.B, captured <-chan []byte, user string) []byte {
	b.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case body := <-captured:
			if bytes.Contains(body, []byte(user)) {
				return body
			}
		case <-timeout:
			b.Fatalf("the Graph simulator sent no notification for %s", user)
		}
	}
}

// awaitWrite returns the PSA write that carries want.
func awaitWrite(b *testing.B, writes <-chan psaWrite, want string) psaWrite {
	b.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case w := <-writes:
			if bytes.Contains(w.Body, []byte(want)) {
				return w
			}
		case <-timeout:
			b.Fatalf("no PSA write carried %q", want)
		}
	}
}

func drain(c <-chan []byte) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

func drainWrites(c <-chan psaWrite) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// waitQueuesIdle waits until no job of any queue is waiting or running.
func waitQueuesIdle(b *testing.B, insp *asynq.Inspector, queues worker.Queues) {
	b.Helper()
	require.Eventually(b, func() bool {
		for _, q := range queues.All() {
			info, err := insp.GetQueueInfo(q)
			if err == nil && info.Pending+info.Scheduled+info.Active+info.Retry > 0 {
				return false
			}
		}
		return true
	}, 60*time.Second, 20*time.Millisecond, "queues never became idle")
}
