package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/psasync/psasync/ledger"
)

// ChangeLog answers change-log queries (GET /api/v1/changes); the ledger
// implements it.
type ChangeLog interface {
	Changes(ctx context.Context, q ledger.Query) (ledger.Page, error)
}

// RunHistory answers filtered run-history queries (GET /api/v1/runs with
// tenant, mode, state, since, until, cursor); the ledger implements it.
type RunHistory interface {
	Runs(ctx context.Context, q ledger.RunQuery) ([]json.RawMessage, string, error)
}

// Decisions lists what waits for an operator (GET /api/v1/conflicts, held,
// quarantine); the ledger implements it.
type Decisions interface {
	Conflicts(ctx context.Context, tenant, status string) ([]ledger.Conflict, error)
	HeldBatches(ctx context.Context, tenant string) ([]ledger.HeldBatch, error)
	Quarantined(ctx context.Context, tenant string) ([]ledger.Quarantine, error)
}

// csvFilename is the download name of GET /api/v1/changes?format=csv.
const csvFilename = "psasync-changes.csv"

// mountLedgerAPI adds the read side of the ledger to the API group; each
// route exists only when its dependency is set.
func (s *Server) mountLedgerAPI(api *gin.RouterGroup) {
	if s.cfg.ChangeLog != nil {
		api.GET("/changes", s.handleChanges)
	}
	if s.cfg.Decisions != nil {
		api.GET("/conflicts", s.handleConflicts)
		api.GET("/held", s.handleHeld)
		api.GET("/quarantine", s.handleQuarantine)
	}
	if s.cfg.RunHistory != nil && s.cfg.Runs == nil {
		api.GET("/runs", s.handleListRuns)
	}
}

// hasLedgerAPI reports whether any ledger route is configured.
func (c Config) hasLedgerAPI() bool {
	return c.ChangeLog != nil || c.Decisions != nil || c.RunHistory != nil || c.Operator != nil
}

// paramError turns the ledger's *ParamError into a 400 naming the parameter.
func paramError(err error) error {
	var pe *ledger.ParamError
	if errors.As(err, &pe) {
		return &RequestError{Message: pe.Error()}
	}
	return err
}

