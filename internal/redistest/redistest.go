// Package redistest starts real Redis topologies for tests: a Sentinel
// setup (a master, a replica, three sentinels) and a three-master Cluster,
// each from redis-server on free ports in the test's temp dir, stopped by
// t.Cleanup. Environment variables point the tests at topologies started
// elsewhere instead.
//
// A test that cannot get a topology skips only when CI != "true"; in CI it
// fails, so the HA tests never pass by being skipped.
package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Environment variables naming externally started topologies.
const (
	// EnvSentinelAddrs lists sentinels, comma-separated HOST:PORT.
	EnvSentinelAddrs = "TEST_REDIS_SENTINEL_ADDRS"
	// EnvSentinelMaster is the master name those sentinels monitor
	// (default DefaultMasterName).
	EnvSentinelMaster = "TEST_REDIS_SENTINEL_MASTER"
	// EnvClusterAddrs lists cluster nodes, comma-separated HOST:PORT.
	EnvClusterAddrs = "TEST_REDIS_CLUSTER_ADDRS"
)

// DefaultMasterName is the master name of a started Sentinel setup.
const DefaultMasterName = "psasync"

// Sentinel timings of a started setup: short, so a failover takes seconds.
const (
	DownAfter       = 1000 * time.Millisecond
	FailoverTimeout = 3000 * time.Millisecond
)

// need returns the path of a binary, or skips (outside CI) or fails (in CI)
// the test.
func need(t testing.TB, bin, env string) string {
	t.Helper()
	p, err := exec.LookPath(bin)
	if err == nil {
		return p
	}
	msg := fmt.Sprintf("%s is not on PATH and %s is not set (Debian: apt-get install redis-server redis-sentinel)", bin, env)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s; CI must run this test", msg)
	}
	t.Skipf("skipped outside CI: %s", msg)
	return ""
}

// server is one redis-server process this package started.
type server struct {
	t    testing.TB
	bin  string
	dir  string
	args []string
	Port int

	mu  sync.Mutex
	cmd *exec.Cmd
}

// Addr is the server's HOST:PORT.
func (s *server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port)) }

func (s *server) start(extra ...string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	logf, err := os.OpenFile(filepath.Join(s.dir, "redis.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(s.bin, append(append([]string{}, s.args...), extra...)...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = s.dir, logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start %s: %w", s.bin, err)
	}
	s.cmd = cmd
	go func() { _ = cmd.Wait(); logf.Close() }()
	return waitPing(s.Addr(), 10*time.Second)
}

// kill SIGKILLs the process: no save, no goodbye to replicas or sentinels.
func (s *server) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		s.cmd = nil
	}
}

func waitPing(addr string, within time.Duration) error {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(within)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("redis at %s does not answer: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dataArgs make a data node that keeps nothing on disk.
// A replica syncs at once (no diskless-sync delay).
var dataArgs = []string{"--save", "", "--appendonly", "no", "--repl-diskless-sync-delay", "0"}

// startServer starts redis-server with args (plus port, bind and dir) in
// a fresh temp dir, stopped at cleanup.
func startServer(t testing.TB, bin string, port int, conf string, args ...string) *server {
	t.Helper()
	dir := t.TempDir()
	base := []string{}
	if conf != "" {
		p := filepath.Join(dir, "redis.conf")
		if err := os.WriteFile(p, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		base = append(base, p)
	}
	base = append(base, "--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir, "--protected-mode", "no")
	s := &server{t: t, bin: bin, dir: dir, Port: port, args: append(base, args...)}
	if err := s.start(); err != nil {
		t.Fatalf("%v (log: %s)", err, tail(filepath.Join(dir, "redis.log")))
	}
	t.Cleanup(s.kill)
	return s
}

// tail is the end of a log file, for failure messages.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// freePorts returns n ports free now, each with port+10000 free too (a
// cluster node's bus port).
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var hold []net.Listener
	defer func() {
		for _, l := range hold {
			l.Close()
		}
	}()
	for len(out) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		if port+10000 > 65535 {
			l.Close()
			continue
		}
		bus, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port+10000)))
		if err != nil {
			l.Close()
			continue
		}
		hold = append(hold, l, bus)
		out = append(out, port)
	}
	return out
}

// splitAddrs reads a comma-separated address list.
func splitAddrs(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// eventually polls f until it returns nil or within passes.
func eventually(within time.Duration, f func() error) error {
	deadline := time.Now().Add(within)
	for {
		err := f()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var errNotYet = errors.New("not yet")
