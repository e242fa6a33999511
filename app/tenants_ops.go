package app

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/webhook"
	"github.com/psasync/psasync/worker"
)

// tenantOps are the onboarding operations the CLI and the API share:
// onboarding's service, plus what accepting starts on the queues.
type tenantOps struct {
	a     *App
	queue *worker.Queue
}

// Accepted is the answer to an accept: the mapping, and the first dry
// run's id when the tenant has consent (read it at /api/v1/runs/{id}).
type Accepted struct {
	onboarding.Proposal
	DryRunID string `json:"dry_run_id,omitempty"`
	Note     string `json:"note,omitempty"`
}

// discover runs a discovery; tenants it accepted or saw gain consent are
// started (a full run).
func (o tenantOps) discover(ctx context.Context, dry bool) (onboarding.Result, error) {
	res, err := o.a.onboard.Discover(ctx, onboarding.DiscoverOptions{DryRun: dry})
	if err != nil {
		return res, err
	}
	for _, tid := range append(append([]string(nil), res.AutoAccepted...), res.ConsentGained...) {
		if p, ok := find(res.Proposals, tid); ok && p.Consent {
			if _, err := goLive(ctx, o.queue, tid, false); err != nil {
				o.a.log.WithError(err).WithField("tenant", tid).Warn("onboarding: could not start the tenant")
			}
		}
	}
	return res, nil
}

// accept accepts a tenant and, when it has consent, starts its
// subscription and a first dry run.
func (o tenantOps) accept(ctx context.Context, tenantID string, opts onboarding.AcceptOptions) (Accepted, error) {
	p, err := o.a.onboard.Accept(ctx, tenantID, opts)
	if err != nil {
		return Accepted{}, err
	}
	out := Accepted{Proposal: p}
	if !p.Consent {
		out.Note = "the app has no consent in this tenant yet: send the consent URL; syncing starts when consent is found"
		return out, nil
	}
	if out.DryRunID, err = goLive(ctx, o.queue, p.TenantID, true); err != nil {
		return out, fmt.Errorf("accepted, but: %w", err)
	}
	return out, nil
}

func find(ps []onboarding.Proposal, tid string) (onboarding.Proposal, bool) {
	for _, p := range ps {
		if strings.EqualFold(p.TenantID, tid) {
			return p, true
		}
	}
	return onboarding.Proposal{}, false
}

// Export formats of `psasync tenants export` and GET /api/v1/tenants/export.
const (
	ExportYAML = "yaml"
	ExportJSON = "json"
	ExportCSV  = "csv"
)

// export renders the accepted tenants: a `tenants:` YAML fragment for the
// config file, JSON, or CSV. It returns the content type and the body.
func (o tenantOps) export(ctx context.Context, format string) (string, []byte, error) {
	accepted, err := o.a.onboard.Store().AcceptedAll(ctx)
	if err != nil {
		return "", nil, err
	}
	switch format {
	case "", ExportYAML:
		var ts []config.Tenant
		for _, p := range accepted {
			t := acceptedTenant(o.a.cfg, p)
			t.Office365SyncEnabled = nil // the file's default (true); consent decides in Entra ID
			ts = append(ts, t)
		}
		var doc yaml.Node
		if err := doc.Encode(struct {
			Tenants []config.Tenant `yaml:"tenants"`
		}{ts}); err != nil {
			return "", nil, err
		}
		pruneEmpty(&doc)
		var buf bytes.Buffer
		buf.WriteString("# Accepted tenants exported by psasync; paste under the config's tenants:\n")
		enc := yaml.NewEncoder(&buf)
		enc.SetIndent(2)
		if err := enc.Encode(&doc); err != nil {
			return "", nil, err
		}
		return "application/yaml", buf.Bytes(), enc.Close()
	case ExportJSON:
		if accepted == nil {
			accepted = []onboarding.Proposal{}
		}
		b, err := json.MarshalIndent(accepted, "", "  ")
		return "application/json", append(b, '\n'), err
	case ExportCSV:
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"tenant_id", "name", "company_id", "company_name", "rule", "evidence", "consent", "written_back", "decided_at"})
		for _, p := range accepted {
			_ = w.Write([]string{p.TenantID, p.Name, p.Company.CompanyID, p.Company.CompanyName, string(p.Company.Rule), p.Company.Evidence,
				fmt.Sprint(p.Consent), fmt.Sprint(p.WrittenBack), p.DecidedAt.Format("2006-01-02T15:04:05Z07:00")})
		}
		w.Flush()
		return "text/csv", buf.Bytes(), w.Error()
	}
	return "", nil, fmt.Errorf("%w: format %q is not yaml, json or csv", errBadFormat, format)
}

