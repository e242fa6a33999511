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
	for _, k := range want {
		if !slices.Contains(got, k) {
			pc.Missing = append(pc.Missing, k)
		}
	}
	for _, k := range got {
		if !slices.Contains(want, k) {
			pc.Extra = append(pc.Extra, k)
		}
	}
	return pc
}

// planItems are a report's writes, one string per contact and field; a
// created contact is one item (a real run's report leaves its fields to the
// change log).
func planItems(rep *worker.Report) []string {
	var out []string
	add := func(cs []worker.ContactResult) {
		for _, c := range cs {
			if c.Action == worker.ActionCreated {
				out = append(out, c.UserPrincipalName+": created")
				continue
			}
			if len(c.Changes) == 0 {
				out = append(out, c.UserPrincipalName+": "+c.Action+" "+strings.Join(c.ChangedFields, ","))
			}
			for _, ch := range c.Changes {
				out = append(out, c.UserPrincipalName+": "+c.Action+" "+ch.Field+" "+ch.Old+" → "+ch.New)
			}
		}
	}
	add(rep.CreatedContacts)
	add(rep.UpdatedContacts)
	slices.Sort(out)
	return out
}
