package webhook

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
)

// Tenants serves the onboarding API under /api/v1/tenants. Results are
// JSON-encodable values; an error wrapping ErrBadRequest is a 400, a
// *StatusError its own status (404 unknown tenant, 409 a conflict), each
// with its message; anything else a 500.
type Tenants interface {
	// ListTenants returns the discovered tenants with the status ("" all).
	ListTenants(ctx context.Context, status string) (any, error)
	// DiscoverTenants runs a discovery (stored unless dryRun).
	DiscoverTenants(ctx context.Context, dryRun bool) (any, error)
	// AcceptTenant accepts a tenant's mapping.
	AcceptTenant(ctx context.Context, tenantID string, req AcceptTenantRequest) (any, error)
	// RejectTenant rejects a tenant.
	RejectTenant(ctx context.Context, tenantID, reason string) (any, error)
	// ExportTenants renders the accepted tenants in format (yaml, json,
	// csv) and returns the content type.
	ExportTenants(ctx context.Context, format string) (contentType string, body []byte, err error)
}

// AcceptTenantRequest is the body of POST /api/v1/tenants/{tenant}/accept.
type AcceptTenantRequest struct {
	// CompanyID is the PSA company to map to; empty takes the proposal's.
	CompanyID string `json:"company_id"`
	// WriteBack writes the tenant id to the PSA company.
	WriteBack bool `json:"write_back"`
}

// rejectTenantRequest is the body of POST /api/v1/tenants/{tenant}/reject.
type rejectTenantRequest struct {
	Reason string `json:"reason"`
}

// maxTenantIDLength bounds a tenant id in the path; a GUID has 36.
const maxTenantIDLength = 64

// mountTenants adds the onboarding routes to the bearer-token API group.
func (s *Server) mountTenants(api *gin.RouterGroup) {
	if s.cfg.Tenants == nil {
		return
	}
	api.GET("/tenants/discovered", s.handleListTenants)
	api.POST("/tenants/discover", s.handleDiscoverTenants)
	api.GET("/tenants/export", s.handleExportTenants)
	api.POST("/tenants/:tenant/accept", s.handleAcceptTenant)
	api.POST("/tenants/:tenant/reject", s.handleRejectTenant)
}

// handleListTenants serves GET /api/v1/tenants/discovered?status=...
func (s *Server) handleListTenants(c *gin.Context) {
	res, err := s.cfg.Tenants.ListTenants(c.Request.Context(), c.Query("status"))
	s.writeTenantResult(c, http.StatusOK, res, err, "list tenants")
}

// handleDiscoverTenants serves POST /api/v1/tenants/discover?dry_run=true.
func (s *Server) handleDiscoverTenants(c *gin.Context) {
	dry := false
	if v, ok := c.GetQuery("dry_run"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			s.writeError(c, BadRequest(`query parameter "dry_run" must be true or false, got %q`, clip(v, maxFieldNameEcho)))
			return
		}
		dry = b
	}
	res, err := s.cfg.Tenants.DiscoverTenants(c.Request.Context(), dry)
	s.writeTenantResult(c, http.StatusOK, res, err, "discover tenants")
}

// handleExportTenants serves GET /api/v1/tenants/export?format=json|csv|yaml.
func (s *Server) handleExportTenants(c *gin.Context) {
	format, err := takeFormat(c.Request.URL.Query(), "json", "csv", "yaml")
	if err != nil {
		s.writeError(c, err)
		return
	}
	ct, body, err := s.cfg.Tenants.ExportTenants(c.Request.Context(), format)
	if err != nil {
		s.writeError(c, tenantErr(err, "export tenants"))
		return
	}
	c.Data(http.StatusOK, ct+"; charset=utf-8", body)
}

// handleAcceptTenant serves POST /api/v1/tenants/{tenant}/accept with an
// optional {company_id, write_back} body.
func (s *Server) handleAcceptTenant(c *gin.Context) {
	tenant, ok := s.tenantParam(c)
	if !ok {
		return
	}
	var req AcceptTenantRequest
	if !s.decodeBody(c, &req, "company_id", "write_back") {
		return
	}
	res, err := s.cfg.Tenants.AcceptTenant(c.Request.Context(), tenant, req)
	s.writeTenantResult(c, http.StatusOK, res, err, "accept tenant")
}

// handleRejectTenant serves POST /api/v1/tenants/{tenant}/reject with an
// optional {reason} body.
func (s *Server) handleRejectTenant(c *gin.Context) {
	tenant, ok := s.tenantParam(c)
	if !ok {
		return
	}
	var req rejectTenantRequest
	if !s.decodeBody(c, &req, "reason") {
		return
	}
	res, err := s.cfg.Tenants.RejectTenant(c.Request.Context(), tenant, req.Reason)
	s.writeTenantResult(c, http.StatusOK, res, err, "reject tenant")
}

func (s *Server) tenantParam(c *gin.Context) (string, bool) {
	t := c.Param("tenant")
	if t == "" || len(t) > maxTenantIDLength {
		s.writeError(c, BadRequest("tenant %q is not a tenant id (a GUID)", clip(t, maxFieldNameEcho)))
		return "", false
	}
	return t, true
}

// writeTenantResult answers a result as JSON, or its error.
func (s *Server) writeTenantResult(c *gin.Context, status int, res any, err error, op string) {
	if err != nil {
		s.writeError(c, tenantErr(err, op))
		return
	}
	c.JSON(status, res)
}

// tenantErr prefixes errors other than refusals for the logs.
func tenantErr(err error, op string) error {
	var se *StatusError
	if errors.Is(err, ErrBadRequest) || errors.As(err, &se) {
		return err
	}
	return fmt.Errorf("webhook: %s: %w", op, err)
}
