package onboarding

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/psa"
)

// PartnerDirectory is what discovery reads from Graph: the partner
// tenant's customers, and in each customer tenant the app's consent and
// the organization (graph's partner client implements it).
type PartnerDirectory interface {
	Customers(ctx context.Context) ([]directory.Customer, error)
	CheckConsent(ctx context.Context, tenantID string) (directory.Consent, error)
	Organization(ctx context.Context, tenantID string) (directory.Organization, error)
}

// Companies is what onboarding needs of the PSA: psa.CompanyDirectory,
// which every vendor client implements.
type Companies interface {
	ListCompanies(ctx context.Context) ([]psa.Company, error)
	ContactDomains(ctx context.Context, companyIDs []string) (map[string][]string, error)
	SetCompanyTenantID(ctx context.Context, companyID, tenantID string) (psa.Company, error)
}

// DefaultConcurrency is how many customer tenants are checked at once.
const DefaultConcurrency = 8

// Config holds a Service's settings; zero fields take defaults.
type Config struct {
	// Concurrency bounds the consent checks and organization reads in
	// flight (default DefaultConcurrency).
	Concurrency int
	// Configured maps the config file's tenant ids (lower case) to their
	// PSA company id: they win over discovery, and their companies are
	// never offered to another tenant.
	Configured map[string]string
	// AutoAcceptTenantID accepts, during discovery, every proposal found by
	// rule 1 (the PSA company already holds the tenant id: an earlier
	// accept wrote it back, or the MSP entered it), so that a psasync that
	// lost its Redis resumes by itself.
	AutoAcceptTenantID bool
	// Clock gives the time stamps (default time.Now).
	Clock func() time.Time
	// Logger receives one line per decision and per write-back (default:
	// discard).
	Logger logrus.FieldLogger
	// ChangeLog records each write-back to the PSA (nil: only the log).
	ChangeLog ChangeLog
}

// ChangeLog is the change log of PSA writes (ledger.Ledger).
type ChangeLog interface {
	Append(ctx context.Context, entries ...ledger.Entry) error
}

// Service runs discovery and the operator's decisions over a partner
// directory, the PSA's companies and the Store.
type Service struct {
	dir   PartnerDirectory
	psa   Companies
	store *Store
	cfg   Config
}

// New builds a Service; dir may be nil when no partner tenant is
// configured (Discover then fails, the rest works on stored state).
func New(dir PartnerDirectory, companies Companies, store *Store, cfg Config) *Service {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = DefaultConcurrency
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Logger == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		cfg.Logger = l
	}
	conf := make(map[string]string, len(cfg.Configured))
	for t, c := range cfg.Configured {
		conf[strings.ToLower(t)] = c
	}
	cfg.Configured = conf
	return &Service{dir: dir, psa: companies, store: store, cfg: cfg}
}

// Store is the service's store (the wiring reads accepted tenants from it).
func (s *Service) Store() *Store { return s.store }

// ErrNoPartner is returned by Discover when no partner tenant is set up.
var ErrNoPartner = errors.New("no partner tenant is configured (partner.tenant_id)")

// DiscoverOptions tune one discovery.
type DiscoverOptions struct {
	// DryRun computes the proposals without storing them.
	DryRun bool
}

// Result is one discovery: every customer tenant in tenant-id order, and
// how many were proposed by each rule.
type Result struct {
	Proposals []Proposal `json:"tenants"`
	// ByRule counts the open proposals per rule.
	ByRule map[Rule]int `json:"by_rule"`
	// NeedsReview, Accepted, Rejected and NoConsent count tenants.
	NeedsReview int `json:"needs_review"`
	Accepted    int `json:"accepted"`
	Rejected    int `json:"rejected"`
	NoConsent   int `json:"no_consent"`
	// AutoAccepted lists the tenants accepted by AutoAcceptTenantID.
	AutoAccepted []string `json:"auto_accepted,omitempty"`
	// ConsentGained lists accepted tenants whose consent arrived since the
	// last check (the wiring starts syncing them).
	ConsentGained []string `json:"consent_gained,omitempty"`
}

