package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/psasync/psasync/worker"
)

// UserSyncer syncs one user now and returns every step (the sync-user
// path of the CLI and the API). An error wrapping ErrRefused (an unknown
// tenant or user, a run in progress) is shown with its text.
type UserSyncer interface {
	SyncUser(ctx context.Context, tenant, user string, dryRun bool, actor string) (*worker.Trace, error)
}

type syncUserPage struct {
	Tenants []TenantStatus
	Tenant  string
	User    string
	Trace   *worker.Trace
}

func (c *Console) syncUserForm(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	ts, err := c.cfg.Source.Tenants(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	c.render(w, r, http.StatusOK, "syncuser", c.page(s, "Sync a user", "syncuser", syncUserPage{Tenants: ts, Tenant: q.Get("tenant"), User: q.Get("user")}))
}

// syncUser runs the sync: a dry run is open to read-only sessions (it
// writes nothing), a real one needs the admin.
func (c *Console) syncUser(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	dry := r.PostFormValue("dry_run") != "false"
	if !dry && s.readOnly() {
		c.forbidden(w, r, "You signed in with the read-only token: it can dry-run a user, not sync one.")
		return
	}
	tenant, user := r.PostFormValue("tenant"), strings.TrimSpace(r.PostFormValue("user"))
	tr, err := c.cfg.UserSyncer.SyncUser(r.Context(), tenant, user, dry, actor(s))
	if c.actionFailed(w, r, s, err) {
		return
	}
	ts, err := c.cfg.Source.Tenants(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.WithFields(map[string]any{"tenant": tenant, "dry_run": dry, "role": s.Role, "action": tr.Outcome.Action}).Info("console: user synced on demand")
	c.render(w, r, http.StatusOK, "syncuser", c.page(s, "Sync a user", "syncuser", syncUserPage{Tenants: ts, Tenant: tenant, User: user, Trace: tr}))
}
