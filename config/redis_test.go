package config

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// withRedis is good with the given redis section.
func withRedis(section string) []byte {
	return []byte(good + "redis:\n" + section)
}

var goodEnv = map[string]string{"GRAPH_SECRET": "s", "CW_PRIVATE": "p"}

func TestRedisModes(t *testing.T) {
	t.Parallel()
	t.Run("sentinel", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(withRedis(`
  sentinel:
    master_name: mymaster
    addrs: [10.0.0.1:26379, 10.0.0.2:26379]
    username: app
    password: pw
    sentinel_password: spw
    db: 2
`), env(goodEnv))
		require.NoError(t, err)
		s := c.Redis.Sentinel
		require.Equal(t, "mymaster", s.MasterName)
		require.Equal(t, []string{"10.0.0.1:26379", "10.0.0.2:26379"}, s.Addrs)
		require.Equal(t, "pw", s.Password)
		require.Equal(t, "spw", s.SentinelPassword)
		require.False(t, c.Redis.Embedded())
		n, timeout := c.Redis.EffectiveReplicaAcks()
		require.Equal(t, DefaultReplicaAcks, n, "a Sentinel setup waits for one replica by default")
		require.Equal(t, DefaultReplicaAckTimeout, timeout)
	})
	t.Run("sentinel without the replica wait", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(withRedis("  sentinel: {master_name: m, addrs: [h:1], replica_acks: -1}\n"), env(goodEnv))
		require.NoError(t, err)
		n, _ := c.Redis.EffectiveReplicaAcks()
		require.Zero(t, n)
	})
	t.Run("cluster", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(withRedis("  cluster: {addrs: [10.0.0.1:7000, 10.0.0.2:7000], username: app, password: pw}\n"), env(goodEnv))
		require.NoError(t, err)
		require.Equal(t, []string{"10.0.0.1:7000", "10.0.0.2:7000"}, c.Redis.Cluster.Addrs)
		require.Equal(t, "pw", c.Redis.Cluster.Password)
		n, _ := c.Redis.EffectiveReplicaAcks()
		require.Zero(t, n, "no replica wait outside Sentinel")
	})
	t.Run("single node and embedded", func(t *testing.T) {
		t.Parallel()
		c, err := Parse(withRedis("  addr: redis:6379\n"), env(goodEnv))
		require.NoError(t, err)
		require.False(t, c.Redis.Embedded())
		c, err = Parse([]byte(good), env(goodEnv))
		require.NoError(t, err)
		require.True(t, c.Redis.Embedded(), "no addr, sentinel or cluster: the embedded Redis")
	})
}

func TestRedisPasswordFromEnvGoesToTheModeInUse(t *testing.T) {
	t.Parallel()
	envs := map[string]string{"PSASYNC_REDIS_PASSWORD": "from-env"}
	for k, v := range goodEnv {
		envs[k] = v
	}
	c, err := Parse(withRedis("  sentinel: {master_name: m, addrs: [h:1]}\n"), env(envs))
	require.NoError(t, err)
	require.Equal(t, "from-env", c.Redis.Sentinel.Password)
	require.Empty(t, c.Redis.Password)
	c, err = Parse(withRedis("  cluster: {addrs: [h:1]}\n"), env(envs))
	require.NoError(t, err)
	require.Equal(t, "from-env", c.Redis.Cluster.Password)
	c, err = Parse(withRedis("  addr: h:1\n"), env(envs))
	require.NoError(t, err)
	require.Equal(t, "from-env", c.Redis.Password)
}

func TestRedisErrorsNameTheKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, section string
		envs          map[string]string
		says          []string
	}{
		{"sentinel without master", "  sentinel: {addrs: [h:1]}\n", nil,
			[]string{"redis.sentinel.master_name: required"}},
		{"sentinel without addrs", "  sentinel: {master_name: m}\n", nil,
			[]string{"redis.sentinel.addrs: required"}},
		{"sentinel bad addr", "  sentinel: {master_name: m, addrs: [h:1, nope]}\n", nil,
			[]string{`redis.sentinel.addrs[1]: "nope" is not HOST:PORT`}},
		{"sentinel bad db and acks", "  sentinel: {master_name: m, addrs: [h:1], db: -1, replica_acks: -2, replica_ack_timeout: 2m}\n", nil,
			[]string{"redis.sentinel.db: must not be negative", "redis.sentinel.replica_acks:", "redis.sentinel.replica_ack_timeout:"}},
		{"cluster without addrs", "  cluster: {password: x}\n", nil,
			[]string{"redis.cluster.addrs: required"}},
		{"cluster not host port", "  cluster: {addrs: [h]}\n", nil,
			[]string{`redis.cluster.addrs[0]: "h" is not HOST:PORT`}},
		{"addr and sentinel", "  addr: h:1\n  sentinel: {master_name: m, addrs: [h:2]}\n", nil,
			[]string{"redis: give one of addr, sentinel and cluster, not [addr sentinel]"}},
		{"env addr and cluster", "  cluster: {addrs: [h:2]}\n", map[string]string{"PSASYNC_REDIS_ADDR": "h:1"},
			[]string{"redis: give one of addr, sentinel and cluster, not [addr cluster]"}},
		{"sentinel and cluster", "  sentinel: {master_name: m, addrs: [h:2]}\n  cluster: {addrs: [h:3]}\n", nil,
			[]string{"not [sentinel cluster]"}},
		{"top-level password with cluster", "  password: topsecret\n  cluster: {addrs: [h:3]}\n", nil,
			[]string{"redis: username, password and db go with redis.addr"}},
		{"bad single addr", "  addr: nope\n", nil,
			[]string{`redis.addr: "nope" is not HOST:PORT`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			envs := map[string]string{}
			for k, v := range goodEnv {
				envs[k] = v
			}
			for k, v := range tc.envs {
				envs[k] = v
			}
			_, err := Parse(withRedis(tc.section), env(envs))
			require.Error(t, err)
			for _, s := range tc.says {
				require.Contains(t, err.Error(), s)
			}
			require.False(t, strings.Contains(err.Error(), "topsecret"), "no secret in the error")
		})
	}
}

func TestRedisSecretsAreListed(t *testing.T) {
	t.Parallel()
	keys := strings.Join(SecretKeys(), " ")
	for _, k := range []string{"redis.sentinel.password", "redis.sentinel.sentinel_password", "redis.cluster.password"} {
		require.Contains(t, keys, k)
	}
}

func TestSingleNodeConfigMarshalsWithoutHASections(t *testing.T) {
	t.Parallel()
	c, err := Parse(withRedis("  addr: h:1\n"), env(goodEnv))
	require.NoError(t, err)
	b, err := yaml.Marshal(c)
	require.NoError(t, err)
	require.NotContains(t, string(b), "sentinel")
	require.NotContains(t, string(b), "cluster")
	back, err := Parse(b, env(nil))
	require.NoError(t, err, "a marshalled config loads again")
	require.Equal(t, "h:1", back.Redis.Addr)
}