// reading is what the directory said of one customer.
type reading struct {
	customer directory.Customer
	consent  directory.Consent
	org      *directory.Organization
	err      error
}

// Discover lists the customers, checks consent in each (Concurrency at
// once), reads the organization of the consented ones, reads the PSA's
// companies and their contacts' domains once, and matches. Accepted,
// rejected and configured tenants keep their state (their consent is
// refreshed); the others' proposals replace the previous discovery's
// unless DryRun.
func (s *Service) Discover(ctx context.Context, o DiscoverOptions) (Result, error) {
	if s.dir == nil {
		return Result{}, ErrNoPartner
	}
	customers, err := s.dir.Customers(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("onboarding: list customers: %w", err)
	}
	readings := s.read(ctx, customers)
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	facts, err := s.companyFacts(ctx)
	if err != nil {
		return Result{}, err
	}
	taken, err := s.taken(ctx)
	if err != nil {
		return Result{}, err
	}
	rejected, err := s.store.Rejected(ctx)
	if err != nil {
		return Result{}, err
	}
	all, err := s.store.AcceptedAll(ctx)
	if err != nil {
		return Result{}, err
	}
	accepted := make(map[string]Proposal, len(all))
	for _, a := range all {
		accepted[strings.ToLower(a.TenantID)] = a
	}
	now := s.cfg.Clock().UTC()
	var open []Proposal
	var toMatch []TenantFacts
	res := Result{ByRule: map[Rule]int{}}
	for _, r := range readings {
		p := baseProposal(r, now)
		tid := strings.ToLower(p.TenantID)
		if cid, ok := s.cfg.Configured[tid]; ok {
			p.Status, p.Configured, p.Company = StatusAccepted, true, &Candidate{CompanyID: cid, Rule: RuleConfig, Evidence: "tenants: in the config file"}
			res.Proposals = append(res.Proposals, p)
			continue
		}
		if acc, ok := accepted[tid]; ok {
			if acc.takeConsent(p) {
				res.ConsentGained = append(res.ConsentGained, acc.TenantID)
			}
			if !o.DryRun {
				if err := s.store.UpdateAccepted(ctx, acc); err != nil {
					return Result{}, fmt.Errorf("onboarding: refresh %s: %w", tid, err)
				}
			}
			res.Proposals = append(res.Proposals, acc)
			continue
		}
		if rej, ok := rejected[tid]; ok {
			rej.takeConsent(p)
			res.Proposals = append(res.Proposals, rej)
			continue
		}
		open = append(open, p)
		toMatch = append(toMatch, TenantFacts{TenantID: p.TenantID, Name: p.Name, Domains: p.Domains})
	}
	for i, m := range Match(toMatch, facts, taken) {
		p := &open[i]
		p.Candidates, p.Reason = m.Candidates, m.Reason
		if m.Proposed != nil {
			p.Status, p.Company = StatusProposed, m.Proposed
		} else {
			p.Status = StatusNeedsReview
		}
	}
	if !o.DryRun {
		if err := s.store.ReplaceProposals(ctx, open); err != nil {
			return Result{}, err
		}
	}
	companies := make([]psa.Company, len(facts))
	for i, f := range facts {
		companies[i] = f.Company
	}
	for _, p := range open {
		if !o.DryRun && s.cfg.AutoAcceptTenantID && p.Status == StatusProposed && p.Company.Rule == RuleTenantID {
			acc, err := s.accept(ctx, p, AcceptOptions{}, companies, taken)
			if err == nil {
				res.AutoAccepted = append(res.AutoAccepted, p.TenantID)
				taken[acc.Company.CompanyID] = acc.TenantID
				p = acc
			} else {
				s.cfg.Logger.WithError(err).WithField("tenant", p.TenantID).Warn("onboarding: auto-accept by tenant id failed; left as a proposal")
			}
		}
		res.Proposals = append(res.Proposals, p)
	}
	slices.SortFunc(res.Proposals, func(a, b Proposal) int { return strings.Compare(a.TenantID, b.TenantID) })
	for _, p := range res.Proposals {
		if !p.Consent {
			res.NoConsent++
		}
		switch p.Status {
		case StatusProposed:
			res.ByRule[p.Company.Rule]++
		case StatusNeedsReview:
			res.NeedsReview++
		case StatusAccepted:
			res.Accepted++
		case StatusRejected:
			res.Rejected++
		}
	}
	return res, nil
}

