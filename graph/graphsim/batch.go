package graphsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// MaxBatchRequests is how many requests Graph takes in one JSON batch.
const MaxBatchRequests = 20

// batchRequest is one item of a $batch body as Microsoft's JSON batching
// page documents it: {id, method, url (relative to the version), headers,
// body}; dependsOn is accepted and ignored (items run in order here).
type batchRequest struct {
	ID        string            `json:"id"`
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Headers   map[string]string `json:"headers"`
	Body      json.RawMessage   `json:"body"`
	DependsOn []string          `json:"dependsOn"`
}

// batchResponse is one item of the answer: {id, status, headers, body}.
type batchResponse struct {
	ID      string            `json:"id"`
	Status  int               `json:"status"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
}

// handleBatch answers POST /v1.0/$batch: every request is answered on its
// own, as if sent alone with the batch's bearer token, faults included (a
// Fault on "/users/" throttles the user reads inside a batch, each with its
// own 429 and Retry-After, while the batch itself answers 200). Like Graph,
// the answers come back in no promised order (here: reversed), a batch of
// more than 20 requests, or one with a missing or repeated id, is refused
// whole with 400.
func (s *Sim) handleBatch(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := s.authenticate(w, r); !ok {
		return
	}
	var in struct {
		Requests []batchRequest `json:"requests"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "Invalid batch payload format: "+err.Error())
		return
	}
	if err := checkBatch(in.Requests); err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	out := make([]batchResponse, len(in.Requests))
	for i, item := range in.Requests {
		out[len(out)-1-i] = s.serveBatchItem(r, item)
	}
	s.mu.Lock()
	s.counts.batches++
	s.counts.batched += len(in.Requests)
	for _, resp := range out {
		if resp.Status == http.StatusTooManyRequests {
			s.counts.batchThrottled++
		}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"responses": out})
}

// checkBatch refuses what Graph refuses before running any request.
func checkBatch(reqs []batchRequest) error {
	if len(reqs) == 0 {
		return fmt.Errorf("batch request has no requests")
	}
	if len(reqs) > MaxBatchRequests {
		return fmt.Errorf("the number of batch requests (%d) exceeds the limit of %d", len(reqs), MaxBatchRequests)
	}
	seen := make(map[string]bool, len(reqs))
	for _, req := range reqs {
		switch {
		case req.ID == "":
			return fmt.Errorf("a batch request has no id")
		case seen[req.ID]:
			return fmt.Errorf("batch request id %q is repeated", req.ID)
		case req.Method == "" || req.URL == "":
			return fmt.Errorf("batch request %q needs a method and a url", req.ID)
		case strings.Contains(req.URL, "$batch"):
			return fmt.Errorf("batch request %q: batches do not nest", req.ID)
		}
		seen[req.ID] = true
	}
	return nil
}

// serveBatchItem runs one item through the same faults and routes as a
// request of its own and captures the answer; it counts as one Graph read
// or write, while the batch itself is one round trip.
func (s *Sim) serveBatchItem(outer *http.Request, item batchRequest) batchResponse {
	path := "/v1.0/" + strings.TrimPrefix(item.URL, "/")
	var body *bytes.Reader
	if len(item.Body) > 0 {
		body = bytes.NewReader(item.Body)
	} else {
		body = bytes.NewReader(nil)
	}
	inner, err := http.NewRequestWithContext(outer.Context(), strings.ToUpper(item.Method), path, body)
	if err != nil {
		return batchResponse{ID: item.ID, Status: http.StatusBadRequest,
			Body: graphErrorBody(outer, "BadRequest", "Invalid request url: "+err.Error())}
	}
	inner.Host, inner.TLS, inner.RemoteAddr = outer.Host, outer.TLS, outer.RemoteAddr
	inner.Header.Set("Authorization", outer.Header.Get("Authorization"))
	for k, v := range item.Headers {
		inner.Header.Set(k, v)
	}
	rr := httptest.NewRecorder()
	rec := simkit.NewCapture(rr)
	if !s.applyFault(rec, inner) {
		s.mux.ServeHTTP(rec, inner)
	}
	s.meter.ReadOrWrite(inner.Method)
	headers := map[string]string{}
	for _, k := range []string{"Content-Type", "Retry-After", "Location"} {
		if v := rr.Header().Get(k); v != "" {
			headers[k] = v
		}
	}
	resp := batchResponse{ID: item.ID, Status: rec.Status(), Headers: headers}
	if b := bytes.TrimSpace(rr.Body.Bytes()); len(b) > 0 {
		if json.Valid(b) {
			resp.Body = b
		} else {
			// Graph carries a body that is not JSON as a JSON string.
			resp.Body, _ = json.Marshal(string(b))
		}
	}
	return resp
}
