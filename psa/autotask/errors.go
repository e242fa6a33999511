package autotask

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/psasync/psasync/psa"
)

// Delays a rate-limited error carries when Autotask sends no Retry-After
// header (it documents none).
const (
	// ThreadLimitRetryAfter: a thread slot frees as soon as one of the
	// integration's in-flight requests to that endpoint ends.
	ThreadLimitRetryAfter = time.Second
	// RateLimitRetryAfter: the hourly threshold is measured over a rolling
	// 60 minutes, so a minute frees about 1/60 of it.
	RateLimitRetryAfter = time.Minute
)

// classify turns an Autotask answer into a *psa.Error, or nil when it is a
// success. Autotask's status codes are not enough on their own: validation
// failures usually arrive as HTTP 500 with an errors array, an unknown API
// user or integration code as HTTP 500, and some failures inside an HTTP 200,
// so the error texts decide first.
//
//   - thread or request threshold texts, or HTTP 429: psa.ErrRateLimited
//   - HTTP 401/403, or permission and authentication texts: psa.ErrPermission
//   - duplicate texts: psa.ErrDuplicate
//   - HTTP 404: psa.ErrNotFound
//   - HTTP 5xx without an errors array (an IIS or ASP.NET failure page), and
//     502/503/504 always: psa.ErrConnection
//   - any other errors array (400, 500 or inside a 200), or another 4xx:
//     psa.ErrInvalid
func classify(op string, ans psa.Answer, now time.Time) *psa.Error {
	body := ans.Body
	msgs, hasErrors := errorTexts(body)
	status := ans.Status
	if status >= 200 && status < 300 && !hasErrors {
		return nil
	}
	e := &psa.Error{Op: op, StatusCode: status, Message: strings.Join(msgs, "; ")}
	if e.Message == "" && status >= 300 {
		e.Message = aspNetMessage(body)
	}
	e.RetryAfter = psa.ParseRetryAfter(ans.Header.Get("Retry-After"), now)
	text := strings.ToLower(e.Message)
	switch {
	case isThreadLimit(text):
		e.Kind = psa.ErrRateLimited
		if e.RetryAfter == 0 {
			e.RetryAfter = ThreadLimitRetryAfter
		}
	case status == http.StatusTooManyRequests || isThreshold(text):
		e.Kind = psa.ErrRateLimited
		if e.RetryAfter == 0 {
			e.RetryAfter = RateLimitRetryAfter
		}
	case status == http.StatusUnauthorized || status == http.StatusForbidden || isPermission(text):
		e.Kind = psa.ErrPermission
	case isDuplicate(text):
		e.Kind = psa.ErrDuplicate
	case status == http.StatusNotFound:
		e.Kind = psa.ErrNotFound
	case status >= 500 && (!hasErrors || status != http.StatusInternalServerError):
		e.Kind = psa.ErrConnection
	case status == http.StatusConflict:
		e.Kind = psa.ErrDuplicate
	default:
		e.Kind = psa.ErrInvalid
	}
	return e
}

// errorTexts reads Autotask's {"errors":[...]} envelope; items are strings,
// or objects with a message in some answers. It reports whether a non-empty
// errors array was present.
func errorTexts(body []byte) ([]string, bool) {
	var env struct {
		Errors []json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &env) != nil || len(env.Errors) == 0 {
		return nil, false
	}
	msgs := make([]string, 0, len(env.Errors))
	for _, raw := range env.Errors {
		var s string
		if json.Unmarshal(raw, &s) == nil {
			msgs = append(msgs, s)
			continue
		}
		var obj struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(raw, &obj) == nil && obj.Message != "" {
			msgs = append(msgs, obj.Message)
			continue
		}
		msgs = append(msgs, string(raw))
	}
	return msgs, true
}

// aspNetMessage reads the {"message":...} (or "Message") body ASP.NET Web
// API answers with when the failure happened outside Autotask's own code.
func aspNetMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil {
		return m.Message
	}
	return ""
}

func isThreadLimit(text string) bool {
	return strings.Contains(text, "thread threshold") || strings.Contains(text, "thread limit")
}

func isThreshold(text string) bool {
	return strings.Contains(text, "threshold") && strings.Contains(text, "exceed")
}

func isPermission(text string) bool {
	for _, p := range []string{"permission", "not authorized", "unauthorized", "access denied", "authentication failed", "security level"} {
		if strings.Contains(text, p) {
			return true
		}
	}
	return false
}

func isDuplicate(text string) bool {
	return strings.Contains(text, "duplicate") || strings.Contains(text, "already exists") || strings.Contains(text, "already in use")
}

func asPSAError(err error, target **psa.Error) bool {
	return errors.As(err, target)
}
