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

// defaultGraphError gives the code and message Graph uses for a status.
func defaultGraphError(status int) (code, message string) {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest", "Invalid request."
	case http.StatusUnauthorized:
		return "InvalidAuthenticationToken", "Access token validation failure."
	case http.StatusForbidden:
		return "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
	case http.StatusNotFound:
		return "Request_ResourceNotFound", "Resource does not exist or one of its queried reference-property objects are not present."
	case http.StatusConflict:
		return "Conflict", "The request conflicts with the current state of the resource."
	case http.StatusGone:
		return "syncStateNotFound", "The sync state generation is not found. The delta token is expired and data must be synchronized again."
	case http.StatusTooManyRequests:
		return "TooManyRequests", "Too many requests. Please try again later."
	case http.StatusServiceUnavailable:
		return "serviceNotAvailable", "The service is temporarily unavailable. Please try again later."
	case http.StatusGatewayTimeout:
		return "gatewayTimeout", "The operation timed out."
	default:
		return "generalException", "An unspecified error has occurred."
	}
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
