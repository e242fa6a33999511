package directory

import (
	"errors"
	"fmt"
	"time"
)

// Error classes Graph failures unwrap to.
var (
	// ErrPermissionDenied: no token, or the app lacks User.Read.All consent.
	ErrPermissionDenied = errors.New("graph: permission denied")
	// ErrNotFound: the user (or subscription) does not exist.
	ErrNotFound = errors.New("graph: not found")
	// ErrDeltaExpired: the delta link is too old (410 Gone or
	// syncStateNotFound); start over with a full enumeration.
	ErrDeltaExpired = errors.New("graph: delta token expired")
	// ErrThrottled: Graph answered 429; see ThrottledError.RetryAfter.
	ErrThrottled = errors.New("graph: throttled")
	// ErrUnavailable: Graph could not be reached or answered 5xx.
	ErrUnavailable = errors.New("graph: unavailable")
)

// ThrottledError carries the delay Graph asked for with its 429 or 503.
type ThrottledError struct {
	RetryAfter time.Duration
	Kind       error
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.Kind, e.RetryAfter)
}

// Unwrap lets errors.Is match ErrThrottled or ErrUnavailable.
func (e *ThrottledError) Unwrap() error { return e.Kind }
