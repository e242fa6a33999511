package redistest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Sentinel is a Redis Sentinel setup: a master, a replica and three
// sentinels, or an external setup (EnvSentinelAddrs).
type Sentinel struct {
	// MasterName is the name the sentinels monitor.
	MasterName string
	// Addrs are the sentinels' HOST:PORT.
	Addrs []string
	// External says the setup was started elsewhere: Fail then asks the
	// sentinels for a failover instead of killing the master.
	External bool

	t         testing.TB
	bin       string
	nodes     []*server // data nodes: [0] started as master, [1] as replica
	sentinels []*server
}

// Logs is the end of every started process's log, for a failure message.
func (s *Sentinel) Logs() string {
	var b strings.Builder
	for _, n := range append(append([]*server{}, s.nodes...), s.sentinels...) {
		fmt.Fprintf(&b, "--- %s\n%s\n", n.Addr(), tail(filepath.Join(n.dir, "redis.log")))
	}
	return b.String()
}

// StartSentinel returns the external setup EnvSentinelAddrs names, or
// starts one. It returns once the sentinels agree on the master and know
// its replica and each other, so a failover can happen.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	if v := os.Getenv(EnvSentinelAddrs); v != "" {
		name := os.Getenv(EnvSentinelMaster)
		if name == "" {
			name = DefaultMasterName
		}
		return &Sentinel{MasterName: name, Addrs: splitAddrs(v), External: true, t: t}
	}
	bin := need(t, "redis-server", EnvSentinelAddrs)
	ports := freePorts(t, 5)
	s := &Sentinel{MasterName: DefaultMasterName, t: t, bin: bin}
	master := startServer(t, bin, ports[0], "", dataArgs...)
	replica := startServer(t, bin, ports[1], "", append([]string{"--replicaof", "127.0.0.1", strconv.Itoa(ports[0])}, dataArgs...)...)
	s.nodes = []*server{master, replica}
	// Debian's redis-sentinel package ships the sentinel as its own
	// command; redis-server --sentinel is the same program.
	sentinelBin := bin
	if p, err := exec.LookPath("redis-sentinel"); err == nil {
		sentinelBin = p
	}
	for _, p := range ports[2:] {
		conf := fmt.Sprintf("sentinel monitor %[1]s 127.0.0.1 %[2]d 2\n"+
			"sentinel down-after-milliseconds %[1]s %[3]d\n"+
			"sentinel failover-timeout %[1]s %[4]d\n"+
			"sentinel parallel-syncs %[1]s 1\n", s.MasterName, ports[0], DownAfter.Milliseconds(), FailoverTimeout.Milliseconds())
		sn := startServer(t, sentinelBin, p, conf, "--sentinel")
		s.Addrs = append(s.Addrs, sn.Addr())
		s.sentinels = append(s.sentinels, sn)
	}
	if err := s.untilt(); err != nil {
		t.Fatalf("sentinel setup: %v\n%s", err, s.Logs())
	}
	if err := eventually(20*time.Second, s.ready); err != nil {
		t.Fatalf("sentinel setup not ready: %v\n%s", err, s.Logs())
	}
	return s
}

// untilt keeps the sentinels out of TILT mode on a loaded test machine.
// A sentinel whose timer runs more than 2 s late (a CPU starved by -race
// builds and browsers) distrusts its view and does nothing for 30 s, so a
// failover the test waits for would not come. TILT guards against clock
// jumps, which a test machine does not have; the failover itself is what
// the tests are about.
func (s *Sentinel) untilt() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, a := range s.Addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		err := sc.Process(ctx, redis.NewStatusCmd(ctx, "sentinel", "debug", "tilt-trigger", 15000, "tilt-period", 1000))
		sc.Close()
		if err != nil {
			return fmt.Errorf("sentinel %s: set TILT timings: %w", a, err)
		}
	}
	return nil
}

// ready checks that every sentinel knows the master, one replica in sync
// and the two other sentinels.
func (s *Sentinel) ready() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, a := range s.Addrs {
		sc := redis.NewSentinelClient(&redis.Options{Addr: a})
		replicas, err := sc.Replicas(ctx, s.MasterName).Result()
		if err == nil && len(replicas) == 0 {
			err = fmt.Errorf("sentinel %s knows no replica", a)
		}
		for _, r := range replicas {
			if flags := r["flags"]; strings.Contains(flags, "down") || strings.Contains(flags, "disconnected") || r["master-link-status"] != "ok" {
				err = fmt.Errorf("sentinel %s: replica flags %s, link %s", a, flags, r["master-link-status"])
			}
		}
		if err == nil {
			var peers []map[string]string
			if peers, err = sc.Sentinels(ctx, s.MasterName).Result(); err == nil && len(peers) < len(s.Addrs)-1 {
				err = fmt.Errorf("sentinel %s knows %d other sentinels", a, len(peers))
			}
		}
		sc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// Master is the master's HOST:PORT as the first sentinel answers.
func (s *Sentinel) Master(ctx context.Context) (string, error) {
	sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addrs[0]})
	defer sc.Close()
	hp, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
	if err != nil {
		return "", fmt.Errorf("ask sentinel %s for the master: %w", s.Addrs[0], err)
	}
	return hp[0] + ":" + hp[1], nil
}

// Fail takes the current master away: SIGKILL for a setup this package
// started, SENTINEL FAILOVER for an external one. It returns the address
// of the master it took away.
func (s *Sentinel) Fail(ctx context.Context) (string, error) {
	old, err := s.Master(ctx)
	if err != nil {
		return "", err
	}
	if s.External {
		sc := redis.NewSentinelClient(&redis.Options{Addr: s.Addrs[0]})
		defer sc.Close()
		return old, sc.Failover(ctx, s.MasterName).Err()
	}
	for _, n := range s.nodes {
		if n.Addr() == old {
			n.kill()
			return old, nil
		}
	}
	return "", fmt.Errorf("master %s is none of the started nodes", old)
}

// KillReplica SIGKILLs the replica of a setup this package started and
// returns its address (Restart brings it back); an external setup cannot
// do this, so the test is skipped there.
func (s *Sentinel) KillReplica(ctx context.Context) (string, error) {
	if s.External {
		s.t.Skip("an external Sentinel setup's replica cannot be killed from the test")
	}
	master, err := s.Master(ctx)
	if err != nil {
		return "", err
	}
	for _, n := range s.nodes {
		if n.Addr() != master {
			n.kill()
			return n.Addr(), nil
		}
	}
	return "", fmt.Errorf("no replica beside master %s", master)
}

// Restart brings a killed node back as a replica of the current master,
// as a supervisor (systemd, Kubernetes) would; the sentinels adopt it. A
// no-op for an external setup, whose old master rejoins by itself.
func (s *Sentinel) Restart(ctx context.Context, addr string) error {
	if s.External {
		return nil
	}
	master, err := s.Master(ctx)
	if err != nil {
		return err
	}
	if master == addr {
		return fmt.Errorf("%s is still the master for the sentinels", addr)
	}
	host, port, _ := strings.Cut(master, ":")
	for _, n := range s.nodes {
		if n.Addr() == addr {
			return n.start("--replicaof", host, port)
		}
	}
	return fmt.Errorf("%s is none of the started nodes", addr)
}

// WaitFailover waits until the sentinels name a master other than old.
func (s *Sentinel) WaitFailover(ctx context.Context, old string, within time.Duration) (string, error) {
	var now string
	err := eventually(within, func() error {
		m, err := s.Master(ctx)
		if err != nil {
			return err
		}
		if m == old {
			return errNotYet
		}
		now = m
		return nil
	})
	return now, err
}
