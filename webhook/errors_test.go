package webhook

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		err     error
		status  int
		code    string
		message string
	}{
		{"request error", fmt.Errorf("x: %w", BadRequest("field %q bad", "a")), http.StatusBadRequest, codeInvalidRequest, `field "a" bad`},
		{"bad request sentinel", fmt.Errorf("no such tenant: %w", ErrBadRequest), http.StatusBadRequest, codeInvalidRequest, "no such tenant: bad request"},
		{"unauthorized", fmt.Errorf("x: %w", errUnauthorized), http.StatusUnauthorized, codeUnauthorized, "missing or invalid credentials"},
		{"forbidden", errForbidden, http.StatusForbidden, codeForbidden, "cross-site request refused"},
		{"not found", errNotFound, http.StatusNotFound, codeNotFound, "not found"},
		{"method", errMethodNotAllowed, http.StatusMethodNotAllowed, codeMethodNotAllowed, "method not allowed"},
		{"too large", fmt.Errorf("x: %w", errTooLarge), http.StatusRequestEntityTooLarge, codeTooLarge, "request body too large"},
		{"media type", errUnsupportedMediaType, http.StatusUnsupportedMediaType, codeUnsupportedMedia, "Content-Type must be application/json"},
		{"dependency", &dependencyError{op: "enqueue", err: errRedisDown}, http.StatusServiceUnavailable, codeUnavailable, "service temporarily unavailable, retry later"},
		{"dependency hiding a bad request", &dependencyError{op: "lookup", err: BadRequest("x")}, http.StatusServiceUnavailable, codeUnavailable, "service temporarily unavailable, retry later"},
		{"dependency with public text", &dependencyError{op: "ready", err: errRedisDown, public: "not ready"}, http.StatusServiceUnavailable, codeUnavailable, "not ready"},
		{"anything else", errors.New("secret detail"), http.StatusInternalServerError, codeInternal, "internal error"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status, body := classify(tt.err)
			require.Equal(t, tt.status, status)
			require.Equal(t, errorBody{Code: tt.code, Message: tt.message}, body)
		})
	}
}

func TestRequestErrorIs(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("runs: %w", BadRequest("unknown tenant %q", "x"))
	require.ErrorIs(t, err, ErrBadRequest)
	var re *RequestError
	require.ErrorAs(t, err, &re)
	require.Equal(t, `unknown tenant "x"`, re.Message)
	require.Equal(t, `runs: unknown tenant "x"`, err.Error())
}

func TestDependencyErrorText(t *testing.T) {
	t.Parallel()
	err := &dependencyError{op: "webhook: enqueue", err: errRedisDown}
	require.ErrorIs(t, err, errUnavailable)
	require.Equal(t, "webhook: enqueue: "+errRedisDown.Error(), err.Error(), "logs keep the cause")
	require.NotErrorIs(t, err, errRedisDown, "the cause is not unwrapped, so it cannot change the status")
}
