package console

import (
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

// historyDays is the span of the tenant page's charts.
const historyDays = 30

type overviewPage struct {
	Tenants  []TenantStatus
	Capacity Capacity
	// Problems is true when only tenants needing attention are listed.
	Problems bool
	Total    int
	Now      time.Time
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	ctx := r.Context()
	ts, err := c.cfg.Source.Tenants(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	capa, err := c.cfg.Source.Capacity(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := overviewPage{Capacity: capa, Total: len(ts), Problems: r.URL.Query().Get("problems") == "1", Now: c.cfg.Now()}
	p.Tenants = ts
	if p.Problems {
		p.Tenants = slices.DeleteFunc(slices.Clone(ts), func(t TenantStatus) bool { return !needsAttention(t, p.Now) })
	}
	c.render(w, r, http.StatusOK, "overview", c.page(s, "Overview", "overview", p))
}

// needsAttention: the subscription is not healthy, expires within a day,
// the last run failed, or a decision waits.
func needsAttention(t TenantStatus, now time.Time) bool {
	if !t.Enabled {
		return false
	}
	if t.Subscription.Health != "healthy" || t.Subscription.Expiry.Before(now.Add(24*time.Hour)) {
		return true
	}
	if t.LastRun != nil && runFailed(*t.LastRun) {
		return true
	}
	d := t.Decisions
	return d != nil && d.OpenConflicts+d.HeldDeactivations+d.Quarantined > 0
}

func runFailed(s RunSummary) bool {
	return s.State == worker.RunFailed || (s.Report && !s.Success)
}

type tenantPage struct {
	Tenant TenantStatus
	Runs   []RunSummary
	Chart  chart
	// Changes are the tenant's newest change-log entries (none without
	// the change log).
	Changes []ledger.Entry
	// Started is the run just started from this page (from the redirect).
	Notice string
}

func (c *Console) findTenant(w http.ResponseWriter, r *http.Request) (TenantStatus, bool) {
	ts, err := c.cfg.Source.Tenants(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return TenantStatus{}, false
	}
	id := r.PathValue("tenant")
	for _, t := range ts {
		if t.ID == id {
			return t, true
		}
	}
	c.notFound(w, r)
	return TenantStatus{}, false
}

func (c *Console) tenant(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	t, ok := c.findTenant(w, r)
	if !ok {
		return
	}
	now := c.cfg.Now()
	since := startOfDay(now).AddDate(0, 0, -(historyDays - 1))
	recs, err := c.cfg.Source.TenantRuns(r.Context(), t.ID, since)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	p := tenantPage{Tenant: t}
	for _, rec := range recs {
		p.Runs = append(p.Runs, Summarize(rec))
	}
	p.Chart = runChart(p.Runs, since, historyDays)
	if c.cfg.Decisions != nil {
		page, err := c.cfg.Decisions.Changes(r.Context(), ledger.Query{Tenant: t.ID, Limit: 10})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		p.Changes = page.Entries
	}
	if len(p.Runs) > 20 {
		p.Runs = p.Runs[:20]
	}
	v := c.page(s, "Tenant "+firstNonEmpty(t.Name, t.ID), "overview", p)
	c.render(w, r, http.StatusOK, "tenant", v)
}

// startRun starts a run of the tenant (dry_run=true for a dry run) and
// shows it.
func (c *Console) startRun(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	t, ok := c.findTenant(w, r)
	if !ok {
		return
	}
	in := worker.DefaultRunInputs(t.ID)
	if mode := r.PostFormValue("sync_mode"); mode != "" {
		in.SyncMode = mode
	}
	in.DryRun = r.PostFormValue("dry_run") == "true"
	c.launch(w, r, s, in, "")
}

// launch starts a run and shows it; plan is the dry run it applies, if any.
func (c *Console) launch(w http.ResponseWriter, r *http.Request, s *session, in worker.RunInputs, plan string) {
	id, err := c.cfg.Runner.StartRun(r.Context(), in)
	var re *webhook.RequestError
	if errors.As(err, &re) {
		c.render(w, r, http.StatusBadRequest, "error", c.page(s, "Run not started", "overview", errorPage{Message: "The run was not started: " + re.Message}))
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.WithFields(map[string]any{"tenant": in.Tenant, "run": id, "mode": in.SyncMode, "dry_run": in.DryRun, "plan": plan, "role": s.Role}).Info("console: run started")
	target := "/ui/runs/" + urlPathEscape(id)
	if plan != "" {
		target += "?plan=" + urlQueryEscape(plan)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

func (c *Console) jobs(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	capa, err := c.cfg.Source.Capacity(r.Context())
	c.showLoaded(w, r, s, "jobs", "Jobs", capa, err, nil)
}

func startOfDay(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if s != "" {
			return s
		}
	}
	return ""
}
