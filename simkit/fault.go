package simkit

import (
	"io"
	"net/http"
	"strings"
	"time"
)

// Fault makes matching requests fail or slow down, to imitate quotas,
// outages and distant sites. Zero fields match anything.
type Fault struct {
	// Method matches the HTTP method, ignoring case; empty matches any.
	Method string `json:"method"`
	// PathContains matches requests whose path contains it, ignoring case
	// (Halo and Autotask route paths ignoring case); empty matches any.
	PathContains string `json:"path_contains"`
	// Tenant limits the fault to one tenant's requests, for simulators that
	// serve several tenants (graphsim); empty matches any. A single-tenant
	// simulator's requests have no tenant, so a fault naming one never hits.
	Tenant string `json:"tenant"`
	// Status is the HTTP status to answer with; 0 only adds Latency and lets
	// the request through.
	Status int `json:"status"`
	// Code is the vendor's error code in the generated body, for vendors
	// whose errors carry one (Graph, ConnectWise); empty picks the usual one
	// for Status.
	Code string `json:"code"`
	// RetryAfter is sent as the Retry-After header when set ("2", "2.128" or
	// an HTTP date).
	RetryAfter string `json:"retry_after"`
	// Count is how many requests the fault hits; 0 means until cleared.
	Count int `json:"count"`
	// Latency delays the matching requests before they are answered (or let
	// through).
	Latency time.Duration `json:"-"`
	// Body is the answer body as is (garbage and HTML included); empty lets
	// the simulator write its vendor's error for Status.
	Body string `json:"body"`
}

// Matches reports whether the fault applies to a request with this method,
// path and tenant ("" when the simulator has no tenants).
func (f Fault) Matches(method, path, tenant string) bool {
	if f.Method != "" && !strings.EqualFold(f.Method, method) {
		return false
	}
	if f.PathContains != "" && !strings.Contains(strings.ToLower(path), strings.ToLower(f.PathContains)) {
		return false
	}
	return f.Tenant == "" || f.Tenant == tenant
}

// WriteRaw sets the fault's Retry-After on w and, when the fault has a Body,
// answers with it under contentType. It reports whether it answered; when it
// did not, the simulator writes its vendor's error for Status.
func (f Fault) WriteRaw(w http.ResponseWriter, contentType string) bool {
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body == "" {
		return false
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(f.Status)
	_, _ = io.WriteString(w, f.Body)
	return true
}
