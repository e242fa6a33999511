package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
)

func TestRolesRunAndStopOnSIGTERM(t *testing.T) {
	t.Parallel()
	path, _ := writeSimConfig(t, func(c *config.Config) { testRedis(t, c) })
	for _, role := range []string{"serve", "webhook", "worker", "scheduler"} {
		t.Run(role, func(t *testing.T) {
			t.Parallel()
			p := start(t, append([]string{role, "--config", path}, roleArgs([]string{role})...)...)
			if role == "serve" || role == "webhook" {
				waitReady(t, p.baseURL(t))
			} else {
				require.Eventually(t, func() bool { return strings.Contains(p.errOut(), "psasync started") }, 30*time.Second, 20*time.Millisecond)
			}
			require.Equal(t, exitOK, p.stop(t), p.errOut())
		})
	}
}

func TestListenFailureExitsOne(t *testing.T) {
	t.Parallel()
	path, _ := writeSimConfig(t, func(c *config.Config) { testRedis(t, c) })
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = taken.Close() })
	for _, role := range []string{"serve", "webhook"} {
		r := run(t, role, "--config", path, "--listen", taken.Addr().String())
		require.Equal(t, exitFailed, r.code, r.stderr)
		require.Contains(t, r.stderr, taken.Addr().String())
		r = run(t, role, "--config", path, "--listen", "no-port")
		require.Equal(t, exitBadArgs, r.code, "a malformed address is a bad flag: %s", r.stderr)
	}
}

func TestSubscriptionsFailureExitsOne(t *testing.T) {
	t.Parallel()
	path, env := subscribableConfig(t)
	env.Graph.InjectFault(graphsim.Fault{PathContains: "/subscriptions", Status: 403, Code: "Authorization_RequestDenied"})
	r := run(t, "subscriptions", "ensure", "--config", path)
	require.Equal(t, exitFailed, r.code, r.stderr)
	require.Contains(t, r.stderr, env.Tenants[0])
	require.Contains(t, r.stdout, "PermissionDenied", "the list still shows the tenant's state")
}

// TestJSONLogsOnlyWhileRedisRestarts runs `psasync serve` with JSON logs
// against a redis-server that is killed and restarted while runs happen,
// and checks that every line psasync wrote to stderr is a JSON object:
// go-redis, asynq, gin and net/http all log through logrus.
func TestJSONLogsOnlyWhileRedisRestarts(t *testing.T) {
	t.Parallel()
	rs := startRedisServer(t)
	path, env := writeSimConfig(t, func(c *config.Config) {
		c.Redis.Addr = rs.addr()
		c.Log = config.Log{Format: "json", Level: "debug"}
		c.Server.APIToken = "test-token-0123456789abcdef"
	})
	p := start(t, "serve", "--config", path, "--listen", "127.0.0.1:0")
	base := p.baseURL(t)
	waitReady(t, base)
	startRun := func() int {
		req, err := http.NewRequest(http.MethodPost, base+"/api/v1/sync", strings.NewReader(`{"sync_mode":"full"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer test-token-0123456789abcdef")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Equal(t, http.StatusAccepted, startRun())
	require.Eventually(t, func() bool { return env.PSA.Stats().Writes > 0 }, 30*time.Second, 50*time.Millisecond, "the first run wrote")

	rs.kill()
	time.Sleep(3 * time.Second) // workers, dispatchers and the scheduler hit a dead Redis
	resp, err := http.Get(base + "/readyz")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	rs.start()
	waitReady(t, base)
	require.Equal(t, http.StatusAccepted, startRun())
	time.Sleep(2 * time.Second)
	require.Equal(t, exitOK, p.stop(t))

	lines := strings.Split(strings.TrimSpace(p.errOut()), "\n")
	require.NotEmpty(t, lines)
	warnings := 0
	for i, line := range lines {
		var obj map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &obj), "stderr line %d is not a JSON object: %q", i+1, line)
		require.Contains(t, obj, "level")
		if obj["level"] == "warning" || obj["level"] == "error" {
			warnings++
		}
	}
	require.NotZero(t, warnings, "the outage was logged")
	t.Logf("%d stderr lines, all JSON; %d warnings or errors", len(lines), warnings)
}
