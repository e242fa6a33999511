package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/mapping"
	"github.com/psasync/psasync/psa"
)

// Directory is what the engine needs from Microsoft Graph for one tenant.
type Directory interface {
	GetUser(ctx context.Context, id string) (directory.User, error)
	// Delta returns every user changed since link; link "" enumerates the
	// whole tenant and returns a fresh delta link.
	Delta(ctx context.Context, link string) (directory.DeltaResult, error)
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
}

// NewEngine wires an engine; log may be nil.
func NewEngine(client psa.Client, mapper *mapping.Mapper, store *Store, tenants Tenants, cfg Config, log logrus.FieldLogger) *Engine {
	if log == nil {
		l := logrus.New()
		l.Out = io.Discard
		log = l
	}
	return &Engine{psa: client, mapper: mapper, store: store, tenants: tenants, cfg: cfg.withDefaults(), log: log}
}

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

// waiter retries throttled calls inside a run, within the engine's bounds,
// and records what it waited.
type waiter struct {
	e   *Engine
	mu  sync.Mutex
	thr Throttling
	on  bool
	// ownOnly waits for psasync's own quota only, up to jobOwnQuotaWait.
	ownOnly bool
}

func newWaiter(e *Engine, on bool) *waiter { return &waiter{e: e, on: on} }

// jobOwnQuotaWait is how long a per-user job waits in place for psasync's
// own budget before handing the wait to the queue: re-running the job
// later would spend Graph and PSA reads again.
const jobOwnQuotaWait = 10 * time.Second

// newJobWaiter waits only for psasync's own budget, briefly; the PSA's and
// Graph's throttling go back to the queue, which retries after Retry-After.
func newJobWaiter(e *Engine) *waiter { return &waiter{e: e, ownOnly: true} }

func (w *waiter) throttling() Throttling {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.thr
}

// do runs fn, waiting out Retry-After from the PSA or Graph when the run
// waits (on); per-user jobs return the error so asynq schedules the retry.
//
// psasync's own quota is waited out for as long as MaxOwnQuotaWait in all:
// a run larger than the budget is expected to pace itself, not fail. A PSA's
// or Graph's own throttling is retried MaxAttempts times.
func (w *waiter) do(ctx context.Context, fn func() error) error {
	var owned time.Duration
	ownLimit := w.e.cfg.MaxOwnQuotaWait
	if w.ownOnly {
		ownLimit = jobOwnQuotaWait
	}
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || (!w.on && !w.ownOnly) {
			return err
		}
		d, ok := retryDelay(err)
		if !ok || d > w.e.cfg.MaxWait {
			return err
		}
		if errors.Is(err, psa.ErrOwnQuota) {
			if owned += d; owned > ownLimit {
				return err
			}
			attempt--
		} else if w.ownOnly || attempt >= w.e.cfg.MaxAttempts {
			return err
		}
		w.mu.Lock()
		w.thr.Events++
		w.thr.WaitedMS += d.Milliseconds()
		w.mu.Unlock()
		w.e.log.WithFields(logrus.Fields{"wait": d.String(), "attempt": attempt}).Warn("throttled; waiting as asked")
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
	}
}

// retryDelay returns the delay a throttled PSA or Graph call asked for.
func retryDelay(err error) (time.Duration, bool) {
	if d, ok := psa.RetryAfter(err); ok && (errors.Is(err, psa.ErrRateLimited) || errors.Is(err, psa.ErrConnection)) {
		return d, true
	}
	if errors.Is(err, psa.ErrRateLimited) {
		return time.Second, true
	}
	var te *directory.ThrottledError
	if errors.As(err, &te) {
		if te.RetryAfter <= 0 {
			return time.Second, true
		}
		return te.RetryAfter, true
	}
	return 0, false
}

// listContacts reads a company's contacts, starting over when a page is
// throttled (the iterator cannot resume mid-way).
func (e *Engine) listContacts(ctx context.Context, w *waiter, company string) ([]psa.Contact, error) {
	var out []psa.Contact
	err := w.do(ctx, func() error {
		out = out[:0]
		return collect(e.psa.ListContacts(ctx, company), &out)
	})
	if err != nil {
		return nil, fmt.Errorf("list contacts of company %s: %w", company, err)
	}
	return out, nil
}

func collect(seq iter.Seq2[psa.Contact, error], out *[]psa.Contact) error {
	for c, err := range seq {
		if err != nil {
			return err
		}
		*out = append(*out, c)
	}
	return nil
}
