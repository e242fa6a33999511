package worker

import (
	"context"
	"errors"
	"io"
	"iter"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa"
)

// Directory is what the engine needs from Microsoft Graph for one tenant.
type Directory interface {
	GetUser(ctx context.Context, id string) (directory.User, error)
	// Delta returns every user changed since link; link "" enumerates the
	// whole tenant and returns a fresh delta link.
	Delta(ctx context.Context, link string) (directory.DeltaResult, error)
	// CountEnabledUsers counts the tenant's enabled users (one request), for
	// the report's total_office365_users in incremental runs.
	CountEnabledUsers(ctx context.Context) (int, error)
	// LatestDeltaLink returns a delta link that starts now, enumerating
	// nobody; with ListUsers it makes a full run's enumeration.
	LatestDeltaLink(ctx context.Context) (string, error)
	// ListUsers yields every current user of the tenant, in large pages.
	ListUsers(ctx context.Context) iter.Seq2[directory.User, error]
}

// Tenant is one customer tenant as the engine sees it: its organizational
// variables (DESIGN.md) and its Graph access.
type Tenant struct {
	ID   string
	Name string
	// DefaultCompanyID is psa_default_company_id.
	DefaultCompanyID string
	// ContactType is psa_contact_type.
	ContactType string
	// SyncEnabled is office365_sync_enabled.
	SyncEnabled bool
	// SyncFilter is office365_sync_filter.
	SyncFilter string
	// DomainCompanies maps a mail domain to a PSA company id.
	DomainCompanies map[string]string
	// VerifiedDomains are the tenant's mail domains (UPN fallback for email).
	VerifiedDomains []string
	// ExclusiveCompanies are the PSA companies only this tenant syncs into:
	// there a contact carrying an object id the tenant no longer has is an
	// orphan to deactivate even when Redis lost its link.
	ExclusiveCompanies []string
	Directory          Directory
}

// ErrUnknownTenant is returned for a tenant id the configuration lacks.
var ErrUnknownTenant = errors.New("unknown tenant")

// ErrTenantDisabled is returned for a run of a tenant whose
// office365_sync_enabled is false.
var ErrTenantDisabled = errors.New("office365_sync_enabled is false for this tenant")

// Tenants resolves a tenant id to its settings and Graph client.
type Tenants interface {
	Tenant(ctx context.Context, id string) (Tenant, error)
}

// Config tunes the engine; zero values take the defaults.
type Config struct {
	// Concurrency bounds the PSA writes a run makes at once (default 4).
	Concurrency int
	// DeactivationGuard is the share of a company's linked contacts above
	// which a run deactivates none (default 0.2).
	DeactivationGuard float64
	// DeactivationGuardMin is how many deactivations per company are always
	// allowed, so one leaver in a small company is not blocked (default 1).
	DeactivationGuardMin int
	// MaxWait is the longest a run waits on one Retry-After (default 2m).
	MaxWait time.Duration
	// MaxAttempts bounds the tries of one throttled call in a run (default 5).
	MaxAttempts int
	// MaxOwnQuotaWait bounds how long one call of a run waits, in all, for
	// psasync's own PSA budget (default 6h: a run larger than an hour's
	// budget spreads over several hours instead of failing).
	MaxOwnQuotaWait time.Duration
	// BulkThreshold: an incremental run with more changed users than this
	// reads the company's contacts in pages instead of per user (default 50).
	BulkThreshold int
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Progress, when set, sees each run's progress (the CLI shows it).
	Progress ProgressFunc
	// Ledger is the change log, run history and operator decisions
	// (default: the store's, with default options).
	Ledger *ledger.Ledger
	// QuarantineThreshold is how many permanent failures in a row
	// quarantine a user, and failed runs (consent, permission) a tenant
	// (default 3).
	QuarantineThreshold int
	// SubscriptionOf, when set, names the tenant's Graph subscription, for
	// the change log's notification triggers ("" when it has none).
	SubscriptionOf func(ctx context.Context, tenant string) string
	// ChangeLogOff records no change-log entry: only for benchmarks that
	// measure what recording costs against a run without it.
	ChangeLogOff bool
}

func (c Config) withDefaults() Config {
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.DeactivationGuard <= 0 {
		c.DeactivationGuard = 0.2
	}
	if c.DeactivationGuardMin <= 0 {
		c.DeactivationGuardMin = 1
	}
	if c.MaxWait <= 0 {
		c.MaxWait = 2 * time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.MaxOwnQuotaWait <= 0 {
		c.MaxOwnQuotaWait = 6 * time.Hour
	}
	if c.BulkThreshold <= 0 {
		c.BulkThreshold = 50
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.QuarantineThreshold <= 0 {
		c.QuarantineThreshold = ledger.DefaultQuarantineThreshold
	}
	return c
}

// Engine plans and applies syncs. Every PSA write of psasync goes through
// its apply step; runs and per-user jobs differ only in how they read.
type Engine struct {
	psa     psa.Client
	mapper  *mapping.Mapper
	store   *Store
	tenants Tenants
	cfg     Config
	log     logrus.FieldLogger
	ledger  *ledger.Ledger
}

// NewEngine wires an engine; log may be nil.
func NewEngine(client psa.Client, mapper *mapping.Mapper, store *Store, tenants Tenants, cfg Config, log logrus.FieldLogger) *Engine {
	if log == nil {
		l := logrus.New()
		l.Out = io.Discard
		log = l
	}
	cfg = cfg.withDefaults()
	if cfg.Ledger != nil {
		store.ledger = cfg.Ledger // one ledger for the runs and the change log
	}
	return &Engine{psa: client, mapper: mapper, store: store, tenants: tenants, cfg: cfg, log: log, ledger: store.ledger}
}

// Ledger returns the engine's change log, run history and decisions.
func (e *Engine) Ledger() *ledger.Ledger { return e.ledger }

// supported drops the fields the PSA cannot store, so they never show as
// changed and never cost a write.
func (e *Engine) supported(fields []psa.Field) []psa.Field {
	keep := map[psa.Field]bool{}
	for _, f := range e.psa.SupportedFields() {
		keep[f] = true
	}
	out := fields[:0]
	for _, f := range fields {
		if keep[f] {
			out = append(out, f)
		}
	}
	return out
}

// Store returns the engine's state store.
func (e *Engine) Store() *Store { return e.store }
