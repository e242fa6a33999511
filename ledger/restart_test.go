package ledger

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// aofRedis is a redis-server of the test's own with the AOF on, in a
// temporary directory, so the test can stop and start it.
type aofRedis struct {
	t     testing.TB
	dir   string
	port  int
	fsync string
	cmd   *exec.Cmd
}

func startAOFRedis(t testing.TB, fsync string) *aofRedis {
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
	r := &aofRedis{t: t, dir: t.TempDir(), port: port, fsync: fsync}
	r.start()
	t.Cleanup(func() { r.stop(syscall.SIGKILL) })
	return r
}

func (r *aofRedis) addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

func (r *aofRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--save", "", "--appendonly", "yes", "--appendfsync", r.fsync,
		"--maxmemory-policy", "noeviction")
	require.NoError(r.t, r.cmd.Start())
	require.Eventually(r.t, func() bool {
		c := redis.NewClient(&redis.Options{Addr: r.addr()})
		defer c.Close()
		return c.Ping(context.Background()).Err() == nil // answers only once the AOF is loaded
	}, 10*time.Second, 20*time.Millisecond, "redis-server never answered")
}

func (r *aofRedis) stop(sig os.Signal) {
	if r.cmd != nil && r.cmd.Process != nil {
		_ = r.cmd.Process.Signal(sig)
		_ = r.cmd.Wait()
	}
	r.cmd = nil
}

// TestEntriesSurviveRedisRestart writes the change log, a run and a
// conflict, restarts Redis (a clean shutdown with production's everysec
// fsync, and a crash with fsync always), and reads them back.
func TestEntriesSurviveRedisRestart(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, fsync string
		sig         os.Signal
	}{
		{"shutdown, appendfsync everysec", "everysec", syscall.SIGTERM},
		{"crash, appendfsync always", "always", syscall.SIGKILL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startAOFRedis(t, tc.fsync)
			ctx := context.Background()
			rdb := redis.NewClient(&redis.Options{Addr: srv.addr()})
			defer rdb.Close()
			c := &clock{t: t0.Add(time.Hour)}
			l := New(rdb, "psasync:", Options{Now: c.Now})
			require.NoError(t, l.Append(ctx, seedEntries()...))
			entry := Entry{Tenant: "A", UserID: "u1", ContactID: "101", Action: "updated", Key: "job-1", Result: ResultWritten}
			require.NoError(t, l.Append(ctx, entry))
			_, err := l.CreateRun(ctx, testRun("r1", "A", "full", "succeeded", c.Now()))
			require.NoError(t, err)
			_, err = l.OpenConflict(ctx, testConflict())
			require.NoError(t, err)
			before, err := l.Changes(ctx, Query{})
			require.NoError(t, err)

			srv.stop(tc.sig)
			srv.start()

			after, err := l.Changes(ctx, Query{})
			require.NoError(t, err)
			require.Equal(t, before, after, "every entry survives")
			byContact, err := l.Changes(ctx, Query{ContactID: "101"})
			require.NoError(t, err)
			require.Len(t, byContact.Entries, 3, "indexes survive")
			require.NoError(t, l.Append(ctx, entry))
			again, err := l.Changes(ctx, Query{ContactID: "101"})
			require.NoError(t, err)
			require.Len(t, again.Entries, 3, "idempotency keys survive: a retried job does not double its entry")
			_, ok, err := l.Run(ctx, "r1")
			require.NoError(t, err)
			require.True(t, ok, "the run survives")
			_, ok, err = l.Conflict(ctx, "A", "U1")
			require.NoError(t, err)
			require.True(t, ok, "the conflict survives")
		})
	}
}
