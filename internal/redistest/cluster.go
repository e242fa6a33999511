package redistest

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// slots is the number of Redis Cluster hash slots.
const slots = 16384

// StartCluster returns the addresses of the external cluster
// EnvClusterAddrs names, or starts three masters, assigns them a third of
// the slots each and returns once the cluster is ok on every node.
func StartCluster(t testing.TB) []string {
	t.Helper()
	if v := os.Getenv(EnvClusterAddrs); v != "" {
		return splitAddrs(v)
	}
	bin := need(t, "redis-server", EnvClusterAddrs)
	ports := freePorts(t, 3)
	var nodes []*server
	for _, p := range ports {
		nodes = append(nodes, startServer(t, bin, p, "", append([]string{"--cluster-enabled", "yes",
			"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"}, dataArgs...)...))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var addrs []string
	for i, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.Addr()})
		lo, hi := i*slots/len(nodes), (i+1)*slots/len(nodes)-1
		err := c.ClusterAddSlotsRange(ctx, lo, hi).Err()
		if err == nil && i > 0 {
			err = c.ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(nodes[0].Port)).Err()
		}
		c.Close()
		if err != nil {
			t.Fatalf("cluster node %s: %v", n.Addr(), err)
		}
		addrs = append(addrs, n.Addr())
	}
	err := eventually(20*time.Second, func() error {
		for _, a := range addrs {
			c := redis.NewClient(&redis.Options{Addr: a})
			info, err := c.ClusterInfo(ctx).Result()
			c.Close()
			if err != nil {
				return err
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(len(addrs))) {
				return fmt.Errorf("node %s: %w", a, errNotYet)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("cluster not ready: %v", err)
	}
	return addrs
}
