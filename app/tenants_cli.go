package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/worker"
)

// Actions of `psasync tenants`.
const (
	TenantsDiscover = "discover"
	TenantsList     = "list"
	TenantsAccept   = "accept"
	TenantsReject   = "reject"
	TenantsExport   = "export"
)

// TenantsOptions are the inputs of `psasync tenants ACTION`.
type TenantsOptions struct {
	Source Source
	// Action is one of the Tenants* actions.
	Action string
	// Tenant is the tenant id to accept or reject.
	Tenant string
	// CompanyID and WriteBack are accept's choices.
	CompanyID string
	WriteBack bool
	// Reason is reject's note.
	Reason string
	// DryRun makes discover store nothing.
	DryRun bool
	// Status filters list ("" all).
	Status string
	// Format is export's: yaml (default), json or csv.
	Format string
	// JSON prints discover, list, accept and reject as JSON.
	JSON bool
	// Stdout gets the tables and exports; Stderr the logs.
	Stdout, Stderr io.Writer
}

// Tenants runs one onboarding action. Bad flags or refusals of the
// operator's decision (a malformed or unknown tenant id, an unknown
// company, a tenant accepted twice, a company mapped to another tenant)
// wrap ErrBadConfig, and nothing changed; Redis, Graph or the PSA failing
// wrap ErrRunFailed or ErrUnavailable. It is a process entry point (see
// Serve).
func Tenants(ctx context.Context, o TenantsOptions) error {
	switch o.Action {
	case TenantsDiscover, TenantsList, TenantsExport:
	case TenantsAccept, TenantsReject:
		if o.Tenant == "" {
			return badConfig(fmt.Errorf("%s needs a tenant id", o.Action))
		}
	default:
		return badConfig(fmt.Errorf("unknown action %q: want discover, list, accept, reject or export", o.Action))
	}
	status, err := onboarding.ParseStatus(o.Status)
	if err != nil {
		return badConfig(fmt.Errorf("--status: %w", err))
	}
	switch o.Format {
	case "", ExportYAML, ExportJSON, ExportCSV:
	default:
		return badConfig(fmt.Errorf("--format %q is not yaml, json or csv", o.Format))
	}
	a, closeApp, err := o.Source.openApp(ctx, o.Stderr, nil)
	if err != nil {
		return err
	}
	defer closeApp()
	q, closeQueue := newQueue(a)
	defer closeQueue()
	ops := tenantOps{a: a, queue: q}
	switch o.Action {
	case TenantsDiscover:
		res, err := ops.discover(ctx, o.DryRun)
		if err != nil {
			return classify(err, ErrRunFailed)
		}
		return printOr(o, res, func() error { return writeDiscovery(o.Stdout, res) })
	case TenantsList:
		ps, err := a.onboard.List(ctx, status)
		if err != nil {
			return unavailable(err)
		}
		return printOr(o, ps, func() error { return writeProposals(o.Stdout, ps) })
	case TenantsAccept:
		res, err := ops.accept(ctx, o.Tenant, onboarding.AcceptOptions{CompanyID: o.CompanyID, WriteBack: o.WriteBack})
		if err != nil {
			return decisionError(err)
		}
		return printOr(o, res, func() error {
			fmt.Fprintf(o.Stdout, "accepted: tenant %s (%s) → company %s %q by %s\n", res.TenantID, res.Name, res.Company.CompanyID, res.Company.CompanyName, res.Company.Rule)
			if res.WrittenBack {
				fmt.Fprintf(o.Stdout, "  wrote the tenant id to company %s\n", res.Company.CompanyID)
			}
			if res.DryRunID != "" {
				fmt.Fprintf(o.Stdout, "  first dry run: %s (GET /api/v1/runs/%s once a worker has run it)\n", res.DryRunID, res.DryRunID)
			}
			if res.Note != "" {
				fmt.Fprintf(o.Stdout, "  %s: %s\n", res.Note, res.ConsentURL)
			}
			return nil
		})
	case TenantsReject:
		res, err := a.onboard.Reject(ctx, o.Tenant, o.Reason)
		if err != nil {
			return decisionError(err)
		}
		return printOr(o, res, func() error {
			_, err := fmt.Fprintf(o.Stdout, "rejected: tenant %s (%s): %s\n", res.TenantID, res.Name, res.Reason)
			return err
		})
	}
	_, body, err := ops.export(ctx, o.Format)
	if err != nil {
		return unavailable(err)
	}
	_, err = o.Stdout.Write(body)
	return err
}

