package redistest_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/internal/redistest"
)

func TestClusterServesEverySlot(t *testing.T) {
	t.Parallel()
	addrs := redistest.StartCluster(t)
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer c.Close()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		require.NoError(t, c.Set(ctx, k, k, 0).Err())
	}
	err := c.Do(ctx, "MSET", "a", "1", "b", "2").Err()
	require.ErrorContains(t, err, "CROSSSLOT", "a real cluster refuses a command across slots")
}

func TestSentinelFailsOver(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	ctx := context.Background()
	c := redis.NewFailoverClient(&redis.FailoverOptions{MasterName: s.MasterName, SentinelAddrs: s.Addrs})
	defer c.Close()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	acks, err := c.Do(ctx, "WAIT", 1, 2000).Int()
	require.NoError(t, err)
	require.Equal(t, 1, acks, "the replica holds the key")
	old, err := s.Fail(ctx)
	require.NoError(t, err)
	now, err := s.WaitFailover(ctx, old, 30*time.Second)
	require.NoError(t, err, s.Logs())
	require.NotEqual(t, old, now)
	var got string
	require.Eventually(t, func() bool {
		got, err = c.Get(ctx, "k").Result()
		return got == "v"
	}, 10*time.Second, 100*time.Millisecond, "the client follows the new master, which has the replicated key; last: %q %v", got, err)
	require.NoError(t, s.Restart(ctx, old))
}
