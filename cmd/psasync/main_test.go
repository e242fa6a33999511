package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
)

// binary is the psasync command built once for these tests: they run the
// real command as a user would, each in its own process.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "psasync-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "psasync")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build psasync:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one psasync process did.
type result struct {
	code           int
	stdout, stderr string
}

// psasync runs the command with args (and extra environment) until it
// exits or ctx ends.
func psasync(t *testing.T, ctx context.Context, env []string, args ...string) result {
	t.Helper()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(cleanEnv(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 40 * time.Second
	err := cmd.Run()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		require.True(t, ok, "psasync %v: %v", args, err)
		code = ee.ExitCode()
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// run runs psasync to completion within a minute.
func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return psasync(t, ctx, nil, args...)
}

// cleanEnv is this process's environment without PSASYNC_CONFIG.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, configEnv+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// testRedis points a config at the Redis of TEST_REDIS_ADDR under a key
// and queue prefix of its own, or at a miniredis of the test's own (which
// the psasync process reaches over TCP).
func testRedis(t testing.TB, c *config.Config) {
	t.Helper()
	if addr := os.Getenv("TEST_REDIS_ADDR"); addr != "" {
		c.Redis.Addr = addr
		c.Redis.KeyPrefix = fmt.Sprintf("psasync-cli-test:%s:%d:", strings.ReplaceAll(t.Name(), "/", "_"), time.Now().UnixNano())
		c.Redis.QueuePrefix = c.Redis.KeyPrefix
		return
	}
	mr := miniredis.RunT(t)
	t.Cleanup(app.FollowRealTime(mr))
	c.Redis.Addr = mr.Addr()
}

// writeSimConfig starts a simulated world and writes its config to a file,
// as psasim --write-config does; mutate may change it first.
func writeSimConfig(t *testing.T, mutate func(*config.Config)) (string, *simenv.Env) {
	t.Helper()
	env, err := simenv.Start(context.Background(), simenv.Options{Users: 20, Unlimited: true})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	path := filepath.Join(t.TempDir(), "psasync.yaml")
	require.NoError(t, env.WriteConfig(path))
	if mutate != nil {
		c, err := config.Load(path)
		require.NoError(t, err)
		mutate(c)
		b, err := yaml.Marshal(c)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(path, b, 0o600))
	}
	return path, env
}

// validationHook answers Graph's validation handshake, standing in for the
// webhook when only `psasync subscriptions` runs.
func validationHook(t *testing.T) string {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if tok := r.URL.Query().Get("validationToken"); tok != "" {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = w.Write([]byte(tok))
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(s.Close)
	return s.URL
}

// subscribableConfig is a simulated world's config on the test Redis
// whose public URL answers Graph's validation handshake.
func subscribableConfig(t *testing.T) (string, *simenv.Env) {
	t.Helper()
	hook := validationHook(t)
	return writeSimConfig(t, func(c *config.Config) {
		testRedis(t, c)
		c.Server.PublicURL = hook
	})
}

// commands lists every command that does work, as its argument path.
var commands = [][]string{
	{"sync"}, {"serve"}, {"webhook"}, {"worker"}, {"scheduler"},
	{"subscriptions", "list"}, {"subscriptions", "ensure"}, {"subscriptions", "delete"},
	{"changes"}, {"runs"},
	{"conflicts", "list"}, {"conflicts", "resolve"}, {"conflicts", "ignore"},
	{"held", "list"}, {"held", "approve"}, {"held", "reject"},
	{"quarantine", "list"}, {"quarantine", "release"}, {"sync-user"},
}

// roleArgs are extra flags a command needs to run in a test (a free port).
func roleArgs(cmd []string) []string {
	switch strings.Join(cmd, " ") {
	case "serve", "webhook":
		return []string{"--listen", "127.0.0.1:0"}
	case "conflicts resolve":
		return []string{"--user", "u1", "--contact", "1"}
	case "conflicts ignore":
		return []string{"--user", "u1"}
	case "held approve", "held reject":
		return []string{"batch-1"}
	case "sync-user":
		return []string{"--upn", "alice@contoso.example"}
	}
	return nil
}