// read checks consent in every customer tenant and reads the consented
// ones' organization, Concurrency at once, keeping the customers' order.
// A cancelled ctx leaves the customers not reached yet unread.
func (s *Service) read(ctx context.Context, customers []directory.Customer) []reading {
	out := make([]reading, len(customers))
	for i, c := range customers {
		out[i].customer = c
	}
	_ = fanOut(ctx, s.cfg.Concurrency, len(out), func(i int) {
		r := &out[i]
		r.consent, r.err = s.dir.CheckConsent(ctx, r.customer.TenantID)
		if r.err != nil || !r.consent.Granted {
			return
		}
		org, err := s.dir.Organization(ctx, r.customer.TenantID)
		if err != nil {
			r.err = fmt.Errorf("read organization: %w", err)
			return
		}
		r.org = &org
	}) // the caller checks ctx
	return out
}

// fanOut runs fn(0) to fn(n-1), at most limit at once, and waits for them
// all. Once ctx is done it starts no more and returns ctx's error.
func fanOut(ctx context.Context, limit, n int, fn func(i int)) error {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	defer wg.Wait()
	for i := range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			fn(i)
		}()
	}
	return nil
}

// baseProposal is a customer as discovery read it, before matching.
func baseProposal(r reading, now time.Time) Proposal {
	c := r.customer
	p := Proposal{TenantID: strings.ToLower(c.TenantID), Name: firstOf(c.DisplayName, c.ContractDisplayName), DiscoveredAt: now}
	p.setConsent(r.consent)
	if r.err != nil {
		p.ConsentError = r.err.Error()
	}
	if r.org != nil {
		p.Name = firstOf(r.org.DisplayName, p.Name)
		for _, d := range r.org.VerifiedDomains {
			p.Domains = append(p.Domains, strings.ToLower(d.Name))
		}
	} else if c.ContractDefaultDomain != "" {
		p.Domains = []string{strings.ToLower(c.ContractDefaultDomain)}
	}
	return p
}

// companyFacts reads the PSA's companies and their contacts' domains.
func (s *Service) companyFacts(ctx context.Context) ([]CompanyFacts, error) {
	companies, err := s.psa.ListCompanies(ctx)
	if err != nil {
		return nil, fmt.Errorf("onboarding: list PSA companies: %w", err)
	}
	ids := make([]string, 0, len(companies))
	for _, c := range companies {
		if !c.Inactive {
			ids = append(ids, c.ID)
		}
	}
	domains, err := s.psa.ContactDomains(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("onboarding: read PSA contacts' domains: %w", err)
	}
	out := make([]CompanyFacts, 0, len(companies))
	for _, c := range companies {
		out = append(out, CompanyFacts{Company: c, ContactDomains: domains[c.ID]})
	}
	return out, nil
}

// taken is every company that already belongs to a tenant: accepted
// mappings and the config file's tenants.
func (s *Service) taken(ctx context.Context) (Taken, error) {
	t, err := s.store.CompanyOwners(ctx)
	if err != nil {
		return nil, err
	}
	for tid, cid := range s.cfg.Configured {
		if cid != "" {
			t[cid] = tid
		}
	}
	return t, nil
}

func firstOf(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}
