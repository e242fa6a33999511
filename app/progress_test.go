package app

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/worker"
)

// LockedBuffer is a bytes.Buffer safe to read while another goroutine or
// process writes it (the progress printer, a worker process). It is
// exported for the external tests of this package.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String is what was written so far.
func (l *LockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		p    worker.Progress
		eta  time.Duration
		want string
	}{
		{"enumerating", worker.Progress{Phase: worker.PhaseEnumerating, UsersEnumerated: 700},
			0, "enumerating: 700 users enumerated, 0 planned, 0 written, 0 left"},
		{"applying with an ETA", worker.Progress{Phase: worker.PhaseApplying, UsersEnumerated: 2000, Planned: 400, Written: 120},
			3*time.Minute + 10*time.Second, "applying: 2000 users enumerated, 400 planned, 120 written, 280 left · ETA 3m10s"},
		{"waiting on the quota", worker.Progress{Phase: worker.PhaseApplying, UsersEnumerated: 2000, Planned: 400, Written: 120, Failed: 2,
			Waiting: "psa quota", WaitUntil: now.Add(12 * time.Second)},
			time.Minute, "applying: 2000 users enumerated, 400 planned, 120 written, 278 left, 2 failed · waiting: psa quota (12s) · ETA 1m0s"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, progressLine(tc.p, now, tc.eta))
		})
	}
}

func TestProgressETA(t *testing.T) {
	t.Parallel()
	clock := time.Date(2026, 11, 2, 10, 0, 0, 0, time.UTC)
	p := &progressPrinter{now: func() time.Time { return clock }, stop: make(chan struct{})}
	p.Update(worker.Progress{Phase: worker.PhasePlanning, Planned: 100})
	require.Zero(t, p.eta(clock), "no ETA before writes start")
	p.Update(worker.Progress{Phase: worker.PhaseApplying, Planned: 100, Written: 0})
	clock = clock.Add(10 * time.Second)
	p.Update(worker.Progress{Phase: worker.PhaseApplying, Planned: 100, Written: 20})
	require.Equal(t, 40*time.Second, p.eta(clock), "20 writes in 10 s, 80 left")
	p.Update(worker.Progress{Phase: worker.PhaseApplying, Planned: 100, Written: 20, Waiting: "psa quota", WaitUntil: clock.Add(2 * time.Minute)})
	require.Equal(t, 2*time.Minute, p.eta(clock), "a longer quota wait pushes the ETA back")
}

func TestProgressLiveLine(t *testing.T) {
	t.Parallel()
	var out LockedBuffer
	p := newProgressPrinter(&out, ProgressAuto, true, logrus.New())
	p.Update(worker.Progress{Phase: worker.PhaseApplying, UsersEnumerated: 50, Planned: 10, Written: 4})
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "\rapplying: 50 users enumerated") }, 5*time.Second, 10*time.Millisecond)
	p.Update(worker.Progress{Phase: worker.PhaseDone, UsersEnumerated: 50, Planned: 10, Written: 10})
	p.Done()
	s := out.String()
	require.True(t, strings.HasSuffix(s, "\n"), "the live line is finished with a newline")
	require.Contains(t, s, "\rdone: 50 users enumerated, 10 planned, 10 written, 0 left")
}

func TestProgressLogLinesWhenNotATerminal(t *testing.T) {
	t.Parallel()
	var out LockedBuffer
	log := logrus.New()
	log.Out, log.Formatter = &out, &logrus.JSONFormatter{}
	p := newProgressPrinter(&out, ProgressAuto, false, log)
	require.Equal(t, logEvery, p.every, "a log line every few seconds")
	p.Update(worker.Progress{RunID: "r1", Phase: worker.PhaseApplying, UsersEnumerated: 50, Planned: 10, Written: 4, Waiting: "psa quota"})
	p.Done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 1)
	var obj map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &obj), "progress is a JSON log line")
	require.Equal(t, "sync progress", obj["msg"])
	require.Equal(t, float64(6), obj["left"])
	require.Equal(t, "psa quota", obj["waiting"])
	require.NotContains(t, out.String(), "\r")
}

func TestProgressNeverAndModes(t *testing.T) {
	t.Parallel()
	var out LockedBuffer
	p := newProgressPrinter(&out, ProgressNever, true, logrus.New())
	p.Update(worker.Progress{Phase: worker.PhaseApplying, Planned: 1})
	p.Done()
	require.Empty(t, out.String())
	always := newProgressPrinter(&out, ProgressAlways, false, logrus.New())
	always.Done()
	require.True(t, always.live, "always draws the live line off a terminal too")
	for _, m := range []string{"auto", "always", "never"} {
		_, err := ParseProgressMode(m)
		require.NoError(t, err)
	}
	_, err := ParseProgressMode("sometimes")
	require.ErrorIs(t, err, ErrBadConfig)
}
