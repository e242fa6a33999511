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
}

// roleArgs are extra flags a command needs to run in a test (a free port).
func roleArgs(cmd []string) []string {
	switch cmd[0] {
	case "serve", "webhook":
		return []string{"--listen", "127.0.0.1:0"}
	}
	return nil
}

func TestHelpExitsZeroOnStdout(t *testing.T) {
	t.Parallel()
	cases := [][]string{{"--help"}, {"-h"}, {"help"}, {"version", "--help"}, {"completion", "--help"}, {"subscriptions", "--help"}, {"help", "subscriptions"}}
	for _, c := range commands {
		cases = append(cases, append(append([]string{}, c...), "--help"), append(append([]string{}, c...), "-h"), append([]string{"help"}, c...))
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, args...)
			require.Equal(t, exitOK, r.code, r.stderr)
			require.Contains(t, r.stdout, "Usage:")
			require.Empty(t, r.stderr)
		})
	}
	r := run(t, "help", "sync")
	require.Contains(t, r.stdout, "--dry-run", "help CMD shows that command's flags")
	require.Contains(t, r.stdout, "--config string")
	require.Contains(t, r.stdout, "PSASYNC_CONFIG")
}

func TestVersionAndCompletion(t *testing.T) {
	t.Parallel()
	r := run(t, "version")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "module:   github.com/psasync/psasync")
	require.Contains(t, r.stdout, "revision:")
	require.Contains(t, r.stdout, "go:       go1.")
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := run(t, "completion", shell)
		require.Equal(t, exitOK, r.code, "%s: %s", shell, r.stderr)
		require.Contains(t, r.stdout, "psasync", shell)
	}
}

func TestBadFlagsExitTwo(t *testing.T) {
	t.Parallel()
	cases := [][]string{{"frobnicate"}, {"subscriptions"}, {"subscriptions", "renew"}, {"version", "extra"}}
	for _, c := range commands {
		cases = append(cases, append(append([]string{}, c...), "--no-such-flag"), append(append([]string{}, c...), "extra"))
	}
	cases = append(cases, []string{"sync", "--progress", "sometimes"}, []string{"worker", "--concurrency", "many"})
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, args...)
			require.Equal(t, exitBadArgs, r.code, "stdout %s stderr %s", r.stdout, r.stderr)
			require.NotEmpty(t, r.stderr, "names what was wrong")
		})
	}
}

func TestBadConfigExitsTwo(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "psasync.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("psa: {type: sap}\ntenants: [{name: x}]\nsync: {deactivation_guard: 3}\n"), 0o600))
	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, c := range commands {
		t.Run(strings.Join(c, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, append(append(append([]string{}, c...), "--config", bad), roleArgs(c)...)...)
			require.Equal(t, exitBadArgs, r.code, r.stderr)
			for _, key := range []string{"psa.type", "tenants[0].id", "sync.deactivation_guard"} {
				require.Contains(t, r.stderr, key)
			}
			r = run(t, append(append(append([]string{}, c...), "--config", missing), roleArgs(c)...)...)
			require.Equal(t, exitBadArgs, r.code, r.stderr)
			require.Contains(t, r.stderr, "missing.yaml")
		})
	}
}

func TestConfigFromEnvironment(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "from-env.yaml")
	for _, c := range commands {
		t.Run(strings.Join(c, " "), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			r := psasync(t, ctx, []string{configEnv + "=" + missing}, append(append([]string{}, c...), roleArgs(c)...)...)
			require.Equal(t, exitBadArgs, r.code, r.stderr)
			require.Contains(t, r.stderr, "from-env.yaml", "$PSASYNC_CONFIG is the config file")
		})
	}
	path, env := writeSimConfig(t, func(c *config.Config) { testRedis(t, c) })
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r := psasync(t, ctx, []string{configEnv + "=" + path}, "sync", "--mode", "full")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NotZero(t, env.PSA.Stats().Writes)
}

func TestUnreachableRedisExitsOne(t *testing.T) {
	t.Parallel()
	hook := validationHook(t)
	path, env := writeSimConfig(t, func(c *config.Config) {
		c.Redis.Addr = "127.0.0.1:1" // nothing listens there
		c.Server.PublicURL = hook
	})
	for _, c := range commands {
		t.Run(strings.Join(c, " "), func(t *testing.T) {
			t.Parallel()
			r := run(t, append(append(append([]string{}, c...), "--config", path), roleArgs(c)...)...)
			require.Equal(t, exitFailed, r.code, r.stderr)
			require.Contains(t, r.stderr, "127.0.0.1:1")
		})
	}
	require.Zero(t, env.PSA.Stats().Writes)
}

func TestSyncCommandExitCodes(t *testing.T) {
	t.Parallel()
	path, env := writeSimConfig(t, func(c *config.Config) { testRedis(t, c) })

	r := run(t, "sync", "--config", path, "--mode", "full", "--dry-run", "--progress", "never")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"dry_run": true`, "stdout is the report JSON")
	require.Zero(t, env.PSA.Stats().Writes, "dry run")

	r = run(t, "sync", "--config", path, "--mode", "full")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NotZero(t, env.PSA.Stats().Writes)

	bad := [][]string{
		{"sync", "--config", path, "--mode", "sideways"},
		{"sync", "--config", path, "--upn", "not-an-upn"},
		{"sync", "--config", path, "--tenant", "nobody"},
	}
	for _, args := range bad {
		writes := env.PSA.Stats().Writes
		r := run(t, args...)
		require.Equal(t, exitBadArgs, r.code, "%v: %s", args, r.stderr)
		require.NotEmpty(t, r.stderr, "%v names what was wrong", args)
		require.Equal(t, writes, env.PSA.Stats().Writes, "%v writes nothing", args)
	}
	require.Contains(t, run(t, bad[0]...).stderr, "--mode")
	require.Contains(t, run(t, bad[2]...).stderr, "--tenant")
}

func TestSyncCommandFailedRunExitsOne(t *testing.T) {
	t.Parallel()
	path, _ := writeSimConfig(t, func(c *config.Config) {
		testRedis(t, c)
		c.Tenants[0].PSADefaultCompanyID = ""
	})
	r := run(t, "sync", "--config", path, "--mode", "full")
	require.Equal(t, exitFailed, r.code, r.stderr)
	require.Contains(t, r.stdout, `"success": false`)
	require.Contains(t, r.stdout, "MissingCompanyID")
}

func TestSubscriptionsCommand(t *testing.T) {
	t.Parallel()
	path, env := subscribableConfig(t)
	r := run(t, "subscriptions", "ensure", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	live := env.Graph.Subscriptions(env.Tenants[0])
	require.Len(t, live, 1, "one live subscription at Graph")
	r = run(t, "subscriptions", "list", "--config", path, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"health": "healthy"`)
	require.Contains(t, r.stdout, live[0].ID)
	require.NotContains(t, r.stdout, "clientState", "the secret is never listed")

	require.Equal(t, exitOK, run(t, "subscriptions", "ensure", "--config", path).code)
	require.Len(t, env.Graph.Subscriptions(env.Tenants[0]), 1, "ensure twice keeps one")

	require.Equal(t, exitOK, run(t, "subscriptions", "delete", "--config", path).code)
	require.Empty(t, env.Graph.Subscriptions(env.Tenants[0]))
	r = run(t, "subscriptions", "list", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "none")

	require.Equal(t, exitBadArgs, run(t, "subscriptions", "list", "--config", path, "--tenant", "nobody").code)
}
