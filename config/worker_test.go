package config

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestGraphBatchLinger(t *testing.T) {
	t.Parallel()
	tests := []struct {
		yaml string
		want time.Duration
	}{
		{"", DefaultGraphBatchLinger},
		{"worker: {graph_batch_linger: 10ms}\n", 10 * time.Millisecond},
		{"worker: {graph_batch_linger: -1s}\n", 0},
	}
	for _, tc := range tests {
		c, err := Parse([]byte(good+tc.yaml), env(map[string]string{"GRAPH_SECRET": "g", "CW_PRIVATE": "c"}))
		require.NoError(t, err, tc.yaml)
		require.Equal(t, tc.want, c.Worker.BatchLinger(), tc.yaml)
	}
	_, err := Parse([]byte(good+"worker: {graph_batch_linger: 2s}\n"), env(map[string]string{"GRAPH_SECRET": "g", "CW_PRIVATE": "c"}))
	require.ErrorContains(t, err, "worker.graph_batch_linger: 2s is longer than 1s")
}

func TestMaxTenantRuns(t *testing.T) {
	t.Parallel()
	secrets := env(map[string]string{"GRAPH_SECRET": "g", "CW_PRIVATE": "c"})
	c, err := Parse([]byte(good), secrets)
	require.NoError(t, err)
	require.Equal(t, DefaultMaxTenantRuns, c.Worker.TenantRuns())
	c, err = Parse([]byte(good+"worker: {max_tenant_runs: 5}\n"), secrets)
	require.NoError(t, err)
	require.Equal(t, 5, c.Worker.TenantRuns())
	_, err = Parse([]byte(good+"worker: {max_tenant_runs: 500}\n"), secrets)
	require.ErrorContains(t, err, "worker.max_tenant_runs: 500 is not between 1 and 100")
}
