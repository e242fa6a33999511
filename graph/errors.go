package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/psasync/psasync/graph/directory"
)

// ErrRequest: Graph refused the request itself (a 4xx other than the ones
// directory has a class for), e.g. a bad subscription body.
var ErrRequest = errors.New("graph: request refused")

// defaultThrottleDelay is the RetryAfter given for a 429 without a
// Retry-After header.
const defaultThrottleDelay = 5 * time.Second

// deltaExpiredCodes are the Graph error codes that mean a delta token can no
// longer be used.
var deltaExpiredCodes = map[string]bool{
	"syncstatenotfound": true, "resyncrequired": true, "syncstateinvalid": true,
}

// Error is a failed Graph call. It unwraps to its Kind (a directory error
// class, or a *directory.ThrottledError) and to the underlying error.
type Error struct {
	// Op names the call, e.g. "graph: get user 42".
	Op string
	// Kind is the class callers branch on with errors.Is / errors.As.
	Kind error
	// StatusCode is the HTTP status, 0 when no answer arrived.
	StatusCode int
	// Code and Message are Graph's (or Entra ID's) error code and text.
	Code    string
	Message string
	// Err is the SDK's error.
	Err error
}

// Error describes the failed call: operation, class, status and Graph's code
// and message.
func (e *Error) Error() string {
	s := e.Op + ": " + e.Kind.Error()
	if e.StatusCode != 0 {
		s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Err != nil && e.Message == "" {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap exposes the class and the cause.
func (e *Error) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// classify turns an SDK, azidentity or transport error into an *Error; a
// call whose context ended reports the context's error.
func classify(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %w", op, cerr)
	}
	e := &Error{Op: op, Err: err}
	var status int
	var headers *abs.ResponseHeaders
	var odata *odataerrors.ODataError
	var api *abs.ApiError
	var authErr *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &odata):
		status, headers = odata.ResponseStatusCode, odata.GetResponseHeaders()
		if main := odata.GetErrorEscaped(); main != nil {
			e.Code, e.Message = deref(main.GetCode()), deref(main.GetMessage())
		}
	case errors.As(err, &api):
		status, headers = api.ResponseStatusCode, api.GetResponseHeaders()
		e.Message = api.Message
	case errors.As(err, &authErr):
		// The token endpoint refused (bad secret, unknown app or tenant),
		// was throttled, failed, or could not be reached.
		e.Op = op + " (token)"
		if resp := authErr.RawResponse; resp != nil {
			status, headers = resp.StatusCode, abs.NewResponseHeaders()
			for k, v := range resp.Header {
				headers.Add(k, v[0], v[1:]...)
			}
		}
		if status != 0 && status < 500 && status != http.StatusTooManyRequests {
			e.Kind, e.StatusCode = directory.ErrPermissionDenied, status
			return e
		}
	default:
		e.Kind = directory.ErrUnavailable
		return e
	}
	e.StatusCode = status
	retryAfter := ""
	if headers != nil {
		if v := headers.Get("Retry-After"); len(v) > 0 {
			retryAfter = v[0]
		}
	}
	e.Kind = kindOf(status, e.Code, retryAfter)
	return e
}

// kindOf is the class of a Graph answer with this status, Graph error code
// and Retry-After header: the one mapping for lone calls and for the
// answers inside a $batch.
func kindOf(status int, code, retryAfterHeader string) error {
	retryAfter, hasRetryAfter := parseRetryAfter(retryAfterHeader, time.Now())
	switch {
	case deltaExpiredCodes[strings.ToLower(code)] || status == http.StatusGone:
		return directory.ErrDeltaExpired
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return directory.ErrPermissionDenied
	case status == http.StatusNotFound:
		return directory.ErrNotFound
	case status == http.StatusConflict:
		return directory.ErrConflict
	case status == http.StatusTooManyRequests:
		if !hasRetryAfter {
			retryAfter = defaultThrottleDelay
		}
		return &directory.ThrottledError{RetryAfter: retryAfter, Kind: directory.ErrThrottled}
	case status >= 500 && hasRetryAfter:
		return &directory.ThrottledError{RetryAfter: retryAfter, Kind: directory.ErrUnavailable}
	case status >= 500 || status == 0:
		return directory.ErrUnavailable
	default:
		return ErrRequest
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