// errBadFormat is an export format that is not yaml, json or csv.
var errBadFormat = errors.New("bad export format")

// pruneEmpty drops the zero-valued keys of an exported tenant, so the
// fragment holds only what is set.
func pruneEmpty(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.DocumentNode, yaml.SequenceNode:
		for _, c := range n.Content {
			pruneEmpty(c)
		}
		return n.Kind == yaml.SequenceNode && len(n.Content) == 0
	case yaml.MappingNode:
		kept := n.Content[:0]
		for i := 0; i+1 < len(n.Content); i += 2 {
			if !pruneEmpty(n.Content[i+1]) {
				kept = append(kept, n.Content[i], n.Content[i+1])
			}
		}
		n.Content = kept
		return len(kept) == 0
	case yaml.ScalarNode:
		return n.Tag == "!!null" || (n.Tag == "!!str" && n.Value == "")
	}
	return false
}

// tenantsAPI serves /api/v1/tenants for the webhook.
type tenantsAPI struct{ ops tenantOps }

func (t tenantsAPI) ListTenants(ctx context.Context, status string) (any, error) {
	st, err := onboarding.ParseStatus(status)
	if err != nil {
		return nil, webhook.BadRequest("%v", err)
	}
	ps, err := t.ops.a.onboard.List(ctx, st)
	if ps == nil {
		ps = []onboarding.Proposal{}
	}
	return map[string]any{"tenants": ps}, apiError(err)
}

func (t tenantsAPI) DiscoverTenants(ctx context.Context, dryRun bool) (any, error) {
	res, err := t.ops.discover(ctx, dryRun)
	return res, apiError(err)
}

func (t tenantsAPI) AcceptTenant(ctx context.Context, tenantID string, req webhook.AcceptTenantRequest) (any, error) {
	res, err := t.ops.accept(ctx, tenantID, onboarding.AcceptOptions{CompanyID: req.CompanyID, WriteBack: req.WriteBack})
	return res, apiError(err)
}

func (t tenantsAPI) RejectTenant(ctx context.Context, tenantID, reason string) (any, error) {
	res, err := t.ops.a.onboard.Reject(ctx, tenantID, reason)
	return res, apiError(err)
}

func (t tenantsAPI) ExportTenants(ctx context.Context, format string) (string, []byte, error) {
	ct, b, err := t.ops.export(ctx, format)
	return ct, b, apiError(err)
}

// apiError gives onboarding's refusals their HTTP class; their text names
// the tenant or company and is safe to show.
func apiError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, onboarding.ErrInvalidTenantID), errors.Is(err, onboarding.ErrNoCompany),
		errors.Is(err, onboarding.ErrUnknownCompany), errors.Is(err, errBadFormat):
		return webhook.BadRequest("%v", err)
	case errors.Is(err, onboarding.ErrUnknownTenant):
		return webhook.NotFound("%v", err)
	case errors.Is(err, onboarding.ErrAlreadyAccepted), errors.Is(err, onboarding.ErrCompanyTaken),
		errors.Is(err, onboarding.ErrConfigured), errors.Is(err, onboarding.ErrNoPartner):
		return webhook.Conflict("%v", err)
	case errors.Is(err, directory.ErrMissingPermission):
		// The operator must grant it: the message names the permission.
		return webhook.FailedDependency("%v", err)
	}
	return err
}
