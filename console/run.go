package console

import (
	"encoding/csv"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/psasync/psasync/worker"
)

// Sections of a run page, as the show filter names them.
var runSections = []string{"created", "updated", "deactivated", "errors", "warnings", "skipped"}

// runFilter is the run page's filter: a section, a text (user principal
// name, display name, contact id or message), an error or warning code.
type runFilter struct {
	Show, Q, Code string
}

func parseRunFilter(r *http.Request) runFilter {
	q := r.URL.Query()
	f := runFilter{Show: q.Get("show"), Q: strings.TrimSpace(q.Get("q")), Code: strings.TrimSpace(q.Get("code"))}
	if !slices.Contains(runSections, f.Show) {
		f.Show = ""
	}
	return f
}

func (f runFilter) wants(section string) bool { return f.Show == "" || f.Show == section }

func (f runFilter) matches(text ...string) bool {
	if f.Q == "" {
		return true
	}
	q := strings.ToLower(f.Q)
	for _, t := range text {
		if strings.Contains(strings.ToLower(t), q) {
			return true
		}
	}
	return false
}

func (f runFilter) codeOK(code string) bool { return f.Code == "" || strings.EqualFold(f.Code, code) }

// runView is a run's report cut by the filter.
type runView struct {
	Record      worker.RunRecord
	Summary     RunSummary
	Filter      runFilter
	Sections    []string
	Created     []worker.ContactResult
	Updated     []worker.ContactResult
	Deactivated []worker.ContactResult
	Errors      []worker.ErrorItem
	Warnings    []worker.WarningItem
	Skipped     []worker.SkipItem
	// Codes lists the error codes present, for the filter.
	Codes []string
	// Plan compares the run with the dry run it applied (nil otherwise).
	Plan *planCheck
}

func buildRunView(rec worker.RunRecord, f runFilter) runView {
	v := runView{Record: rec, Summary: Summarize(rec), Filter: f, Sections: runSections}
	rep := rec.Report
	if rep == nil {
		return v
	}
	codeless := f.Code == ""
	if f.wants("created") && codeless {
		for _, c := range rep.CreatedContacts {
			if f.matches(c.UserPrincipalName, c.DisplayName, c.PSAContactID) {
				v.Created = append(v.Created, c)
			}
		}
	}
	for _, c := range rep.UpdatedContacts {
		section := "updated"
		if c.Action == worker.ActionDeactivated {
			section = "deactivated"
		}
		if !f.wants(section) || !codeless || !f.matches(c.UserPrincipalName, c.DisplayName, c.PSAContactID, strings.Join(c.ChangedFields, " "), changeText(c.Changes)) {
			continue
		}
		if section == "deactivated" {
			v.Deactivated = append(v.Deactivated, c)
		} else {
			v.Updated = append(v.Updated, c)
		}
	}
	for _, e := range rep.Errors {
		if !slices.Contains(v.Codes, e.Code) {
			v.Codes = append(v.Codes, e.Code)
		}
		if f.wants("errors") && f.codeOK(e.Code) && f.matches(e.UserPrincipalName, e.Message, e.PSAError) {
			v.Errors = append(v.Errors, e)
		}
	}
	for _, wi := range rep.Warnings {
		if f.wants("warnings") && f.codeOK(wi.Code) && f.matches(wi.UserPrincipalName, wi.Message) {
			v.Warnings = append(v.Warnings, wi)
		}
	}
	if f.wants("skipped") && codeless {
		for _, sk := range rep.SkippedContacts {
			if f.matches(sk.UserPrincipalName, sk.Reason) {
				v.Skipped = append(v.Skipped, sk)
			}
		}
	}
	slices.Sort(v.Codes)
	return v
}

func (c *Console) loadRun(w http.ResponseWriter, r *http.Request) (worker.RunRecord, bool) {
	rec, ok, err := c.cfg.Source.Run(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return rec, false
	}
	if !ok {
		c.notFound(w, r)
		return rec, false
	}
	return rec, true
}

func (c *Console) run(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	rec, ok := c.loadRun(w, r)
	if !ok {
		return
	}
	rv := buildRunView(rec, parseRunFilter(r))
	if planID := r.URL.Query().Get("plan"); planID != "" {
		plan, ok, err := c.cfg.Source.Run(r.Context(), planID)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if ok && plan.Inputs.Tenant == rec.Inputs.Tenant {
			pc := comparePlan(planID, plan.Report, rec.Report)
			rv.Plan = &pc
		}
	}
	v := c.page(s, "Run "+rec.ID, "overview", rv)
	if rec.State == worker.RunQueued || rec.State == worker.RunRunning {
		v.Refresh = 3 // no JavaScript: the page reloads itself until the run is done
	}
	c.render(w, r, http.StatusOK, "run", v)
}

// runJSON downloads the run record (the report as the API returns it).
func (c *Console) runJSON(w http.ResponseWriter, r *http.Request, _ *session, _ string) {
	rec, ok := c.loadRun(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="run-`+fileSafe(rec.ID)+`.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rec); err != nil {
		c.log.WithError(err).Warn("console: write run JSON")
	}
}

// runCSV downloads the filtered report, one row per item.
func (c *Console) runCSV(w http.ResponseWriter, r *http.Request, _ *session, _ string) {
	rec, ok := c.loadRun(w, r)
	if !ok {
		return
	}
	v := buildRunView(rec, parseRunFilter(r))
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="run-`+fileSafe(rec.ID)+`.csv"`)
	cw := csv.NewWriter(w)
	row := func(cells ...string) {
		for i, s := range cells {
			cells[i] = csvSafe(s)
		}
		_ = cw.Write(cells)
	}
	row("section", "user_principal_name", "display_name", "office365_id", "psa_contact_id", "psa_company_id", "action", "field", "old", "new", "code", "message", "timestamp")
	// One row per written field, as the change log's CSV has it.
	item := func(section string, cs []worker.ContactResult) {
		for _, it := range cs {
			if len(it.Changes) == 0 {
				row(section, it.UserPrincipalName, it.DisplayName, it.Office365ID, it.PSAContactID, it.PSACompanyID, it.Action, strings.Join(it.ChangedFields, " "), "", "", "", "", "")
			}
			for _, ch := range it.Changes {
				row(section, it.UserPrincipalName, it.DisplayName, it.Office365ID, it.PSAContactID, it.PSACompanyID, it.Action, ch.Field, ch.Old, ch.New, "", "", "")
			}
		}
	}
	item("created", v.Created)
	item("updated", v.Updated)
	item("deactivated", v.Deactivated)
	for _, e := range v.Errors {
		row("errors", e.UserPrincipalName, "", "", "", "", "", "", "", "", e.Code, strings.TrimSpace(e.Message+" "+e.PSAError), e.Timestamp.Format(time.RFC3339))
	}
	for _, wi := range v.Warnings {
		row("warnings", wi.UserPrincipalName, "", "", "", "", "", "", "", "", wi.Code, wi.Message, wi.Timestamp.Format(time.RFC3339))
	}
	for _, sk := range v.Skipped {
		row("skipped", sk.UserPrincipalName, "", "", "", "", "", "", "", "", "", sk.Reason, "")
	}
	cw.Flush()
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

func fileSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// changeText is the fields and values of changes, for the text filter.
func changeText(cs []worker.FieldChange) string {
	var b strings.Builder
	for _, c := range cs {
		b.WriteString(c.Field + " " + c.Old + " " + c.New + " ")
	}
	return b.String()
}
