package console

import (
	"context"
	"net/http"
	"strings"

	"github.com/psasync/psasync/onboarding"
)

// Onboarder is tenant discovery and onboarding, through the same path as
// the onboarding API and `psasync tenants`. Each action returns a sentence
// saying what was done; an error wrapping ErrRefused is shown with its
// text, and nothing was changed.
type Onboarder interface {
	// Proposals lists the discovered tenants with status ("" all).
	Proposals(ctx context.Context, status string) ([]onboarding.Proposal, error)
	// Discover runs a discovery and stores its proposals.
	Discover(ctx context.Context) (string, error)
	// Accept maps a tenant to companyID ("" the proposal's); writeBack
	// writes the tenant id to the PSA company.
	Accept(ctx context.Context, tenantID, companyID string, writeBack bool) (string, error)
	// Reject sets a tenant aside, with the operator's reason.
	Reject(ctx context.Context, tenantID, reason string) (string, error)
}

type onboardingPage struct {
	Status    string
	Statuses  []string
	Proposals []onboarding.Proposal
	Error     string
}

func (c *Console) onboardingRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /ui/onboarding", c.read(c.onboarding))
	m.HandleFunc("POST /ui/onboarding/discover", c.act(c.discover, true))
	m.HandleFunc("POST /ui/onboarding/decide", c.act(c.decideTenant, true))
}

func (c *Console) onboarding(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	p := onboardingPage{Status: r.URL.Query().Get("status"), Statuses: []string{
		string(onboarding.StatusNeedsReview), string(onboarding.StatusProposed), string(onboarding.StatusAccepted), string(onboarding.StatusRejected)}}
	var err error
	p.Proposals, err = c.cfg.Onboarder.Proposals(r.Context(), p.Status)
	c.showLoaded(w, r, s, "onboarding", "Onboarding", &p, err, &p.Error)
}

func (c *Console) discover(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	done, err := c.cfg.Onboarder.Discover(r.Context())
	c.finish(w, r, s, "onboarding", err, nil,
		donePage{Message: done, Back: "/ui/onboarding?status=needs_review", BackText: "Review the tenants"})
}

// decideTenant accepts (with the proposal's company or the one picked) or
// rejects a discovered tenant.
func (c *Console) decideTenant(w http.ResponseWriter, r *http.Request, s *session, _ string) {
	tenant := r.PostFormValue("tenant")
	var (
		done string
		err  error
	)
	switch r.PostFormValue("action") {
	case "accept":
		done, err = c.cfg.Onboarder.Accept(r.Context(), tenant, strings.TrimSpace(r.PostFormValue("company")), r.PostFormValue("write_back") == "true")
	case "reject":
		done, err = c.cfg.Onboarder.Reject(r.Context(), tenant, strings.TrimSpace(r.PostFormValue("reason")))
	default:
		err = refusedf("action must be accept or reject")
	}
	c.finish(w, r, s, "onboarding", err, map[string]any{"tenant": tenant},
		donePage{Message: done, Back: "/ui/onboarding", BackText: "Back to onboarding"})
}