// decisionError classes an accept or reject error: the operator's
// mistakes are bad input (exit 2), the rest a failure.
func decisionError(err error) error {
	for _, e := range []error{onboarding.ErrInvalidTenantID, onboarding.ErrUnknownTenant, onboarding.ErrUnknownCompany,
		onboarding.ErrAlreadyAccepted, onboarding.ErrCompanyTaken, onboarding.ErrNoCompany, onboarding.ErrConfigured} {
		if errors.Is(err, e) {
			return badConfig(err)
		}
	}
	return classify(err, ErrRunFailed)
}

// newQueue is a job queue on the App's Redis, for the commands that
// enqueue without running a node (what they enqueue, the service's
// workers run).
func newQueue(a *App) (*worker.Queue, func()) {
	client := asynq.NewClient(a.asynqOpt)
	q := worker.NewQueue(client, a.engine.Store(), a.cfg.Worker.CoalesceWindow).WithQueues(worker.PrefixedQueues(a.cfg.Redis.QueuePrefix))
	return q, func() { _ = client.Close() }
}

func printOr(o TenantsOptions, v any, table func() error) error {
	if !o.JSON {
		return table()
	}
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeDiscovery prints the discovery table and its summary.
func writeDiscovery(w io.Writer, res onboarding.Result) error {
	if err := writeProposals(w, res.Proposals); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%d tenants: proposed by tenant_id %d, domain %d, contact_domain %d, name %d; needs review %d; accepted %d; rejected %d; without consent %d\n",
		len(res.Proposals), res.ByRule[onboarding.RuleTenantID], res.ByRule[onboarding.RuleDomain], res.ByRule[onboarding.RuleContactDomain],
		res.ByRule[onboarding.RuleName], res.NeedsReview, res.Accepted, res.Rejected, res.NoConsent)
	var urls []string
	for _, p := range res.Proposals {
		if !p.Consent && p.ConsentURL != "" {
			urls = append(urls, fmt.Sprintf("  %s (%s): %s", p.TenantID, p.Name, p.ConsentURL))
		}
	}
	if len(urls) > 0 {
		fmt.Fprintf(w, "\nWithout consent: send each customer's administrator its admin-consent URL:\n%s\n", strings.Join(urls, "\n"))
	}
	return nil
}

// writeProposals prints one line per tenant: its proposal, or why it needs
// review and the candidates.
func writeProposals(w io.Writer, ps []onboarding.Proposal) error {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tNAME\tCONSENT\tSTATUS\tCOMPANY\tRULE\tEVIDENCE")
	for _, p := range ps {
		consent := "yes"
		if !p.Consent {
			consent = "no"
		}
		company, rule, evidence := "-", "-", p.Reason
		if p.Company != nil {
			company, rule, evidence = p.Company.CompanyID+" "+p.Company.CompanyName, string(p.Company.Rule), p.Company.Evidence
		}
		if p.Status == onboarding.StatusNeedsReview && len(p.Candidates) > 0 {
			var cs []string
			for _, c := range p.Candidates {
				cs = append(cs, c.CompanyID+" "+c.CompanyName)
			}
			evidence += "; candidates: " + strings.Join(cs, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.TenantID, p.Name, consent, strings.ReplaceAll(string(p.Status), "_", " "), company, rule, dash(evidence))
	}
	return tw.Flush()
}
