package app_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/internal/redistest"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker"
)

// haWorld is a simulated world whose psasync config points at the given
// Redis section, with a key and queue prefix of the test's own when the
// Redis was started elsewhere (TEST_REDIS_SENTINEL_ADDRS,
// TEST_REDIS_CLUSTER_ADDRS).
func haWorld(t *testing.T, users int, redisCfg config.Redis, external bool) (*simenv.Env, *config.Config) {
	t.Helper()
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: users, Unlimited: true})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	cfg.Redis = redisCfg
	if external {
		cfg.Redis.KeyPrefix = fmt.Sprintf("psasync-test:%s:%d:", t.Name(), time.Now().UnixNano())
		cfg.Redis.QueuePrefix = cfg.Redis.KeyPrefix
	}
	cfg.Redis.KeyPrefix = cfg.Redis.Prefix()
	cfg.PSA.Quota = &quota.Config{Requests: 100000, Period: time.Hour, MaxConcurrent: 4}
	cfg.Server.APIToken = testAPIToken
	require.NoError(t, cfg.Validate())
	return env, cfg
}

// logCatcher records log lines that contain any of its words.
type logCatcher struct {
	words []string
	mu    sync.Mutex
	seen  []string
}

func (c *logCatcher) Levels() []logrus.Level { return logrus.AllLevels }

func (c *logCatcher) Fire(e *logrus.Entry) error {
	line, _ := e.String()
	for _, w := range c.words {
		if strings.Contains(line, w) {
			c.mu.Lock()
			c.seen = append(c.seen, line)
			c.mu.Unlock()
		}
	}
	return nil
}

func (c *logCatcher) lines() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.seen...)
}

func catchingLogger(words ...string) (*logrus.Logger, *logCatcher) {
	l := quietLogger()
	l.Level = logrus.DebugLevel
	c := &logCatcher{words: words}
	l.AddHook(c)
	return l, c
}

// TestClusterRunsTheCorePath runs psasync on a three-master Redis Cluster:
// subscriptions ensured, a full run through the queue, a notification
// turned into a job and a PSA write, the runs API. Every script and
// transaction must stay in one slot, or Cluster answers CROSSSLOT.
func TestClusterRunsTheCorePath(t *testing.T) {
	t.Parallel()
	addrs := redistest.StartCluster(t)
	env, cfg := haWorld(t, 20, config.Redis{Cluster: config.RedisCluster{Addrs: addrs}}, os.Getenv(redistest.EnvClusterAddrs) != "")
	log, caught := catchingLogger("CROSSSLOT", "crossslot", "cross slot")
	nb := startNodeWith(t, env, cfg, nodeOpts{roles: app.RoleWebhook | app.RoleWorker, subscribe: true, logger: log})
	ctx := context.Background()

	rec, ok, err := nb.n.Subscriptions().ByTenant(ctx, nb.tenant)
	require.NoError(t, err)
	require.True(t, ok, "the subscription is stored on the cluster")
	require.Equal(t, "healthy", rec.Health)

	// A full run through the queue (tenant:sync), as the API starts it.
	status, body := nb.api(t, http.MethodPost, "/api/v1/sync", map[string]any{"sync_mode": "full"})
	require.Equal(t, http.StatusAccepted, status, string(body))
	var started struct {
		RunID string `json:"run_id"`
	}
	require.NoError(t, json.Unmarshal(body, &started))
	var run worker.RunRecord
	require.Eventually(t, func() bool {
		r, ok, err := nb.n.Engine().Store().Run(ctx, started.RunID)
		run = r
		return err == nil && ok && r.Report != nil
	}, 30*time.Second, 50*time.Millisecond, "the run never finished")
	require.True(t, run.Report.Success, "errors: %+v", run.Report.Errors)
	status, body = nb.api(t, http.MethodGet, "/api/v1/runs", nil)
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, string(body), started.RunID)
	nb.waitIdle(t)

	// A notification becomes a job and one PSA write.
	u := firstSyncable(t, nb.testBundle)
	before := env.PSA.Stats().Writes
	_, err = env.Graph.UpdateUser(nb.tenant, u.ID, map[string]any{"jobTitle": "Clustered"})
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, nb.postNotification(t, notification(rec.ID, rec.ClientState, nb.tenant, u.ID)))
	nb.waitContact(t, u.ID, func(c simenv.Contact) bool { return c.Title == "Clustered" })
	nb.waitIdle(t)
	require.Equal(t, 1, env.PSA.Stats().Writes-before, "one PSA write for the change")
	out, ok, err := nb.n.Engine().Store().UserOutcome(ctx, nb.tenant, u.ID)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, "updated", out.Action)

	// Subscription upkeep (renewal path) saves the record again.
	_, err = nb.n.Manager().Ensure(ctx, nb.tenant)
	require.NoError(t, err)
	require.Empty(t, caught.lines(), "no command spanned slots")
}
