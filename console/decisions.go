package console

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/psasync/psasync/ledger"
)

// Decisions is what the change-log pages read: the ledger's queries.
type Decisions interface {
	Changes(ctx context.Context, q ledger.Query) (ledger.Page, error)
	Conflicts(ctx context.Context, tenant, status string) ([]ledger.Conflict, error)
	HeldBatches(ctx context.Context, tenant string) ([]ledger.HeldBatch, error)
	Quarantined(ctx context.Context, tenant string) ([]ledger.Quarantine, error)
}

// Operator carries out an operator's decision through the same path as the
// operator API and CLI. Actor names who decided, for the change log. Each
// returns a sentence saying what was done; an error wrapping ErrRefused
// (a closed conflict, a stale batch, a contact that is no candidate) is
// shown with its text, and nothing was changed.
type Operator interface {
	ResolveConflict(ctx context.Context, tenant, user, contactID, actor string) (string, error)
	IgnoreConflict(ctx context.Context, tenant, user, actor string) (string, error)
	ApproveHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (string, error)
	RejectHeld(ctx context.Context, batchID string, contactIDs []string, actor string) (string, error)
	// Release ends a quarantine: the user's, or the tenant's when user is "".
	Release(ctx context.Context, tenant, user, actor string) (string, error)
}

// ErrRefused marks an operator action that could not be carried out as
// asked; the error's text names why and is safe to show.
var ErrRefused = errors.New("refused")

func refusedf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRefused, fmt.Sprintf(format, args...))
}

// refusalText is a refusal's reason without the class prefix.
func refusalText(err error) string { return strings.TrimPrefix(err.Error(), ErrRefused.Error()+": ") }

// filterRefusal is why a store refused a page's filter, safe to show: a
// ledger ParamError's text or a refusal's reason; ok is false for any
// other error.
func filterRefusal(err error) (msg string, ok bool) {
	var pe *ledger.ParamError
	switch {
	case errors.As(err, &pe):
		return pe.Error(), true
	case errors.Is(err, ErrRefused):
		return refusalText(err), true
	}
	return "", false
}

// actor names a console user in the change log by the token signed in with.
func actor(s *session) string {
	if s.readOnly() {
		return "console (read-only token)"
	}
	return "console (API token)"
}

// changesPageSize is how many entries one page of the change log shows.
const changesPageSize = 50

func (c *Console) decisionRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /ui/changes", c.read(c.changes))
	m.HandleFunc("GET /ui/changes.csv", c.read(c.changesCSV))
	m.HandleFunc("GET /ui/conflicts", c.read(c.conflicts))
	m.HandleFunc("GET /ui/held", c.read(tenantList(c, "held", "Held deactivations", c.cfg.Decisions.HeldBatches)))
	m.HandleFunc("GET /ui/quarantine", c.read(tenantList(c, "quarantine", "Quarantine", c.cfg.Decisions.Quarantined)))
	if c.cfg.Operator != nil {
		m.HandleFunc("POST /ui/conflicts/resolve", c.act(c.resolveConflict, true))
		m.HandleFunc("POST /ui/held/decide", c.act(c.decideHeld, true))
		m.HandleFunc("POST /ui/quarantine/release", c.act(c.release, true))
	}
}

type changesPage struct {
	Query   url.Values
	Entries []ledger.Entry
	// Next is the query string of the next (older) page; "" on the last.
	Next string
	// CSV is the query string of the CSV export of the same filter.
	CSV   string
	Error string
}

// changeQuery parses the page's filter: the API's parameters, with the
// console's page size unless one is given.
func changeQuery(r *http.Request) (url.Values, ledger.Query, error) {
	v := url.Values{}
	for k, vals := range r.URL.Query() {
		if s := strings.TrimSpace(vals[0]); s != "" {
			v.Set(k, s)
		}
	}
	q, err := ledger.ParseQuery(v)
	if err == nil && v.Get("limit") == "" {
		q.Limit = changesPageSize
	}
	return v, q, err
}

func (c *Console) changes(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	v, q, err := changeQuery(r)
	p := changesPage{Query: v}
	if err == nil {
		var page ledger.Page
		page, err = c.cfg.Decisions.Changes(r.Context(), q)
		p.Entries = page.Entries
		if page.Next != "" {
			nv := cloneValues(v)
			nv.Set("cursor", page.Next)
			p.Next = "?" + nv.Encode()
		}
		cv := cloneValues(v)
		cv.Del("cursor")
		cv.Del("limit")
		p.CSV = "?" + cv.Encode()
	}
	c.showLoaded(w, r, s, "changes", "Changes", &p, err, &p.Error)
}

