package atsim

import (
	"sync"
	"time"
)

// quotaWindow counts requests over a rolling window, as Autotask does for
// its external request threshold per database.
type quotaWindow struct {
	mu     sync.Mutex
	limit  int
	window time.Duration
	times  []time.Time // ascending; times[head:] are inside the window
	head   int
}

// admit records a request at now unless the window is full. It returns the
// number of requests in the window afterwards (or the full count when
// refused).
func (q *quotaWindow) admit(now time.Time) (int, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pruneLocked(now)
	n := len(q.times) - q.head
	if q.limit > 0 && n >= q.limit {
		return n, false
	}
	q.times = append(q.times, now)
	return n + 1, true
}

// used returns the number of requests in the window ending at now.
func (q *quotaWindow) used(now time.Time) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pruneLocked(now)
	return len(q.times) - q.head
}

func (q *quotaWindow) reset() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.times, q.head = nil, 0
}

func (q *quotaWindow) pruneLocked(now time.Time) {
	cutoff := now.Add(-q.window)
	for q.head < len(q.times) && !q.times[q.head].After(cutoff) {
		q.head++
	}
	if q.head > 1024 && q.head*2 > len(q.times) {
		q.times = append([]time.Time(nil), q.times[q.head:]...)
		q.head = 0
	}
}

// usageLatency is the delay Autotask adds as a database approaches its
// threshold: 0.5 s past half of it, 1 s past three quarters.
func usageLatency(used, limit int, scale float64) time.Duration {
	if limit <= 0 || scale <= 0 {
		return 0
	}
	frac := float64(used) / float64(limit)
	var d time.Duration
	switch {
	case frac > 0.75:
		d = time.Second
	case frac > 0.5:
		d = 500 * time.Millisecond
	default:
		return 0
	}
	return time.Duration(float64(d) * scale)
}

// threadLimiter counts requests in flight per integration code and object
// endpoint.
type threadLimiter struct {
	mu       sync.Mutex
	limit    int
	inFlight map[string]int
}

// acquire takes a slot for key, or reports false when all are in use; the
// returned function gives the slot back.
func (t *threadLimiter) acquire(key string) (func(), bool) {
	if t.limit <= 0 {
		return func() {}, true
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.inFlight[key] >= t.limit {
		return nil, false
	}
	t.inFlight[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			t.mu.Lock()
			defer t.mu.Unlock()
			t.inFlight[key]--
			if t.inFlight[key] == 0 {
				delete(t.inFlight, key)
			}
		})
	}, true
}
