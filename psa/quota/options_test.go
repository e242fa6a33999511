package quota

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"
)

// logSink collects a logrus logger's JSON lines; it is safe for the
// concurrent writes of several calls.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

// line returns the first logged line whose msg is msg.
func (s *logSink) line(t *testing.T, msg string) map[string]any {
	t.Helper()
	s.mu.Lock()
	out := s.buf.String()
	s.mu.Unlock()
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &l), "every line is JSON")
		if l["msg"] == msg {
			return l
		}
	}
	require.Failf(t, "message not logged", "%q not in:\n%s", msg, out)
	return nil
}

// newSinkLogger returns a debug-level JSON logger entry that carries a
// tenant field, as the worker passes one, and the sink it writes to.
func newSinkLogger() (logrus.FieldLogger, *logSink) {
	sink := &logSink{}
	l := logrus.New()
	l.Out, l.Level, l.Formatter = sink, logrus.DebugLevel, &logrus.JSONFormatter{}
	return l.WithField("tenant", "acme"), sink
}

func TestWithLoggerLogsWaitsAndFailures(t *testing.T) {
	t.Parallel()

	t.Run("budget spent", func(t *testing.T) {
		t.Parallel()
		r := newTestRedis(t)
		log, sink := newSinkLogger()
		c := Wrap(&fakePSA{}, r.client(t), r.config(Config{Requests: 1, Burst: 1, Period: time.Hour}), WithLogger(log))
		_, err := c.GetContact(t.Context(), "1")
		require.NoError(t, err)
		_, err = c.GetContact(t.Context(), "1")
		requireRateLimited(t, err, 59*time.Minute, time.Hour)

		l := sink.line(t, "quota: budget spent")
		require.Equal(t, "debug", l["level"])
		require.Equal(t, "quota: get contact", l["op"])
		require.Equal(t, "acme", l["tenant"], "the caller's fields are kept")
		wait, ok := l["retry_after"].(float64)
		require.True(t, ok, "retry_after is a duration in nanoseconds: %v", l["retry_after"])
		require.Greater(t, time.Duration(wait), 59*time.Minute)
	})

	t.Run("no slot in time", func(t *testing.T) {
		t.Parallel()
		r := newTestRedis(t)
		log, sink := newSinkLogger()
		fake := &fakePSA{block: make(chan struct{}), entered: make(chan string, 1)}
		c := Wrap(fake, r.client(t), r.config(Config{MaxConcurrent: 1, ConcurrencyWait: 50 * time.Millisecond}), WithLogger(log))
		holder := make(chan error, 1)
		go func() {
			_, err := c.GetContact(t.Context(), "1")
			holder <- err
		}()
		<-fake.entered
		_, err := c.FindContactsByEmail(t.Context(), "7", "a@example.com")
		requireRateLimited(t, err, concurrencyRetryAfter, concurrencyRetryAfter)
		close(fake.block)
		require.NoError(t, <-holder)

		waiting := sink.line(t, "quota: waiting for a concurrency slot")
		require.Equal(t, "debug", waiting["level"])
		require.Equal(t, "quota: find contacts by email", waiting["op"])
		require.Equal(t, GroupContactsRead, waiting["group"])
		gaveUp := sink.line(t, "quota: no concurrency slot freed up in time")
		require.Equal(t, "info", gaveUp["level"])
		require.Equal(t, GroupContactsRead, gaveUp["group"])
		require.EqualValues(t, 50*time.Millisecond, gaveUp["waited"])
		require.Equal(t, "acme", gaveUp["tenant"])
	})

	t.Run("redis down", func(t *testing.T) {
		t.Parallel()
		m := miniredis.RunT(t)
		addr := m.Addr()
		m.Close()
		rdb := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, DialerRetries: 1, DialTimeout: 200 * time.Millisecond})
		t.Cleanup(func() { _ = rdb.Close() })
		log, sink := newSinkLogger()
		_, err := Wrap(&fakePSA{}, rdb, Config{Requests: 10, Period: time.Hour, Key: "k"}, WithLogger(log)).GetContact(t.Context(), "1")
		require.Error(t, err)

		l := sink.line(t, "quota: Redis failed")
		require.Equal(t, "warning", l["level"])
		require.Equal(t, "quota: get contact", l["op"])
		require.Equal(t, "check the rate budget", l["step"])
		require.NotEmpty(t, l["error"], "the Redis error is logged")
		require.Equal(t, "acme", l["tenant"])
	})
}
