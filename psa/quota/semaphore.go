package quota

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// Polling and lease timings of the distributed semaphore.
const (
	// DefaultLease is how long a slot stays held without renewal: the time
	// a crashed replica's slot takes to free itself. A live holder renews
	// its lease every third of it.
	DefaultLease = 15 * time.Second
	// minPoll and maxPoll bound the jittered sleep between two tries for a
	// slot; the sleep doubles from minPoll while the slots stay full.
	minPoll = 5 * time.Millisecond
	maxPoll = 100 * time.Millisecond
	// concurrencyRetryAfter is the RetryAfter of a call that waited
	// ConcurrencyWait in vain: slots turn over within a call's time, so the
	// caller should come back soon.
	concurrencyRetryAfter = time.Second
	// releaseTimeout bounds giving a slot back after the call's ctx ended.
	releaseTimeout = 5 * time.Second
)

// slot is one held concurrency slot; its lease is renewed in the background
// until release.
type slot struct {
	c     *Client
	key   string
	token string

	mu       sync.Mutex
	released bool
	timer    *time.Timer
}

// acquireSlot waits up to ConcurrencyWait for a slot of group. It returns
// an *psa.Error of kind ErrRateLimited when none frees up in time, the
// wrapped ctx error when ctx ends first, and an ErrConnection error when
// Redis fails.
func (c *Client) acquireSlot(ctx context.Context, op, group string) (*slot, error) {
	key := slotsKey(c.cfg.Key, group)
	token := crand.Text()
	var (
		start  time.Time
		poll   = minPoll
		waited bool
	)
	account := func() {
		if waited {
			c.waitedNanos.Add(int64(time.Since(start)))
		}
	}
	for {
		vals, err := acquireScript.Run(ctx, c.rdb, []string{key}, token, c.cfg.MaxConcurrent, c.lease.Milliseconds()).Int64Slice()
		if err != nil {
			account()
			return nil, c.storeError(ctx, op, "take a concurrency slot", err)
		}
		if len(vals) == 2 && vals[0] == 1 {
			account()
			s := &slot{c: c, key: key, token: token}
			s.arm(ctx)
			return s, nil
		}
		if !waited {
			waited, start = true, time.Now()
			c.concurrencyWaits.Add(1)
			c.log.WithFields(logrus.Fields{"op": op, "group": group}).Debug("quota: waiting for a concurrency slot")
		}
		remaining := c.cfg.ConcurrencyWait - time.Since(start)
		if remaining <= 0 {
			account()
			c.limited.Add(1)
			c.log.WithFields(logrus.Fields{"op": op, "group": group, "waited": c.cfg.ConcurrencyWait}).
				Info("quota: no concurrency slot freed up in time")
			return nil, &psa.Error{Op: op, Kind: psa.ErrRateLimited, RetryAfter: concurrencyRetryAfter, Err: psa.ErrOwnQuota,
				Message: fmt.Sprintf("psasync's own concurrency cap for %s (%d calls in flight per endpoint group, group %s) stayed full for %s",
					c.name, c.cfg.MaxConcurrent, group, c.cfg.ConcurrencyWait)}
		}
		// Full jitter between poll/2 and poll keeps replicas from polling in step.
		d := min(poll/2+rand.N(poll/2+1), remaining)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			account()
			return nil, fmt.Errorf("%s: waiting for a concurrency slot of %s: %w", op, group, ctx.Err())
		case <-t.C:
		}
		poll = min(poll*2, maxPoll)
	}
}

// arm schedules the next lease renewal. ctx is the call's; renewals outlive
// its cancellation so that a slot is never lost while the call still runs.
func (s *slot) arm(ctx context.Context) {
	every := s.c.lease / 3
	bg := context.WithoutCancel(ctx)
	var renew func()
	renew = func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.released {
			return
		}
		rctx, cancel := context.WithTimeout(bg, every)
		defer cancel()
		ok, err := renewScript.Run(rctx, s.c.rdb, []string{s.key}, s.token, s.c.lease.Milliseconds()).Int()
		switch {
		case err != nil:
			// Try again at the next tick; the lease outlasts two misses.
			s.c.log.WithField("key", s.key).WithError(err).Warn("quota: renewing a concurrency slot failed")
		case ok == 0:
			s.c.log.WithFields(logrus.Fields{"key": s.key, "lease": s.c.lease}).
				Warn("quota: a concurrency slot's lease ran out while its call was still running")
			return
		}
		s.timer = time.AfterFunc(every, renew)
	}
	s.mu.Lock()
	s.timer = time.AfterFunc(every, renew)
	s.mu.Unlock()
}

// release gives the slot back. It is safe to call more than once and works
// after ctx has ended.
func (s *slot) release(ctx context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.released {
		return
	}
	s.released = true
	if s.timer != nil {
		s.timer.Stop()
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	if err := s.c.rdb.ZRem(rctx, s.key, s.token).Err(); err != nil {
		// The lease ends by itself; until then the slot stays taken.
		s.c.log.WithFields(logrus.Fields{"key": s.key, "lease": s.c.lease}).WithError(err).
			Warn("quota: giving back a concurrency slot failed; it frees itself when its lease ends")
	}
}
