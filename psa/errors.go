package psa

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Error classes the engine branches on with errors.Is. Vendor clients return
// an *Error whose Kind is one of them.
var (
	// ErrNotFound: the contact or company does not exist (HTTP 404).
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: the PSA refused a create because the contact exists.
	ErrDuplicate = errors.New("duplicate contact")
	// ErrPermission: the API credentials are wrong or lack a right (401/403).
	ErrPermission = errors.New("permission denied")
	// ErrRateLimited: the PSA's quota is spent; Error.RetryAfter says for how long.
	ErrRateLimited = errors.New("rate limited")
	// ErrConnection: the PSA could not be reached or answered 5xx.
	ErrConnection = errors.New("psa connection error")
	// ErrInvalid: the PSA rejected the request's content (400/422) or
	// answered something psasync cannot read.
	ErrInvalid = errors.New("invalid request")
	// ErrOwnQuota marks a call psasync's own shared quota held back before
	// anything was sent: waiting for it is expected, not a failure of the
	// PSA (it comes with ErrRateLimited and a RetryAfter).
	ErrOwnQuota = errors.New("psasync's own PSA budget is spent")
)

// Error is a failed PSA call. It unwraps to its Kind so callers use
// errors.Is, and keeps the vendor's own words for the run report's psa_error.
type Error struct {
	// Op names the call, e.g. "connectwise: create contact".
	Op string
	// Kind is one of the sentinels above.
	Kind error
	// StatusCode is the HTTP status, 0 when no answer arrived.
	StatusCode int
	// VendorCode is the vendor's error code (ConnectWise "ObjectExists").
	VendorCode string
	// Message is the vendor's message, safe to show a user.
	Message string
	// RetryAfter is how long the PSA asked us to wait (rate limits, 503).
	RetryAfter time.Duration
	// Err is an underlying transport or decode error, if any.
	Err error
}

func (e *Error) Error() string {
	s := e.Op + ": " + e.Kind.Error()
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.VendorCode != "" {
		s += " " + e.VendorCode
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes both the class and the cause to errors.Is / errors.As.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// VendorText is what the run report shows as psa_error: the PSA's own code
// and message, empty when the PSA never answered.
func (e *Error) VendorText() string {
	switch {
	case e.VendorCode != "" && e.Message != "":
		return e.VendorCode + ": " + e.Message
	case e.Message != "":
		return e.Message
	case e.StatusCode != 0:
		return fmt.Sprintf("HTTP %d", e.StatusCode)
	}
	return ""
}

// RetryAfter returns the delay a rate-limited or unavailable PSA asked for,
// and whether err carries one.
func RetryAfter(err error) (time.Duration, bool) {
	var pe *Error
	if errors.As(err, &pe) && pe.RetryAfter > 0 {
		return pe.RetryAfter, true
	}
	return 0, false
}

// ClassifyStatus maps an HTTP status to an error class, for vendors whose
// status codes mean what HTTP says.
func ClassifyStatus(status int) error {
	switch {
	case status == 401 || status == 403:
		return ErrPermission
	case status == 404:
		return ErrNotFound
	case status == 409:
		return ErrDuplicate
	case status == 429:
		return ErrRateLimited
	case status >= 500:
		return ErrConnection
	default:
		return ErrInvalid
	}
}

// ParseRetryAfter reads a Retry-After header: seconds (possibly fractional,
// "2.128") or an HTTP date. It returns 0 for an absent or unreadable value.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var secs float64
	if _, err := fmt.Sscanf(v, "%g", &secs); err == nil && secs >= 0 {
		return time.Duration(secs * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
