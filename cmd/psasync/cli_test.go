package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/worker/reporttest"
)

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
	reporttest.Validate(t, []byte(r.stdout))
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

// TestDemoSyncReportKeepsTheContract: `psasync sync --demo --psa X` for each
// PSA prints a report that validates against the schema, counts every
// simulated user it read as processed (orphaned contacts apart), and counts
// the simulated tenant's enabled users as its total.
func TestDemoSyncReportKeepsTheContract(t *testing.T) {
	t.Parallel()
	for _, p := range []string{config.PSAConnectWise, config.PSAAutotask, config.PSAHaloPSA} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			r := run(t, "sync", "--demo", "--psa", p, "--mode", "full", "--progress", "never")
			require.Contains(t, []int{exitOK, exitFailed}, r.code, r.stderr)
			reporttest.Validate(t, []byte(r.stdout))
			var rep struct {
				Statistics struct {
					Total     int `json:"total_office365_users"`
					Processed int `json:"users_processed"`
					Orphans   int `json:"orphaned_contacts"`
				} `json:"statistics"`
				Created []struct {
					Status string `json:"status"`
				} `json:"created_contacts"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep))
			// The demo's world is generated from a fixed seed: build the same
			// one here and count its users.
			env, err := simenv.Start(context.Background(), simenv.Options{PSA: p, SeedPSA: true})
			require.NoError(t, err)
			defer env.Close()
			users, enabled := 0, 0
			for _, u := range env.Graph.Users(env.Tenants[0]) {
				users++
				if u.AccountEnabled == nil || *u.AccountEnabled {
					enabled++
				}
			}
			require.Equal(t, users, rep.Statistics.Processed, "every user read, and no contact")
			require.Equal(t, enabled, rep.Statistics.Total, "the simulated tenant's enabled users")
			require.Positive(t, rep.Statistics.Orphans, "the demo PSA holds orphaned contacts, counted apart")
			require.NotEmpty(t, rep.Created)
		})
	}
}
