package cwsim

import (
	"encoding/json"
	"net/http"
)

// vendorError is Manage's error body (ErrorResponseMessage): a code, a
// message and, for validation failures, one entry per offending field.
type vendorError struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Errors  []fieldError `json:"errors,omitempty"`
}

// fieldError is one entry of vendorError.Errors (ValidationError).
type fieldError struct {
	Code     string `json:"code"`
	Message  string `json:"message"`
	Resource string `json:"resource,omitempty"`
	Field    string `json:"field,omitempty"`
}

// apiError is a failed call inside a handler: the status and the body to
// answer with.
type apiError struct {
	status int
	body   vendorError
}

func (e *apiError) Error() string { return e.body.Code + ": " + e.body.Message }

// badCondition is the 400 Manage gives for a conditions string it cannot
// use.
func badCondition(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: vendorError{Code: "ApiFindCondition", Message: msg}}
}

// badRequest is a 400 for a malformed request that is not about conditions.
func badRequest(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: vendorError{Code: "InvalidObject", Message: msg}}
}

// invalidContact is the 400 Manage gives when a contact fails validation.
func invalidContact(code, field, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: vendorError{
		Code:    "InvalidObject",
		Message: "contact object is invalid",
		Errors:  []fieldError{{Code: code, Message: msg, Resource: "contact", Field: field}},
	}}
}

// notFound is Manage's 404 for a record id that does not exist.
func notFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, body: vendorError{Code: "NotFound", Message: msg}}
}

// writeError answers with status and the vendor error JSON.
func writeError(w http.ResponseWriter, version string, status int, body vendorError) {
	writeJSON(w, version, status, body)
}

// writeJSON answers with status and v encoded in Manage's versioned media
// type.
func writeJSON(w http.ResponseWriter, version string, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Every value written here is a plain struct or slice of them.
		status = http.StatusInternalServerError
		b = []byte(`{"code":"InternalServerError","message":"simulator could not encode its answer"}`)
	}
	w.Header().Set("Content-Type", mediaType(version))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// defaultFaultBody is the vendor error JSON an injected fault answers with
// when the Fault names no body.
func defaultFaultBody(status int) vendorError {
	switch {
	case status == http.StatusTooManyRequests:
		return vendorError{Code: "TooManyRequests", Message: "The API request limit has been reached. Retry the request later."}
	case status == http.StatusUnauthorized:
		return vendorError{Code: "Unauthorized", Message: "The request could not be authenticated."}
	case status == http.StatusForbidden:
		return vendorError{Code: "Forbidden", Message: "You do not have access to this resource."}
	case status == http.StatusNotFound:
		return vendorError{Code: "NotFound", Message: "The requested record was not found."}
	case status == http.StatusServiceUnavailable:
		return vendorError{Code: "ServiceUnavailable", Message: "The service is temporarily unavailable."}
	case status >= 500:
		return vendorError{Code: "InternalServerError", Message: "An error has occurred."}
	default:
		return vendorError{Code: "InvalidObject", Message: http.StatusText(status)}
	}
}
