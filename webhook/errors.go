package webhook

import (
	"cmp"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/sirupsen/logrus"
)

// ErrBadRequest marks an error whose text is safe to show the API caller; it
// is answered with 400. Runs.StartRun wraps it for run inputs it refuses
// (an unknown tenant, a company the tenant does not own). When the chain
// holds a *RequestError the caller sees its Message, otherwise the error's
// full text.
var ErrBadRequest = errors.New("bad request")

// RequestError is a 400 whose Message is shown to the caller verbatim; it
// matches ErrBadRequest with errors.Is. Build it with BadRequest.
type RequestError struct {
	// Message names what was wrong in the request, e.g. `unknown field "dryrun"`.
	Message string
}

// Error returns the client-safe message.
func (e *RequestError) Error() string { return e.Message }

// Is makes errors.Is(err, ErrBadRequest) true for every *RequestError.
func (e *RequestError) Is(target error) bool { return target == ErrBadRequest }

// BadRequest returns a *RequestError with a formatted, client-safe message,
// so Runs implementations can refuse an input with a clean 400 text.
func BadRequest(format string, args ...any) error {
	return &RequestError{Message: fmt.Sprintf(format, args...)}
}

// StatusError is a refusal whose status (404, 409) and Message the caller
// sees verbatim: an operator's action on something unknown or stale (build
// it with NotFound or Conflict), or one of the server's own refusals below.
type StatusError struct {
	Status  int
	Code    string
	Message string
}

// Error returns the client-safe message.
func (e *StatusError) Error() string { return e.Message }

// NotFound is a 404 naming what does not exist (a tenant, user, conflict,
// batch or contact).
func NotFound(format string, args ...any) error {
	return &StatusError{Status: http.StatusNotFound, Code: codeNotFound, Message: fmt.Sprintf(format, args...)}
}

// Conflict is a 409 naming why the action no longer applies (a conflict
// already resolved, a batch replaced, a run in progress).
func Conflict(format string, args ...any) error {
	return &StatusError{Status: http.StatusConflict, Code: codeConflict, Message: fmt.Sprintf(format, args...)}
}

// FailedDependency is a 424 naming what a vendor refused that the operator
// must fix (a Graph permission to grant in the partner tenant).
func FailedDependency(format string, args ...any) error {
	return &StatusError{Status: http.StatusFailedDependency, Code: codeFailedDependency, Message: fmt.Sprintf(format, args...)}
}

// Refusals of the server itself, answered with fixed text: each is a
// *StatusError, so its status and words are stated once, here.
var (
	errUnauthorized         = &StatusError{Status: http.StatusUnauthorized, Code: codeUnauthorized, Message: "missing or invalid credentials"}
	errForbidden            = &StatusError{Status: http.StatusForbidden, Code: codeForbidden, Message: "cross-site request refused"}
	errNotFound             = &StatusError{Status: http.StatusNotFound, Code: codeNotFound, Message: "not found"}
	errMethodNotAllowed     = &StatusError{Status: http.StatusMethodNotAllowed, Code: codeMethodNotAllowed, Message: "method not allowed"}
	errTooLarge             = &StatusError{Status: http.StatusRequestEntityTooLarge, Code: codeTooLarge, Message: "request body too large"}
	errUnsupportedMediaType = &StatusError{Status: http.StatusUnsupportedMediaType, Code: codeUnsupportedMedia, Message: "Content-Type must be application/json"}
	errUnavailable          = &StatusError{Status: http.StatusServiceUnavailable, Code: codeUnavailable, Message: "service temporarily unavailable, retry later"}
)

// Error codes of the JSON envelope; clients branch on them.
const (
	codeInvalidRequest   = "invalid_request"
	codeUnauthorized     = "unauthorized"
	codeForbidden        = "forbidden"
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "payload_too_large"
	codeUnsupportedMedia = "unsupported_media_type"
	codeUnavailable      = "unavailable"
	codeInternal         = "internal"
	codeConflict         = "conflict"
	codeFailedDependency = "failed_dependency"
)

// errorEnvelope is the one shape every error answer has:
// {"error":{"code":"...","message":"..."}}.
type errorEnvelope struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// classify maps an error to its HTTP status and the client-safe envelope.
// Only 400s carry the error's own words; everything else gets fixed text so
// internal details (Redis addresses, wrapped causes) stay in the logs.
func classify(err error) (int, errorBody) {
	var (
		reqErr    *RequestError
		depErr    *dependencyError
		statusErr *StatusError
	)
	switch {
	case errors.As(err, &statusErr):
		return statusErr.Status, errorBody{statusErr.Code, statusErr.Message}
	case errors.As(err, &depErr):
		msg := cmp.Or(depErr.public, errUnavailable.Message)
		return errUnavailable.Status, errorBody{errUnavailable.Code, msg}
	case errors.As(err, &reqErr):
		return http.StatusBadRequest, errorBody{codeInvalidRequest, reqErr.Message}
	case errors.Is(err, ErrBadRequest):
		return http.StatusBadRequest, errorBody{codeInvalidRequest, err.Error()}
	}
	return http.StatusInternalServerError, errorBody{codeInternal, "internal error"}
}

// writeError is the one place an error becomes a response: it logs the
// wrapped error with the request id (5xx at warning level, the rest at
// debug) and aborts the chain with the JSON envelope.
func (s *Server) writeError(c *gin.Context, err error) {
	status, body := classify(err)
	level := logrus.DebugLevel
	if status >= http.StatusInternalServerError {
		level = logrus.WarnLevel
	}
	if levelEnabled(s.log, level) {
		entry := s.log.WithFields(logrus.Fields{
			"request_id": requestID(c),
			"status":     status,
			"code":       body.Code,
		}).WithError(err)
		if level == logrus.WarnLevel {
			entry.Warn("request failed")
		} else {
			entry.Debug("request refused")
		}
	}
	c.AbortWithStatusJSON(status, errorEnvelope{Error: body})
}

// levelEnabled reports whether l would emit at lvl, so hot paths skip
// building log fields nobody reads. Unknown FieldLogger implementations are
// assumed to log everything.
func levelEnabled(l logrus.FieldLogger, lvl logrus.Level) bool {
	switch v := l.(type) {
	case *logrus.Logger:
		return v.IsLevelEnabled(lvl)
	case *logrus.Entry:
		return v.Logger.IsLevelEnabled(lvl)
	default:
		return true
	}
}
