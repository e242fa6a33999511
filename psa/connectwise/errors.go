package connectwise

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/psasync/psasync/psa"
)

// VendorCodeObjectExists is Manage's validation code for a record that
// already exists; the client reports it as psa.ErrDuplicate.
const VendorCodeObjectExists = "ObjectExists"

// vendorError is Manage's error JSON (ErrorResponseMessage).
type vendorError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Errors  []struct {
		Code     string `json:"code"`
		Message  string `json:"message"`
		Resource string `json:"resource"`
		Field    string `json:"field"`
	} `json:"errors"`
}

// answerError turns a non-2xx answer into a *psa.Error: the class from the
// status (401/403 permission, 404 not found, 429 rate limited with its
// Retry-After, 5xx connection, other 4xx invalid), refined by the vendor's
// code (ObjectExists anywhere in the answer is a duplicate), with the
// vendor's own message kept for the run report. An answer that is not
// Manage's error JSON (a proxy's HTML page, garbage) keeps its status class
// and says so.
func answerError(op string, status int, h http.Header, raw []byte, now time.Time) *psa.Error {
	e := &psa.Error{
		Op:         op,
		Kind:       psa.ClassifyStatus(status),
		StatusCode: status,
		RetryAfter: psa.ParseRetryAfter(h.Get("Retry-After"), now),
	}
	var v vendorError
	if err := json.Unmarshal(raw, &v); err != nil || (v.Code == "" && v.Message == "" && len(v.Errors) == 0) {
		e.Err = fmt.Errorf("answer is not ConnectWise error JSON (Content-Type %q, %s)", h.Get("Content-Type"), preview(raw))
		return e
	}
	e.VendorCode = v.Code
	parts := make([]string, 0, len(v.Errors))
	for _, fe := range v.Errors {
		if fe.Code == VendorCodeObjectExists {
			e.VendorCode = VendorCodeObjectExists
		}
		p := fe.Message
		if p == "" {
			p = fe.Code
		}
		if fe.Field != "" {
			p += " (field " + fe.Field + ")"
		}
		parts = append(parts, p)
	}
	if v.Code == VendorCodeObjectExists {
		e.VendorCode = VendorCodeObjectExists
	}
	e.Message = v.Message
	if len(parts) > 0 {
		if e.Message != "" {
			e.Message += ": "
		}
		e.Message += strings.Join(parts, "; ")
	}
	if e.VendorCode == VendorCodeObjectExists && status < 500 {
		e.Kind = psa.ErrDuplicate
	}
	return e
}

// preview describes an unreadable answer briefly: its size and its first
// printable characters.
func preview(raw []byte) string {
	if len(raw) == 0 {
		return "empty body"
	}
	s := []rune(string(raw))
	if len(s) > 80 {
		s = append(s[:80], '…')
	}
	clean := strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return ' '
	}, string(s))
	return fmt.Sprintf("%d bytes starting %q", len(raw), clean)
}
