package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// testAPIToken is the bearer token of test nodes.
const testAPIToken = "test-token-0123456789abcdef"

// nodeBundle is a running psasync process (in this test process) with its
// simulated world: the webhook listens on a free port, the Graph simulator
// is subscribed to it and posts real notifications.
type nodeBundle struct {
	*testBundle
	n      *app.Node
	cancel context.CancelFunc
	done   chan error
}

type nodeOpts struct {
	setupOpts
	roles     app.Role
	subscribe bool // create the tenant's Graph subscription (handshake included)
	// redis, when set, is the Redis address to use (shared between nodes).
	redis  string
	prefix string
	tune   func(*config.Config)
	// clock drives subscription upkeep (a simulated week).
	clock func() time.Time
	// logger receives the node's log (default: discarded).
	logger *logrus.Logger
	// consentEvery shortens the scheduled consent checks.
	consentEvery time.Duration
}

func startNode(t *testing.T, o nodeOpts) *nodeBundle {
	t.Helper()
	if o.users == 0 {
		o.users = 30
	}
	if o.roles == 0 {
		o.roles = app.RoleServe
	}
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: o.psa, Users: o.users, SeedPSA: o.seedPSA, Unlimited: true})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	if o.redis != "" {
		cfg.Redis.Addr, cfg.Redis.KeyPrefix = o.redis, o.prefix
	} else {
		testRedis(t, cfg)
	}
	cfg.PSA.Quota = &quota.Config{Requests: 100000, Period: time.Hour, MaxConcurrent: 4}
	cfg.Server.APIToken = testAPIToken
	if o.tune != nil {
		o.tune(cfg)
	}
	return startNodeWith(t, env, cfg, o)
}

// startNodeWith starts a node on an existing world (a second replica).
func startNodeWith(t testing.TB, env *simenv.Env, cfg *config.Config, o nodeOpts) *nodeBundle {
	t.Helper()
	if o.roles == 0 {
		o.roles = app.RoleServe
	}
	if o.logger == nil {
		o.logger = quietLogger()
	}
	n, err := app.NewNode(context.Background(), cfg, app.NodeOptions{Roles: o.roles, Listen: "127.0.0.1:0", Concurrency: 4,
		NoScheduler: true, ConsentCheckEvery: o.consentEvery, Clock: o.clock, World: env, Logger: o.logger})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	nb := &nodeBundle{testBundle: &testBundle{env: env, stack: n.App(), tenant: env.Tenants[0], company: simenv.DefaultCompanyID}, n: n, cancel: cancel, done: make(chan error, 1)}
	go func() { nb.done <- n.Run(ctx) }()
	t.Cleanup(nb.stop)
	if o.roles&app.RoleWebhook != 0 {
		require.Eventually(t, func() bool {
			resp, err := http.Get(n.BaseURL() + "/readyz")
			if err != nil {
				return false
			}
			resp.Body.Close()
			return resp.StatusCode == http.StatusOK
		}, 10*time.Second, 20*time.Millisecond, "node never became ready")
	}
	if o.subscribe {
		_, err := n.Manager().Ensure(context.Background(), nb.tenant)
		require.NoError(t, err, "subscribe (the simulator performs the handshake against our webhook)")
		// Creating the subscription enqueues a catch-up run: let it finish.
		nb.waitIdle(t)
	}
	return nb
}

// stop shuts the node down gracefully (SIGTERM's path) and waits for it.
func (nb *nodeBundle) stop() {
	if nb.cancel == nil {
		return
	}
	nb.cancel()
	select {
	case <-nb.done:
	case <-time.After(30 * time.Second):
	}
	nb.n.Close()
	nb.cancel = nil
}

// api calls the node's HTTP API with the test token.
func (nb *nodeBundle) api(t *testing.T, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, nb.n.BaseURL()+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+testAPIToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, b
}

// fullSync runs a full sync directly on the engine (no queue).
func (nb *nodeBundle) fullSync(t *testing.T) *worker.Report {
	t.Helper()
	return nb.run(t, worker.ModeFull, nil)
}

// waitContact waits until the contact linked to user satisfies ok.
func (nb *nodeBundle) waitContact(t *testing.T, userID string, ok func(simenv.Contact) bool) simenv.Contact {
	t.Helper()
	var last simenv.Contact
	require.Eventually(t, func() bool {
		for _, c := range nb.env.PSA.Contacts(nb.company) {
			if c.ExternalID == userID {
				last = c
				return ok(c)
			}
		}
		return false
	}, 20*time.Second, 20*time.Millisecond, "contact of %s never reached the expected state; last %+v", userID, last)
	return last
}

// queueEmpty reports whether no user job is waiting, scheduled or running.
func (nb *nodeBundle) queueIdle(t *testing.T) bool {
	t.Helper()
	info, err := asynq.NewInspector(nb.n.RedisConnOpt()).GetQueueInfo(nb.n.Queues().Default)
	if err != nil {
		return true // the queue does not exist yet: nothing was ever enqueued
	}
	return info.Pending+info.Scheduled+info.Active+info.Retry == 0
}

// notification is a Graph change notification collection for one user.
func notification(subID, clientState, tenant, userID string) map[string]any {
	return map[string]any{"value": []any{map[string]any{
		"subscriptionId": subID, "clientState": clientState, "tenantId": tenant, "changeType": "updated",
		"resource": "Users/" + userID, "subscriptionExpirationDateTime": time.Now().Add(time.Hour).Format(time.RFC3339),
		"resourceData": map[string]any{"@odata.type": "#Microsoft.Graph.User", "@odata.id": "Users/" + userID, "id": userID, "organizationId": tenant},
	}}}
}

func (nb *nodeBundle) postNotification(t *testing.T, body any) int {
	t.Helper()
	b, err := json.Marshal(body)
	require.NoError(t, err)
	resp, err := http.Post(nb.n.BaseURL()+"/webhook/graph", "application/json", bytes.NewReader(b))
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (nb *nodeBundle) queueInfo() (*asynq.QueueInfo, error) {
	return asynq.NewInspector(nb.n.RedisConnOpt()).GetQueueInfo(nb.n.Queues().Default)
}

// waitIdle waits until no job of any queue is waiting or running.
func (nb *nodeBundle) waitIdle(t testing.TB) {
	t.Helper()
	insp := asynq.NewInspector(nb.n.RedisConnOpt())
	require.Eventually(t, func() bool {
		for _, q := range nb.n.Queues().All() {
			info, err := insp.GetQueueInfo(q)
			if err == nil && info.Pending+info.Scheduled+info.Active+info.Retry > 0 {
				return false
			}
		}
		return true
	}, 30*time.Second, 20*time.Millisecond, "queues never became idle")
}
