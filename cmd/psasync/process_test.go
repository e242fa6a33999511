package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// process is a long-running psasync process whose output the test reads
// while it runs.
type process struct {
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout strings.Builder
	stderr strings.Builder
	done   chan struct{}
	err    error
}

// start starts psasync with args; it is stopped (SIGKILL) when the test
// ends if it is still running.
func start(t *testing.T, args ...string) *process {
	t.Helper()
	p := &process{cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Env = cleanEnv()
	so, err := p.cmd.StdoutPipe()
	require.NoError(t, err)
	se, err := p.cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, p.cmd.Start())
	var wg sync.WaitGroup
	wg.Add(2)
	go p.copy(&wg, so, &p.stdout)
	go p.copy(&wg, se, &p.stderr)
	go func() {
		wg.Wait()
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("psasync %v stdout:\n%s\nstderr:\n%s", args, p.out(), p.errOut())
		}
	})
	return p
}

func (p *process) copy(wg *sync.WaitGroup, r io.Reader, b *strings.Builder) {
	defer wg.Done()
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		p.mu.Lock()
		b.WriteString(s.Text() + "\n")
		p.mu.Unlock()
	}
}

func (p *process) out() string    { p.mu.Lock(); defer p.mu.Unlock(); return p.stdout.String() }
func (p *process) errOut() string { p.mu.Lock(); defer p.mu.Unlock(); return p.stderr.String() }

// stop sends SIGTERM and returns the exit code.
func (p *process) stop(t *testing.T) int {
	t.Helper()
	require.NoError(t, p.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-p.done:
	case <-time.After(45 * time.Second):
		t.Fatal("psasync did not stop within 45s of SIGTERM")
	}
	return p.cmd.ProcessState.ExitCode()
}

var healthURL = regexp.MustCompile(`health:\s+(http://\S+)/healthz`)

// baseURL waits for the banner and returns the webhook's URL.
func (p *process) baseURL(t *testing.T) string {
	t.Helper()
	var u string
	require.Eventually(t, func() bool {
		m := healthURL.FindStringSubmatch(p.out())
		if m != nil {
			u = m[1]
		}
		return u != ""
	}, 30*time.Second, 20*time.Millisecond, "no banner")
	return u
}

// waitReady waits until GET /readyz answers 200.
func waitReady(t *testing.T, base string) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "never ready")
}

// redisServer is a redis-server of the test's own, so the test can stop
// and restart it.
type redisServer struct {
	t    *testing.T
	port int
	cmd  *exec.Cmd
	// aof, when set, is the directory of an append-only file fsynced on
	// every write, as production runs Redis: a restart keeps every key.
	aof string
}

func startRedisServer(t *testing.T) *redisServer { return startRedis(t, "") }

// startRedis is startRedisServer with an append-only file in aof ("" =
// none).
func startRedis(t *testing.T, aof string) *redisServer {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed, and CI=true: .ci/run installs it")
		}
		t.Skip("skipped: redis-server is not installed (Debian: apt-get install redis-server); in CI (CI=true) this test fails instead")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	r := &redisServer{t: t, port: port, aof: aof}
	r.start()
	t.Cleanup(func() { r.kill() })
	return r
}

func (r *redisServer) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *redisServer) start() {
	r.t.Helper()
	args := []string{"--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"}
	if r.aof != "" {
		args = []string{"--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", r.aof}
	}
	r.cmd = exec.Command("redis-server", args...)
	require.NoError(r.t, r.cmd.Start())
	require.Eventually(r.t, func() bool {
		c, err := net.Dial("tcp", r.addr())
		if err == nil {
			c.Close()
		}
		return err == nil
	}, 10*time.Second, 20*time.Millisecond, "redis-server never listened")
}

func (r *redisServer) kill() {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Kill()
		_ = r.cmd.Wait()
	}
	r.cmd = nil
}
