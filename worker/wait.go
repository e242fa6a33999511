package worker

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// waitPolicy says what a caller does when the PSA or Graph asks it to wait.
// Retries are decided in one place per path: a run waits in place, a
// per-user job hands the delay to the queue (RetryDelay).
type waitPolicy struct {
	name string
	// vendorTries bounds the tries of a call the PSA or Graph throttled; 1
	// means the error goes back to the caller at once.
	vendorTries int
	// ownQuota bounds the total wait, per call, for psasync's own PSA budget.
	ownQuota time.Duration
}

// runWaits is a run's policy: wait out each Retry-After (up to MaxWait at a
// time, MaxAttempts tries), and pace on psasync's own budget for as long as
// MaxOwnQuotaWait, so a run larger than the budget spreads out, not fails.
func (c Config) runWaits() waitPolicy {
	return waitPolicy{name: "run", vendorTries: c.MaxAttempts, ownQuota: c.MaxOwnQuotaWait}
}

// jobOwnQuotaWait is how long a per-user job waits in place for psasync's
// own budget before handing the wait to the queue: re-running the job later
// would spend its Graph and PSA reads again.
const jobOwnQuotaWait = 10 * time.Second

// jobWaits is a per-user job's policy: vendor throttling goes back to the
// queue, which retries after Retry-After; only a short wait for psasync's
// own budget happens in place.
func jobWaits() waitPolicy { return waitPolicy{name: "job", vendorTries: 1, ownQuota: jobOwnQuotaWait} }

// waiter runs calls under a policy and adds up what they waited.
type waiter struct {
	policy   waitPolicy
	maxWait  time.Duration
	log      logrus.FieldLogger
	progress func(reason string, until time.Time)
	mu       sync.Mutex
	thr      Throttling
}

func (e *Engine) newWaiter(p waitPolicy, log logrus.FieldLogger, progress func(string, time.Time)) *waiter {
	return &waiter{policy: p, maxWait: e.cfg.MaxWait, log: log, progress: progress}
}

func (w *waiter) throttling() Throttling {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.thr
}

// do runs fn, waiting as the policy allows when it is throttled. Waits for
// psasync's own budget and for the vendor's limits are counted apart: the
// former are pacing, bounded by time; the latter are bounded by tries.
func (w *waiter) do(ctx context.Context, fn func() error) error {
	var ownWaited time.Duration
	vendorTries := 0
	for {
		err := fn()
		if err == nil {
			return nil
		}
		d, ok := askedDelay(err)
		if !ok || d > w.maxWait {
			return err
		}
		reason := "psa quota (psasync's own budget)"
		if errors.Is(err, psa.ErrOwnQuota) {
			if ownWaited += d; ownWaited > w.policy.ownQuota {
				return err
			}
		} else {
			if vendorTries++; vendorTries >= w.policy.vendorTries {
				return err
			}
			reason = "throttled by the PSA or Graph"
		}
		if serr := w.sleep(ctx, d, reason); serr != nil {
			return errors.Join(err, serr)
		}
	}
}

// doValue is do for a call that returns a value.
func doValue[T any](ctx context.Context, w *waiter, call func() (T, error)) (T, error) {
	var v T
	err := w.do(ctx, func() error {
		var err error
		v, err = call()
		return err
	})
	return v, err
}

// sleep records and waits one delay.
func (w *waiter) sleep(ctx context.Context, d time.Duration, reason string) error {
	w.mu.Lock()
	w.thr.Events++
	w.thr.WaitedMS += d.Milliseconds()
	w.mu.Unlock()
	w.log.WithFields(logrus.Fields{"wait": d.String(), "reason": reason, "policy": w.policy.name}).Warn("throttled; waiting as asked")
	if w.progress != nil {
		w.progress(reason, time.Now().Add(d))
		defer w.progress("", time.Time{})
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// askedDelay returns the delay a throttled PSA or Graph call asked for
// (one second when it named none), and false for any other error.
func askedDelay(err error) (time.Duration, bool) {
	if d, ok := psa.RetryAfter(err); ok && (errors.Is(err, psa.ErrRateLimited) || errors.Is(err, psa.ErrConnection)) {
		return d, true
	}
	if errors.Is(err, psa.ErrRateLimited) {
		return time.Second, true
	}
	var te *directory.ThrottledError
	if errors.As(err, &te) {
		if te.RetryAfter <= 0 {
			return time.Second, true
		}
		return te.RetryAfter, true
	}
	return 0, false
}
