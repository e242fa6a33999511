package simenv_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
)

func TestWriteConfigWritesOnlyWhatItSets(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		o         simenv.Options
		wantQuota *quota.Config // nil: psasync's real-site default
	}{
		{"connectwise has no quota", simenv.Options{PSA: config.PSAConnectWise}, &quota.Config{Requests: 1_000_000, Period: time.Hour}},
		{"autotask enforces its own", simenv.Options{PSA: config.PSAAutotask}, nil},
		{"autotask unlimited", simenv.Options{PSA: config.PSAAutotask, Unlimited: true}, &quota.Config{Requests: 1_000_000, Period: time.Hour}},
		{"halopsa enforces its own", simenv.Options{PSA: config.PSAHaloPSA, Tenants: 2}, nil},
		{"halopsa unlimited", simenv.Options{PSA: config.PSAHaloPSA, Unlimited: true}, &quota.Config{Requests: 1_000_000, Period: time.Hour}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.o.Users = 20
			env, err := simenv.Start(context.Background(), tc.o)
			require.NoError(t, err)
			t.Cleanup(env.Close)
			path := filepath.Join(t.TempDir(), "psasync.yaml")
			require.NoError(t, env.WriteConfig(path))

			loaded, err := config.Load(path)
			require.NoError(t, err)
			require.Equal(t, tc.o.PSA, loaded.PSA.Type)
			require.Equal(t, env.Config.PSA, withQuota(loaded.PSA, nil), "PSA settings survive the round trip")
			require.Equal(t, env.Config.Mapping, loaded.Mapping, "the default mapping plus the written differences")
			require.Equal(t, env.Config.Tenants, loaded.Tenants)
			require.Equal(t, env.Config.Graph.ClientSecret, loaded.Graph.ClientSecret)
			require.FileExists(t, loaded.Graph.CACertPath)
			require.Equal(t, tc.wantQuota, loaded.PSA.Quota)
			if tc.wantQuota == nil {
				require.Equal(t, quota.Defaults(tc.o.PSA).Requests, loaded.EffectiveQuota().Requests)
			}

			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			var doc yaml.Node
			require.NoError(t, yaml.Unmarshal(raw, &doc))
			requireNoZero(t, &doc, "")
			require.Contains(t, string(raw), "# Written by psasim")
			require.Regexp(t, `A real site needs|as a real\n# site does, so psasync keeps its real-site default \(\d+ requests per`, string(raw), "says what quota a real site needs")
		})
	}
}

// withQuota returns p with its quota replaced, to compare the rest.
func withQuota(p config.PSA, q *quota.Config) config.PSA {
	p.Quota = q
	return p
}

// requireNoZero fails for any key of n whose value is a zero or empty
// scalar, an empty mapping or an empty sequence.
func requireNoZero(t *testing.T, n *yaml.Node, path string) {
	t.Helper()
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			requireNoZero(t, c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, v := n.Content[i].Value, n.Content[i+1]
			p := path + "." + key
			switch v.Kind {
			case yaml.ScalarNode:
				require.NotContains(t, []string{"", "0", "false", "0s", "null", "~"}, v.Value, "%s is written with a zero value", p)
			case yaml.MappingNode, yaml.SequenceNode:
				require.NotEmpty(t, v.Content, "%s is written empty", p)
			}
			requireNoZero(t, v, p)
		}
	}
}
