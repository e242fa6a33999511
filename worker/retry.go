package worker

import (
	"errors"
	"time"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// RetryDelay is asynq's RetryDelayFunc: it honours the Retry-After a PSA or
// Graph sent, retries a locked user quickly, and backs off otherwise.
func RetryDelay(n int, err error, t *asynq.Task) time.Duration {
	if errors.Is(err, ErrUserLocked) {
		return 300 * time.Millisecond
	}
	if errors.Is(err, ErrTenantBusy) {
		return 2 * time.Second
	}
	if errors.Is(err, asynq.ErrLeaseExpired) {
		// The worker that had the job died: run it again at once.
		return time.Second
	}
	if d, ok := askedDelay(err); ok && d > 0 {
		return d + 100*time.Millisecond
	}
	return asynq.DefaultRetryDelayFunc(n, err, t)
}

// IsFailure is asynq's IsFailure: waiting for a lock or a rate limit is not a
// failure, so it does not use up the job's retries.
func IsFailure(err error) bool {
	if errors.Is(err, ErrUserLocked) || errors.Is(err, ErrTenantBusy) || errors.Is(err, psa.ErrRateLimited) || errors.Is(err, directory.ErrThrottled) {
		return false
	}
	return true
}

// ServerConfig is the asynq server configuration psasync's workers use.
func ServerConfig(concurrency int, log asynq.Logger) asynq.Config {
	return ServerConfigFor(concurrency, log, DefaultQueues)
}

// ServerConfigFor is ServerConfig for queues with a prefix.
func ServerConfigFor(concurrency int, log asynq.Logger, queues Queues) asynq.Config {
	return asynq.Config{
		Concurrency:              concurrency,
		Queues:                   queues.Weights(),
		RetryDelayFunc:           RetryDelay,
		IsFailure:                IsFailure,
		DelayedTaskCheckInterval: 200 * time.Millisecond,
		// An idle worker looks for new jobs ten times a second (asynq's
		// default is once a second), so a notification reaches the PSA
		// within about a second; the cost is a few Redis calls a second.
		TaskCheckInterval: 100 * time.Millisecond,
		ShutdownTimeout:   25 * time.Second,
		Logger:            log,
	}
}
