package halopsa

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/psasync/psasync/psa"
)

// DefaultRetryAfter is the wait reported for a 429 that carries no
// Retry-After header. Hosted Halo counts requests over a rolling five-minute
// window, so a short fixed wait (integrations commonly use 5 s) mostly earns
// another 429; half a minute lets a meaningful part of the window expire.
const DefaultRetryAfter = 30 * time.Second

// maxMessage bounds the vendor message kept in an error (run reports show it).
const maxMessage = 500

// statusError turns a non-2xx answer into a *psa.Error:
//
//	401, 403 → psa.ErrPermission
//	404      → psa.ErrNotFound
//	409      → psa.ErrDuplicate
//	429      → psa.ErrRateLimited, RetryAfter from the header or DefaultRetryAfter
//	5xx      → psa.ErrConnection (RetryAfter from the header, if any)
//	400, other 4xx → psa.ErrInvalid with Halo's message, or psa.ErrDuplicate
//	         when the message says the email address is already in use
//
// Halo has no duplicate-specific status: a refused duplicate arrives as a 400
// whose text says the user (email address) already exists.
func (c *Client) statusError(op string, ans psa.Answer) *psa.Error {
	status, header := ans.Status, ans.Header
	code, msg := vendorMessage(ans.Body)
	e := &psa.Error{Op: op, Kind: psa.ClassifyStatus(status), StatusCode: status, VendorCode: code, Message: msg}
	switch {
	case status == http.StatusTooManyRequests:
		e.RetryAfter = psa.ParseRetryAfter(header.Get("Retry-After"), c.now())
		if e.RetryAfter <= 0 {
			e.RetryAfter = DefaultRetryAfter
		}
	case status >= 500:
		e.RetryAfter = psa.ParseRetryAfter(header.Get("Retry-After"), c.now())
	case status == http.StatusBadRequest && isDuplicateMessage(msg):
		e.Kind = psa.ErrDuplicate
	}
	return e
}

// vendorMessage extracts Halo's words from an error body: a plain text or
// JSON string message, or a JSON object's message/error fields. HTML pages
// (proxies, IIS) yield nothing rather than markup.
func vendorMessage(body []byte) (code, msg string) {
	text := strings.TrimSpace(string(body))
	if text == "" || strings.HasPrefix(text, "<") {
		return "", ""
	}
	var v any
	if json.Unmarshal([]byte(text), &v) != nil {
		return "", clip(text)
	}
	switch x := v.(type) {
	case string:
		return "", clip(x)
	case []any:
		var parts []string
		for _, item := range x {
			if s, ok := item.(string); ok {
				parts = append(parts, s)
			}
		}
		return "", clip(strings.Join(parts, "; "))
	case map[string]any:
		str := func(keys ...string) string {
			for _, k := range keys {
				if s, ok := x[k].(string); ok && s != "" {
					return s
				}
			}
			return ""
		}
		code = str("error", "ClassName", "code")
		msg = str("error_description", "message", "Message", "title", "detail")
		if msg == "" && code == "" {
			return "", clip(text)
		}
		return clip(code), clip(msg)
	}
	return "", clip(text)
}

// isDuplicateMessage reports whether a 400's text says the user exists.
func isDuplicateMessage(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "already exists") || strings.Contains(m, "already in use") || strings.Contains(m, "duplicate")
}

// clip shortens s to maxMessage bytes on a rune boundary.
func clip(s string) string {
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