// handleChanges serves GET /api/v1/changes: the change log, newest first,
// filtered by tenant, company, user, contact, field, action, trigger, since
// and until, one page per call (cursor, limit), as JSON ({"entries",
// "next"}) or, with format=csv, as a CSV download whose next cursor is in
// the X-Next-Cursor header.
func (s *Server) handleChanges(c *gin.Context) {
	v := c.Request.URL.Query()
	format, err := takeFormat(v, "json", "csv")
	if err != nil {
		s.writeError(c, err)
		return
	}
	q, err := ledger.ParseQuery(v)
	if err != nil {
		s.writeError(c, paramError(err))
		return
	}
	page, err := s.cfg.ChangeLog.Changes(c.Request.Context(), q)
	if err != nil {
		s.writeError(c, fmt.Errorf("webhook: read changes: %w", err))
		return
	}
	if format == "json" {
		c.JSON(http.StatusOK, page)
		return
	}
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="`+csvFilename+`"`)
	if page.Next != "" {
		c.Header("X-Next-Cursor", page.Next)
	}
	c.Status(http.StatusOK)
	if err := ledger.WriteCSV(c.Writer, page.Entries); err != nil {
		s.log.WithError(err).Warn("webhook: write changes csv")
	}
}

// takeFormat removes the format parameter from v and checks it against
// allowed (at least two), the first being the default.
func takeFormat(v url.Values, allowed ...string) (string, error) {
	f := v.Get("format")
	if len(v["format"]) > 1 {
		return "", &RequestError{Message: `query parameter "format" is given more than once`}
	}
	v.Del("format")
	if f == "" {
		return allowed[0], nil
	}
	if !slices.Contains(allowed, f) {
		last := len(allowed) - 1
		return "", BadRequest(`query parameter "format" must be %s or %s, got %q`,
			strings.Join(allowed[:last], ", "), allowed[last], clip(f, maxFieldNameEcho))
	}
	return f, nil
}

// onlyParams reads the single-valued parameters known to a list route and
// refuses any other, naming it.
func onlyParams(c *gin.Context, known ...string) (map[string]string, error) {
	v := c.Request.URL.Query()
	out := make(map[string]string, len(known))
	for k, vs := range v {
		switch {
		case !slices.Contains(known, k):
			return nil, &RequestError{Message: fmt.Sprintf("parameter %q: unknown parameter (known: %s)", clip(k, maxFieldNameEcho), strings.Join(known, ", "))}
		case len(vs) > 1:
			return nil, &RequestError{Message: fmt.Sprintf("parameter %q: given more than once", k)}
		case len(vs[0]) > maxRunIDLength:
			return nil, &RequestError{Message: fmt.Sprintf("parameter %q: longer than %d characters", k, maxRunIDLength)}
		}
		out[k] = vs[0]
	}
	return out, nil
}

// handleConflicts serves GET /api/v1/conflicts?tenant=&status= (status
// open by default; resolved, ignored, closed or all).
func (s *Server) handleConflicts(c *gin.Context) {
	s.listDecisions(c, "conflicts", []string{"tenant", "status"}, func(ctx context.Context, p map[string]string) (any, error) {
		return s.cfg.Decisions.Conflicts(ctx, p["tenant"], p["status"])
	})
}

// handleHeld serves GET /api/v1/held?tenant=: the pending batches of
// deactivations the guard held back.
func (s *Server) handleHeld(c *gin.Context) {
	s.listDecisions(c, "held", []string{"tenant"}, func(ctx context.Context, p map[string]string) (any, error) {
		return s.cfg.Decisions.HeldBatches(ctx, p["tenant"])
	})
}

// handleQuarantine serves GET /api/v1/quarantine?tenant=: quarantined users
// and tenants.
func (s *Server) handleQuarantine(c *gin.Context) {
	s.listDecisions(c, "quarantine", []string{"tenant"}, func(ctx context.Context, p map[string]string) (any, error) {
		return s.cfg.Decisions.Quarantined(ctx, p["tenant"])
	})
}

// listDecisions answers a decision list route: its known parameters (any
// other is a 400), then what list returns under key, or its error (a bad
// parameter the ledger names is a 400).
func (s *Server) listDecisions(c *gin.Context, key string, known []string, list func(context.Context, map[string]string) (any, error)) {
	p, err := onlyParams(c, known...)
	if err != nil {
		s.writeError(c, err)
		return
	}
	res, err := list(c.Request.Context(), p)
	if err != nil {
		s.writeError(c, paramError(fmt.Errorf("webhook: list %s: %w", key, err)))
		return
	}
	c.JSON(http.StatusOK, gin.H{key: res})
}

// listRunHistory serves GET /api/v1/runs from the run history: the filters
// of ledger.ParseRunQuery, the answer {"runs": [...], "next": cursor}.
func (s *Server) listRunHistory(c *gin.Context) {
	q, err := ledger.ParseRunQuery(c.Request.URL.Query())
	if err != nil {
		s.writeError(c, paramError(err))
		return
	}
	recs, next, err := s.cfg.RunHistory.Runs(c.Request.Context(), q)
	if err != nil {
		s.writeError(c, fmt.Errorf("webhook: list runs: %w", err))
		return
	}
	for i, r := range recs {
		if !json.Valid(r) {
			s.writeError(c, fmt.Errorf("webhook: list runs: record %d is not valid JSON", i))
			return
		}
	}
	body := struct {
		Runs []json.RawMessage `json:"runs"`
		Next string            `json:"next,omitempty"`
	}{recs, next}
	c.JSON(http.StatusOK, body)
}
