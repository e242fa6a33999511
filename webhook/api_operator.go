package webhook

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// Operator carries out the decisions that wait for a person and syncs a
// user on demand. Each method is idempotent, names who acted (actor), and
// returns what it did as JSON; a refusal is an error built with NotFound,
// Conflict or BadRequest, naming what was wrong, and changes nothing.
type Operator interface {
	ResolveConflict(ctx context.Context, tenant, user, contactID, actor string) (json.RawMessage, error)
	IgnoreConflict(ctx context.Context, tenant, user, actor string) (json.RawMessage, error)
	ApproveHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (json.RawMessage, error)
	RejectHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (json.RawMessage, error)
	ReleaseUser(ctx context.Context, tenant, user, actor string) (json.RawMessage, error)
	ReleaseTenant(ctx context.Context, tenant, actor string) (json.RawMessage, error)
	SyncUser(ctx context.Context, tenant, user string, dryRun bool, actor string) (json.RawMessage, error)
}

// ActorHeader names the person behind an operator's request, for the
// change log and the logs ("api token (alice)"); the token is who acts.
const ActorHeader = "X-Psasync-Actor"

// maxActorLength bounds the actor header's echo into the change log.
const maxActorLength = 64

// mountOperatorAPI adds the operator's actions to the API group.
func (s *Server) mountOperatorAPI(api *gin.RouterGroup) {
	if s.cfg.Operator == nil {
		return
	}
	api.POST("/conflicts/:tenant/:user/resolve", s.operatorAction(func(c *gin.Context, b operatorBody, actor string) (json.RawMessage, error) {
		if b.ContactID == "" {
			return nil, &RequestError{Message: `field "contact_id": required (one of the conflict's candidate contacts)`}
		}
		return s.cfg.Operator.ResolveConflict(c.Request.Context(), c.Param("tenant"), c.Param("user"), b.ContactID, actor)
	}))
	api.POST("/conflicts/:tenant/:user/ignore", s.operatorAction(func(c *gin.Context, _ operatorBody, actor string) (json.RawMessage, error) {
		return s.cfg.Operator.IgnoreConflict(c.Request.Context(), c.Param("tenant"), c.Param("user"), actor)
	}))
	api.POST("/held/:batch/approve", s.operatorAction(func(c *gin.Context, b operatorBody, actor string) (json.RawMessage, error) {
		return s.cfg.Operator.ApproveHeld(c.Request.Context(), c.Param("batch"), b.ContactIDs, actor)
	}))
	api.POST("/held/:batch/reject", s.operatorAction(func(c *gin.Context, b operatorBody, actor string) (json.RawMessage, error) {
		return s.cfg.Operator.RejectHeld(c.Request.Context(), c.Param("batch"), b.ContactIDs, actor)
	}))
	api.POST("/quarantine/:tenant/release", s.operatorAction(func(c *gin.Context, _ operatorBody, actor string) (json.RawMessage, error) {
		return s.cfg.Operator.ReleaseTenant(c.Request.Context(), c.Param("tenant"), actor)
	}))
	api.POST("/quarantine/:tenant/users/:user/release", s.operatorAction(func(c *gin.Context, _ operatorBody, actor string) (json.RawMessage, error) {
		return s.cfg.Operator.ReleaseUser(c.Request.Context(), c.Param("tenant"), c.Param("user"), actor)
	}))
	api.POST("/tenants/:tenant/users/:user/sync", s.operatorAction(func(c *gin.Context, b operatorBody, actor string) (json.RawMessage, error) {
		return s.cfg.Operator.SyncUser(c.Request.Context(), c.Param("tenant"), c.Param("user"), b.DryRun, actor)
	}))
}

// operatorBody is every field an operator's request may carry; each route
// reads its own. Unknown fields are refused.
type operatorBody struct {
	ContactID  string   `json:"contact_id"`
	ContactIDs []string `json:"contact_ids"`
	DryRun     bool     `json:"dry_run"`
}

// operatorAction reads the optional JSON body and the actor, runs act, and
// answers 200 with what it returned.
func (s *Server) operatorAction(act func(*gin.Context, operatorBody, string) (json.RawMessage, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		for _, p := range c.Params {
			if p.Value == "" || len(p.Value) > maxRunIDLength {
				s.writeError(c, &RequestError{Message: fmt.Sprintf("path %s: must be 1 to %d characters", p.Key, maxRunIDLength)})
				return
			}
		}
		var b operatorBody
		if !s.decodeBody(c, &b, "contact_id", "contact_ids", "dry_run") {
			return
		}
		actor := "api token"
		if who := strings.TrimSpace(c.GetHeader(ActorHeader)); who != "" {
			actor += " (" + clip(who, maxActorLength) + ")"
		}
		out, err := act(c, b, actor)
		if err != nil {
			s.writeError(c, err)
			return
		}
		if !json.Valid(out) {
			s.writeError(c, fmt.Errorf("webhook: %s: Operator returned invalid JSON", c.FullPath()))
			return
		}
		c.Data(http.StatusOK, "application/json; charset=utf-8", out)
	}
}
