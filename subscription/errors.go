package subscription

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/psasync/psasync/graph/directory"
)

// ErrUnknownTenant is what a Clients implementation wraps when it cannot
// build a Graph client for a tenant (not configured, no credentials).
// Retrying cannot help, so jobs stop; Delete drops the local record.
var ErrUnknownTenant = errors.New("subscription: unknown tenant")

// Error codes recorded in Record.ErrorCode and shown by `subscriptions list`.
const (
	// CodePermissionDenied: the tenant's admin consent is missing or was
	// revoked (Graph answered 401/403). Retried with backoff.
	CodePermissionDenied = "PermissionDenied"
	// CodeThrottled: Graph answered 429; retried after its Retry-After.
	CodeThrottled = "Throttled"
	// CodeGraphUnavailable: Graph could not be reached or answered 5xx.
	CodeGraphUnavailable = "GraphUnavailable"
	// CodeConflict: Graph reported a duplicate subscription that the listing
	// did not show yet; the next attempt adopts or deletes it.
	CodeConflict = "SubscriptionConflict"
	// CodeUnknownTenant: no Graph client can be built for the tenant.
	CodeUnknownTenant = "UnknownTenant"
	// CodeSubscriptionFailed: any other failure, e.g. Graph refused the
	// subscription because the webhook failed the validation handshake.
	CodeSubscriptionFailed = "SubscriptionFailed"
	// CodeInvalidRequest: the request itself was wrong (e.g. an unknown
	// lifecycle event); retrying cannot help.
	CodeInvalidRequest = "InvalidRequest"
	// CodeSubscriptionExpired is reported by List for a record whose
	// subscription has lapsed.
	CodeSubscriptionExpired = "SubscriptionExpired"
)

// Error is a failed manager operation for one tenant. Code classifies it,
// RetryAfter says when trying again makes sense.
type Error struct {
	TenantID string
	// Op names what failed, e.g. "list subscriptions".
	Op string
	// Code is one of the Code constants.
	Code string
	// RetryAfter is the delay before the next attempt (Graph's Retry-After,
	// or the manager's backoff); see RetryDelay.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	return fmt.Sprintf("subscription: tenant %s: %s: %s: %v", e.TenantID, e.Op, e.Code, e.Err)
}

// Unwrap exposes the cause, so errors.Is matches directory's classes.
func (e *Error) Unwrap() error { return e.Err }

// Permanent reports whether retrying the same job cannot help.
func (e *Error) Permanent() bool { return e.Code == CodeUnknownTenant || e.Code == CodeInvalidRequest }

// busyRetry is how soon a job that found the tenant locked tries again.
const busyRetry = 5 * time.Second

// RetryDelay returns the delay a failed subscription job should wait before
// its retry: Graph's Retry-After or the manager's backoff (doubling from a
// minute up to an hour for PermissionDenied), a few seconds for ErrBusy.
// ok is false when err carries no advice (use the default backoff). A
// worker's asynq RetryDelayFunc can consult it for subscription tasks.
func RetryDelay(err error) (time.Duration, bool) {
	if errors.Is(err, ErrBusy) {
		return busyRetry, true
	}
	var e *Error
	if errors.As(err, &e) && e.RetryAfter > 0 {
		return e.RetryAfter, true
	}
	return 0, false
}

// classify maps a failure to its code, Graph's Retry-After (0 when none)
// and the health it leaves a live subscription in.
func classify(err error) (code string, retryAfter time.Duration, health string) {
	var te *directory.ThrottledError
	switch {
	case errors.Is(err, ErrUnknownTenant):
		return CodeUnknownTenant, 0, HealthUnhealthy
	case errors.Is(err, directory.ErrPermissionDenied):
		return CodePermissionDenied, 0, HealthUnhealthy
	case errors.As(err, &te):
		if errors.Is(te.Kind, directory.ErrThrottled) {
			return CodeThrottled, te.RetryAfter, HealthPending
		}
		return CodeGraphUnavailable, te.RetryAfter, HealthPending
	case errors.Is(err, directory.ErrThrottled):
		return CodeThrottled, 0, HealthPending
	case errors.Is(err, directory.ErrUnavailable):
		return CodeGraphUnavailable, 0, HealthPending
	case errors.Is(err, directory.ErrConflict):
		return CodeConflict, 0, HealthPending
	default:
		return CodeSubscriptionFailed, 0, HealthUnhealthy
	}
}

// backoff is the manager's delay after n consecutive failures: one minute,
// doubling, at most an hour (the renewal check runs hourly anyway).
func backoff(n int) time.Duration {
	if n < 1 {
		n = 1
	}
	if n > 7 {
		return time.Hour
	}
	d := time.Minute << (n - 1)
	if d > time.Hour {
		d = time.Hour
	}
	return d
}

// isCanceled reports whether err comes from the caller's context ending, in
// which case nothing is recorded.
func isCanceled(ctx context.Context, err error) bool {
	return ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
}
