package console

import (
	"net/http"
	"slices"
	"strings"

	"github.com/psasync/psasync/worker"
)

// A dry run is a preview: "Apply this plan" starts the same run for real.
// The real run plans again from the data as it is then (nothing is replayed
// from the preview), and its page compares what it wrote with what the
// preview planned, so the operator sees when the data changed in between.

// applyPlan starts the dry run's inputs for real.
func (c *Console) applyPlan(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	rec, ok := c.loadRun(w, r)
	if !ok {
		return
	}
	if !rec.Inputs.DryRun || rec.Report == nil {
		c.render(w, r, http.StatusBadRequest, "error", c.page(s, "Not a plan", "overview", errorPage{Message: "Only a finished dry run can be applied."}))
		return
	}
	in := rec.Inputs
	in.DryRun = false
	c.launch(w, r, s, in, rec.ID)
}

// planCheck compares a run with the dry run it applied.
type planCheck struct {
	PlanID string
	// Ready is false while either run has no report yet.
	Ready bool
	// Missing were planned but not written; Extra were written but not
	// planned (each "user: action field old → new").
	Missing, Extra []string
}

// Same is true when the run wrote exactly the plan.
func (p planCheck) Same() bool { return len(p.Missing) == 0 && len(p.Extra) == 0 }

func comparePlan(planID string, plan, real *worker.Report) planCheck {
	pc := planCheck{PlanID: planID}
	if plan == nil || real == nil {
		return pc
	}
	pc.Ready = true
	want, got := planItems(plan), planItems(real)
	inWant, inGot := setOf(want), setOf(got)
	for _, k := range want {
		if !inGot[k] {
			pc.Missing = append(pc.Missing, k)
		}
	}
	for _, k := range got {
		if !inWant[k] {
			pc.Extra = append(pc.Extra, k)
		}
	}
	return pc
}

// planItems are a report's writes: one string per updated contact and
// field, and one per created contact (a real run's report leaves a
// create's values to the change log, so a create is compared by its user).
func planItems(rep *worker.Report) []string {
	var out []string
	for _, c := range rep.CreatedContacts {
		out = append(out, c.UserPrincipalName+": "+c.Action)
	}
	for _, c := range rep.UpdatedContacts {
		if len(c.Changes) == 0 {
			out = append(out, c.UserPrincipalName+": "+c.Action+" "+strings.Join(c.ChangedFields, ","))
		}
		for _, ch := range c.Changes {
			out = append(out, c.UserPrincipalName+": "+c.Action+" "+ch.Field+" "+ch.Old+" → "+ch.New)
		}
	}
	slices.Sort(out)
	return out
}

func setOf(items []string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, k := range items {
		m[k] = true
	}
	return m
}