// changesCSV exports every entry matching the filter (up to 100,000,
// paged through the ledger), one row per changed field.
func (c *Console) changesCSV(w http.ResponseWriter, r *http.Request, _ *session, _ string) {
	_, q, err := changeQuery(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	q.Limit, q.Cursor = ledger.MaxLimit, ""
	var all []ledger.Entry
	for range 100 {
		page, err := c.cfg.Decisions.Changes(r.Context(), q)
		if err != nil {
			c.fail(w, r, fmt.Errorf("console: changes CSV: %w", err))
			return
		}
		all = append(all, page.Entries...)
		if page.Next == "" {
			break
		}
		q.Cursor = page.Next
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="changes.csv"`)
	if err := ledger.WriteCSV(w, all); err != nil {
		c.log.WithError(err).Warn("console: write changes CSV")
	}
}

type conflictsPage struct {
	Tenant, Status string
	Conflicts      []ledger.Conflict
	// CanAct is false when no operator action is wired: the page is read-only.
	CanAct bool
	Error  string
}

func (c *Console) conflicts(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	q := r.URL.Query()
	p := conflictsPage{Tenant: q.Get("tenant"), Status: q.Get("status"), CanAct: c.cfg.Operator != nil}
	var err error
	p.Conflicts, err = c.cfg.Decisions.Conflicts(r.Context(), p.Tenant, p.Status)
	c.showLoaded(w, r, s, "conflicts", "Conflicts", &p, err, &p.Error)
}

// tenantListPage is a decision list filtered by tenant: the held
// deactivations or the quarantine.
type tenantListPage[T any] struct {
	Tenant string
	Items  []T
	CanAct bool
}

// tenantList is the page name listing what list returns for the tenant
// asked for ("" all).
func tenantList[T any](c *Console, name, title string, list func(ctx context.Context, tenant string) ([]T, error)) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, s *session, _ string) {
		p := tenantListPage[T]{Tenant: r.URL.Query().Get("tenant"), CanAct: c.cfg.Operator != nil}
		var err error
		p.Items, err = list(r.Context(), p.Tenant)
		c.showLoaded(w, r, s, name, title, p, err, nil)
	}
}

// resolveConflict links the user to the chosen contact (action=link) or
// ignores the user (action=ignore).
func (c *Console) resolveConflict(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	tenant, user := r.PostFormValue("tenant"), r.PostFormValue("user")
	var (
		done string
		err  error
	)
	switch r.PostFormValue("action") {
	case "link":
		done, err = c.cfg.Operator.ResolveConflict(r.Context(), tenant, user, r.PostFormValue("contact"), actor(s))
	case "ignore":
		done, err = c.cfg.Operator.IgnoreConflict(r.Context(), tenant, user, actor(s))
	default:
		err = refusedf("action must be link or ignore")
	}
	c.finish(w, r, s, "conflicts", err, map[string]any{"tenant": tenant, "user": user},
		donePage{Message: done, Back: "/ui/conflicts?tenant=" + url.QueryEscape(tenant), BackText: "Back to the conflicts"})
}

type donePage struct {
	Message, Back, BackText string
}

// decideHeld approves or rejects the checked contacts of a batch (all of
// its pending contacts when none is checked).
func (c *Console) decideHeld(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	id := r.PostFormValue("batch")
	ids := r.PostForm["contact"]
	var (
		done string
		err  error
	)
	switch r.PostFormValue("action") {
	case "approve":
		done, err = c.cfg.Operator.ApproveHeld(r.Context(), id, ids, actor(s))
	case "reject":
		done, err = c.cfg.Operator.RejectHeld(r.Context(), id, ids, actor(s))
	default:
		err = refusedf("action must be approve or reject")
	}
	c.finish(w, r, s, "held", err, map[string]any{"batch": id, "contacts": len(ids)},
		donePage{Message: done, Back: "/ui/held", BackText: "Back to the held deactivations"})
}

// release ends the quarantine of a user (or, without one, of the tenant).
func (c *Console) release(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	tenant, user := r.PostFormValue("tenant"), r.PostFormValue("user")
	done, err := c.cfg.Operator.Release(r.Context(), tenant, user, actor(s))
	c.finish(w, r, s, "quarantine", err, map[string]any{"tenant": tenant, "user": user},
		donePage{Message: done, Back: "/ui/quarantine", BackText: "Back to the quarantine"})
}

// finish ends an operator action: why it was refused, the failure, or what
// was done, logged with fields and the session's role and shown with the
// way back to the page of section nav.
func (c *Console) finish(w http.ResponseWriter, r *http.Request, s *session, nav string, err error, fields map[string]any, d donePage) {
	if c.actionFailed(w, r, s, err) {
		return
	}
	c.log.WithFields(fields).WithField("role", s.Role).Info("console: " + d.Message)
	c.render(w, r, http.StatusOK, "done", c.page(s, "Done", nav, d))
}

// actionFailed shows why an operator action was refused (stale batch,
// closed conflict, unknown contact: the ledger's words) and reports
// whether it did.
func (c *Console) actionFailed(w http.ResponseWriter, r *http.Request, s *session, err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrRefused) {
		c.render(w, r, http.StatusBadRequest, "error", c.page(s, "Not done", "", errorPage{Message: "Nothing was changed: " + refusalText(err)}))
		return true
	}
	c.fail(w, r, err)
	return true
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
