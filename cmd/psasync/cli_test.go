package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/worker"
)

// writeSimConfig starts a simulated world and writes its config to a file,
// as psasim --write-config does.
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

func TestSyncCommandExitCodes(t *testing.T) {
	t.Parallel()
	path, env := writeSimConfig(t, nil)
	ctx := context.Background()

	var out, errb bytes.Buffer
	code := run(ctx, []string{"sync", "--config", path, "--mode", "full", "--dry-run"}, &out, &errb)
	require.Equal(t, exitOK, code, errb.String())
	var rep worker.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep), "stdout is the report JSON")
	require.True(t, rep.DryRun)
	require.NotZero(t, rep.Statistics.ContactsCreated)
	require.Zero(t, env.PSA.Stats().Writes, "dry run")

	out.Reset()
	errb.Reset()
	require.Equal(t, exitOK, run(ctx, []string{"sync", "--config", path, "--mode", "full"}, &out, &errb), errb.String())
	require.NotZero(t, env.PSA.Stats().Writes)

	bad := [][]string{
		{"sync", "--config", path, "--mode", "sideways"},
		{"sync", "--config", path, "--upn", "not-an-upn"},
		{"sync", "--config", path, "--tenant", "nobody"},
		{"sync", "--config", filepath.Join(t.TempDir(), "missing.yaml")},
		{"sync", "--config", path, "--no-such-flag"},
		{"sync", "--config", path, "extra"},
		{"frobnicate"},
	}
	for _, args := range bad {
		errb.Reset()
		writes := env.PSA.Stats().Writes
		require.Equal(t, exitBadArgs, run(ctx, args, &out, &errb), "%v", args)
		require.NotEmpty(t, errb.String(), "%v names what was wrong", args)
		require.Equal(t, writes, env.PSA.Stats().Writes, "%v writes nothing", args)
	}
	errb.Reset()
	run(ctx, []string{"sync", "--config", path, "--mode", "sideways"}, &out, &errb)
	require.Contains(t, errb.String(), "--mode")
}

func TestSyncCommandFailedRunExitsOne(t *testing.T) {
	t.Parallel()
	path, _ := writeSimConfig(t, func(c *config.Config) { c.Tenants[0].PSADefaultCompanyID = "" })
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"sync", "--config", path, "--mode", "full"}, &out, &errb)
	require.Equal(t, exitFailed, code, errb.String())
	var rep worker.Report
	require.NoError(t, json.Unmarshal(out.Bytes(), &rep))
	require.False(t, rep.Success)
	require.Equal(t, worker.CodeMissingCompanyID, rep.Errors[0].Code)
}

func TestBadConfigNamesEveryKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "psasync.yaml")
	require.NoError(t, os.WriteFile(path, []byte("psa: {type: sap}\ntenants: [{name: x}]\nsync: {deactivation_guard: 3}\n"), 0o600))
	var out, errb bytes.Buffer
	require.Equal(t, exitBadArgs, run(context.Background(), []string{"sync", "--config", path}, &out, &errb))
	for _, key := range []string{"psa.type", "tenants[0].id", "sync.deactivation_guard"} {
		require.Contains(t, errb.String(), key)
	}
	require.Equal(t, exitBadArgs, run(context.Background(), []string{"serve", "--config", path}, &out, &errb))
}

func TestSubscriptionsCommand(t *testing.T) {
	t.Parallel()
	hook, err := startDemoHook() // answers Graph's validation handshake
	require.NoError(t, err)
	t.Cleanup(hook.Close)
	path, env := writeSimConfig(t, func(c *config.Config) {
		testRedis(t, c)
		c.Server.PublicURL = hook.URL
	})
	ctx := context.Background()
	list := func() []map[string]any {
		var out, errb bytes.Buffer
		require.Equal(t, exitOK, run(ctx, []string{"subscriptions", "list", "--config", path, "--json"}, &out, &errb), errb.String())
		var rows []map[string]any
		require.NoError(t, json.Unmarshal(out.Bytes(), &rows))
		return rows
	}
	var out, errb bytes.Buffer
	require.Equal(t, exitOK, run(ctx, []string{"subscriptions", "ensure", "--config", path}, &out, &errb), errb.String())
	require.Len(t, env.Graph.Subscriptions(env.Tenants[0]), 1, "one live subscription at Graph")
	rows := list()
	require.Len(t, rows, 1)
	require.Equal(t, "healthy", rows[0]["health"])
	require.Equal(t, env.Graph.Subscriptions(env.Tenants[0])[0].ID, rows[0]["subscription_id"])
	require.NotContains(t, out.String()+fmt.Sprint(rows), "clientState", "the secret is never listed")

	require.Equal(t, exitOK, run(ctx, []string{"subscriptions", "ensure", "--config", path}, &out, &errb), errb.String())
	require.Len(t, env.Graph.Subscriptions(env.Tenants[0]), 1, "ensure twice keeps one")

	require.Equal(t, exitOK, run(ctx, []string{"subscriptions", "delete", "--config", path}, &out, &errb), errb.String())
	require.Empty(t, env.Graph.Subscriptions(env.Tenants[0]))
	require.Equal(t, "none", list()[0]["health"])

	require.Equal(t, exitBadArgs, run(ctx, []string{"subscriptions", "renew"}, &out, &errb))
	require.Equal(t, exitBadArgs, run(ctx, []string{"subscriptions", "list", "--config", path, "--tenant", "nobody"}, &out, &errb))
}
