package graphsim

import (
	"encoding/json"
	"net/http"
	"time"
)

// graphContentType is the media type Graph answers JSON with.
const graphContentType = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

// graphErrorBody is Graph's error JSON:
// {"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}.
func graphErrorBody(r *http.Request, code, message string) []byte {
	requestID := r.Header.Get("client-request-id")
	if requestID == "" {
		requestID = newGUID()
	}
	body, _ := json.Marshal(map[string]any{
		"error": map[string]any{
			"code":    code,
			"message": message,
			"innerError": map[string]any{
				"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
				"request-id":        requestID,
				"client-request-id": requestID,
			},
		},
	})
	return body
}

// writeGraphError answers with Graph's error JSON.
func writeGraphError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	w.Header().Set("Content-Type", graphContentType)
	w.WriteHeader(status)
	_, _ = w.Write(graphErrorBody(r, code, message))
}

// graphError is the code and message of a Graph error answer.
type graphError struct{ code, message string }

// graphErrors are the code and message Graph answers a status with.
var graphErrors = map[int]graphError{
	http.StatusBadRequest:         {"BadRequest", "Invalid request."},
	http.StatusUnauthorized:       {"InvalidAuthenticationToken", "Access token validation failure."},
	http.StatusForbidden:          {"Authorization_RequestDenied", "Insufficient privileges to complete the operation."},
	http.StatusNotFound:           {"Request_ResourceNotFound", "Resource does not exist or one of its queried reference-property objects are not present."},
	http.StatusConflict:           {"Conflict", "The request conflicts with the current state of the resource."},
	http.StatusGone:               {"syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again."},
	http.StatusTooManyRequests:    {"TooManyRequests", "Too many requests. Please try again later."},
	http.StatusServiceUnavailable: {"serviceNotAvailable", "The service is temporarily unavailable. Please try again later."},
	http.StatusGatewayTimeout:     {"gatewayTimeout", "The operation timed out."},
}

// defaultGraphError gives the code and message Graph uses for a status.
func defaultGraphError(status int) (code, message string) {
	e, ok := graphErrors[status]
	if !ok {
		e = graphError{"generalException", "An unspecified error has occurred."}
	}
	return e.code, e.message
}

// writeJSON answers 200 (or status) with a Graph JSON body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", graphContentType)
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// aadErrorBody is the Entra ID token endpoint's error JSON.
func aadErrorBody(errCode string, aadsts int, description string) []byte {
	body, _ := json.Marshal(map[string]any{
		"error":             errCode,
		"error_description": description,
		"error_codes":       []int{aadsts},
		"timestamp":         time.Now().UTC().Format("2006-01-02 15:04:05Z"),
		"trace_id":          newGUID(),
		"correlation_id":    newGUID(),
	})
	return body
}

// writeAADError answers the way the Entra ID token endpoint fails.
func writeAADError(w http.ResponseWriter, status int, errCode string, aadsts int, description string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(aadErrorBody(errCode, aadsts, description))
}
