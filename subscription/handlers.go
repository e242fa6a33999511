package subscription

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/graph/directory"
)

// The handlers below do not know the task types they run under: the
// worker owns those (worker.TypeSubscriptionEnsure and
// worker.TypeSubscriptionReauthorize), and the wiring registers the
// handlers under them.

// jobPayload is the worker's SubscriptionPayload wire shape.
type jobPayload struct {
	Tenant         string `json:"tenant"`
	SubscriptionID string `json:"subscription_id,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

func decodeJob(t *asynq.Task, needSubscription bool) (jobPayload, error) {
	var p jobPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return p, fmt.Errorf("%s payload: %w: %w", t.Type(), err, asynq.SkipRetry)
	}
	if p.Tenant == "" {
		return p, fmt.Errorf("%s payload %s: tenant is required: %w", t.Type(), t.Payload(), asynq.SkipRetry)
	}
	if needSubscription && p.SubscriptionID == "" && p.Reason != directory.LifecycleSubscriptionRemoved && p.Reason != directory.LifecycleMissed {
		return p, fmt.Errorf("%s payload %s: subscription_id is required: %w", t.Type(), t.Payload(), asynq.SkipRetry)
	}
	return p, nil
}

// jobError turns a manager error into what asynq acts on: permanent ones
// (an unknown tenant) skip retries; everything else, PermissionDenied
// included, is retried with backoff (see RetryDelay) while the failure is
// already recorded on the tenant's record.
func jobError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) && e.Permanent() {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// runJob is the one path of both handlers: decode t's payload, run act on
// it, and give asynq act's error as jobError classes it.
func runJob(t *asynq.Task, needSubscription bool, act func(jobPayload) error) error {
	p, err := decodeJob(t, needSubscription)
	if err != nil {
		return err
	}
	return jobError(act(p))
}

// EnsureHandler runs subscription:ensure jobs (the scheduler's renewal
// checks, `psasync subscriptions ensure`, config reloads).
type EnsureHandler struct {
	Manager *Manager
}

// ProcessTask ensures the payload's tenant has a live subscription.
func (h *EnsureHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	return runJob(t, false, func(p jobPayload) error {
		var err error
		switch p.Reason {
		case directory.LifecycleSubscriptionRemoved, directory.LifecycleMissed:
			_, err = h.Manager.HandleLifecycle(ctx, p.Tenant, p.SubscriptionID, p.Reason)
		default:
			_, err = h.Manager.Ensure(ctx, p.Tenant)
		}
		return err
	})
}

// ReauthorizeHandler runs subscription:reauthorize jobs, which the webhook
// enqueues for lifecycle events: Reason carries the event
// (reauthorizationRequired when empty).
type ReauthorizeHandler struct {
	Manager *Manager
}

// ProcessTask acts on the lifecycle event of the payload.
func (h *ReauthorizeHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	return runJob(t, true, func(p jobPayload) error {
		event := p.Reason
		switch event {
		case directory.LifecycleReauthorizationRequired, directory.LifecycleSubscriptionRemoved, directory.LifecycleMissed:
		default:
			event = directory.LifecycleReauthorizationRequired
		}
		_, err := h.Manager.HandleLifecycle(ctx, p.Tenant, p.SubscriptionID, event)
		return err
	})
}
