// Package quota keeps every psasync replica together under a PSA's API
// budget. Wrap decorates a psa.Client so that each call first asks a limiter
// shared through Redis: a rate budget (GCRA, requests per period, across all
// replicas) and a cap on calls in flight per endpoint group (a distributed
// semaphore with leases, so a crashed replica's slot frees itself).
//
// A call over budget is not made: it returns a *psa.Error of kind
// psa.ErrRateLimited whose RetryAfter says when the budget allows the next
// call. The decorator never sleeps for the budget; the engine waits out
// RetryAfter within a run, and asynq re-enqueues a queued job without
// spending a retry. Only a full concurrency cap is waited for, briefly
// (Config.ConcurrencyWait).
//
// Endpoint groups and the Autotask endpoints they stand for:
//
//	contacts-read   ListContacts, FindContactsByEmail,  POST /V1.0/Contacts/query
//	                FindContactsByExternalID
//	                GetContact                         GET  /V1.0/Contacts/{id}
//	                ContactDomains (onboarding)        POST /V1.0/Contacts/query
//	contacts-write  CreateContact, UpdateContact       POST|PATCH /V1.0/Companies/{id}/Contacts
//	companies       ListCompanies, SetCompanyTenantID  POST /V1.0/Companies/query, GET|PATCH /V1.0/Companies
//
// The company directory (psa.CompanyDirectory) is forwarded when the
// wrapped client has one; directory.go says how each call is charged.
//
// Autotask counts both contact groups under its Contacts object endpoint, which is
// why Defaults caps each group at 1 (see Defaults).
package quota

import (
	"context"
	"fmt"
	"iter"
	"sync/atomic"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/redis/go-redis/v9"
	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// Endpoint groups: each has its own concurrency cap of Config.MaxConcurrent.
const (
	// GroupContactsRead holds ListContacts, FindContactsByEmail,
	// FindContactsByExternalID and GetContact.
	GroupContactsRead = "contacts-read"
	// GroupContactsWrite holds CreateContact and UpdateContact.
	GroupContactsWrite = "contacts-write"
)

// DefaultPageSize is the ListContacts page size assumed without
// WithPageSize: halopsa's default, and below Autotask's 500 and
// ConnectWise's 1000, so that a listing is over-counted rather than
// under-counted unless a client is configured with smaller pages.
const DefaultPageSize = 100

var _ psa.Client = (*Client)(nil)

// Stats counts what one Client (one replica) did, for run reports and
// metrics.
type Stats struct {
	// Calls is how many calls were let through to the PSA client; each
	// ListContacts page counts as one.
	Calls int64
	// Limited is how many calls were refused with psa.ErrRateLimited: the
	// budget was spent, or no concurrency slot freed up in time.
	Limited int64
	// ConcurrencyWaits is how many calls found every slot of their group
	// taken and had to wait.
	ConcurrencyWaits int64
	// Waited is the total time calls spent waiting for a slot.
	Waited time.Duration
	// ShareLimited is how many of Limited were refused because their
	// tenant had spent its fair share while others contended.
	ShareLimited int64
}

// Client is a psa.Client that asks the shared limiter before every call of
// the client it wraps. It is safe for concurrent use.
type Client struct {
	inner    psa.Client
	rdb      redis.UniversalClient
	cfg      Config
	limiter  *redis_rate.Limiter
	limit    redis_rate.Limit
	name     string
	pageSize int
	lease    time.Duration
	log      logrus.FieldLogger

	calls            atomic.Int64
	limited          atomic.Int64
	concurrencyWaits atomic.Int64
	waitedNanos      atomic.Int64
	shareLimited     atomic.Int64
}

// Wrap returns a psa.Client that asks the limiter shared through rdb before
// every call of inner. cfg gets its defaults (WithDefaults); rdb may be nil
// when cfg limits nothing. Wrap panics when cfg is invalid or rdb is missing,
// as those are wiring mistakes: validate the config (Config.Validate) when it
// is loaded.
func Wrap(inner psa.Client, rdb redis.UniversalClient, cfg Config, opts ...Option) *Client {
	if inner == nil {
		panic("quota: Wrap needs a psa.Client to wrap")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		panic(fmt.Sprintf("quota: Wrap with an invalid config: %v", err))
	}
	if cfg.Limited() && rdb == nil {
		panic("quota: Wrap needs a Redis client when the config sets limits")
	}
	c := &Client{
		inner:    inner,
		rdb:      rdb,
		cfg:      cfg,
		name:     cfg.Key,
		pageSize: DefaultPageSize,
		lease:    DefaultLease,
		log:      psa.DiscardLogger(),
	}
	for _, o := range opts {
		o(c)
	}
	if cfg.Requests > 0 {
		c.limiter = redis_rate.NewLimiter(rdb)
		// Burst now plus (Requests-Burst+1) spaced over a Period keeps any
		// window shorter than Period at or below Requests.
		c.limit = redis_rate.Limit{Rate: cfg.Requests - cfg.Burst + 1, Burst: cfg.Burst, Period: cfg.Period}
	}
	return c
}

// Stats returns the counters of this Client so far.
func (c *Client) Stats() Stats {
	return Stats{
		Calls:            c.calls.Load(),
		Limited:          c.limited.Load(),
		ConcurrencyWaits: c.concurrencyWaits.Load(),
		Waited:           time.Duration(c.waitedNanos.Load()),
		ShareLimited:     c.shareLimited.Load(),
	}
}

// ListContacts yields the inner client's listing, asking the limiter once per
// page: before the first page and again after every page-size contacts
// (WithPageSize), just before the pull that makes the inner client read the
// next page. The slot of contacts-read is held while a page is read and
// given back while its contacts are handed out, so long listings take turns
// with other reads. When the budget runs out between pages the listing ends
// with a psa.ErrRateLimited error. A company whose contact count is an exact
// multiple of the page size is charged one page more than it reads, because
// the decorator cannot tell that no page follows.
func (c *Client) ListContacts(ctx context.Context, companyID string) iter.Seq2[psa.Contact, error] {
	const op = "quota: list contacts"
	return func(yield func(psa.Contact, error) bool) {
		release, err := c.admit(ctx, op, GroupContactsRead)
		if err != nil {
			yield(psa.Contact{}, err)
			return
		}
		defer func() { release() }()
		n := 0
		for ct, err := range c.inner.ListContacts(ctx, companyID) {
			release()
			release = func() {}
			if !yield(ct, err) {
				return
			}
			if err != nil {
				continue
			}
			if n++; n%c.pageSize != 0 {
				continue
			}
			next, aerr := c.admit(ctx, op, GroupContactsRead)
			if aerr != nil {
				yield(psa.Contact{}, aerr)
				return
			}
			release = next
		}
	}
}

// FindContactsByEmail asks the limiter (contacts-read, one request) and then
// the inner client.
func (c *Client) FindContactsByEmail(ctx context.Context, companyID, email string) ([]psa.Contact, error) {
	return admitted(ctx, c, "quota: find contacts by email", GroupContactsRead, func() ([]psa.Contact, error) {
		return c.inner.FindContactsByEmail(ctx, companyID, email)
	})
}

// FindContactsByExternalID asks the limiter (contacts-read, one request)
// and then the inner client: the object-id lookup is a read like the email
// lookup, and counts against the same budget.
func (c *Client) FindContactsByExternalID(ctx context.Context, companyID, objectID string) ([]psa.Contact, error) {
	return admitted(ctx, c, "quota: find contacts by object id", GroupContactsRead, func() ([]psa.Contact, error) {
		return c.inner.FindContactsByExternalID(ctx, companyID, objectID)
	})
}

// GetContact asks the limiter (contacts-read) and then the inner client.
func (c *Client) GetContact(ctx context.Context, id string) (psa.Contact, error) {
	return admitted(ctx, c, "quota: get contact", GroupContactsRead, func() (psa.Contact, error) {
		return c.inner.GetContact(ctx, id)
	})
}

// CreateContact asks the limiter (contacts-write) and then the inner client.
func (c *Client) CreateContact(ctx context.Context, ct psa.Contact) (psa.Contact, error) {
	return admitted(ctx, c, "quota: create contact", GroupContactsWrite, func() (psa.Contact, error) {
		return c.inner.CreateContact(ctx, ct)
	})
}

// UpdateContact asks the limiter (contacts-write) and then the inner client.
func (c *Client) UpdateContact(ctx context.Context, ct psa.Contact, fields []psa.Field) (psa.Contact, error) {
	return admitted(ctx, c, "quota: update contact", GroupContactsWrite, func() (psa.Contact, error) {
		return c.inner.UpdateContact(ctx, ct, fields)
	})
}

// admitted makes call, a call of one request, once admit let it through,
// and gives the slot back after it: the shape of every decorated call but
// the listing, which is charged page by page.
func admitted[T any](ctx context.Context, c *Client, op, group string, call func() (T, error)) (T, error) {
	release, err := c.admit(ctx, op, group)
	if err != nil {
		var zero T
		return zero, err
	}
	defer release()
	return call()
}

// SupportedFields is the inner client's: it makes no request, so it asks
// no limiter.
func (c *Client) SupportedFields() []psa.Field { return c.inner.SupportedFields() }

// admit lets one request of group through: it takes a concurrency slot
// (waiting for one if needed) and then one unit of the rate budget. The
// slot comes first so that a unit is only spent on a call that is made. The
// returned func gives the slot back; it is never nil when err is nil.
func (c *Client) admit(ctx context.Context, op, group string) (func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	var s *slot
	if c.cfg.MaxConcurrent > 0 {
		var err error
		if s, err = c.acquireSlot(ctx, op, group); err != nil {
			return nil, err
		}
	}
	release := func() {
		if s != nil {
			s.release(ctx)
		}
	}
	if tenant := psa.TenantOf(ctx); tenant != "" && c.limiter != nil && c.cfg.ShareWindow > 0 {
		if err := c.admitShare(ctx, op, tenant); err != nil {
			release()
			return nil, err
		}
	}
	if err := c.spend(ctx, op); err != nil {
		release()
		return nil, err
	}
	c.calls.Add(1)
	return release, nil
}

// spend takes one unit of the rate budget for a request of op, or returns
// the psa.ErrRateLimited (psa.ErrOwnQuota) error saying when the next one
// is allowed.
func (c *Client) spend(ctx context.Context, op string) error {
	if c.limiter == nil {
		return nil
	}
	res, err := c.limiter.Allow(ctx, c.cfg.Key, c.limit)
	if err != nil {
		return c.storeError(ctx, op, "check the rate budget", err)
	}
	if res.Allowed == 0 {
		c.limited.Add(1)
		wait := max(res.RetryAfter, time.Millisecond)
		c.log.WithFields(logrus.Fields{"op": op, "retry_after": wait}).Debug("quota: budget spent")
		return &psa.Error{Op: op, Kind: psa.ErrRateLimited, RetryAfter: wait, Err: psa.ErrOwnQuota,
			Message: fmt.Sprintf("psasync's own quota for %s is spent (%d requests per %s across all replicas); the next call is allowed in %s",
				c.name, c.cfg.Requests, c.cfg.Period, wait.Round(time.Millisecond))}
	}
	return nil
}

// storeError turns a Redis failure into the error a call returns: ctx's own
// error when ctx ended, else ErrConnection, so that the job is retried later
// rather than calling the PSA unmetered.
func (c *Client) storeError(ctx context.Context, op, what string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%s: %s: %w", op, what, cerr)
	}
	c.log.WithFields(logrus.Fields{"op": op, "step": what}).WithError(err).Warn("quota: Redis failed")
	return &psa.Error{Op: op, Kind: psa.ErrConnection,
		Message: "psasync could not reach its quota store (Redis) to " + what, Err: err}
}

// Available is how many requests the shared budget lets through at once
// right now (at most the burst), read without spending any: -1 when the
// config sets no rate budget. Status pages show it beside the budget.
func (c *Client) Available(ctx context.Context) (int, error) {
	if c.limiter == nil {
		return -1, nil
	}
	res, err := c.limiter.AllowN(ctx, c.cfg.Key, c.limit, 0)
	if err != nil {
		return 0, fmt.Errorf("quota: read the budget of %s: %w", c.name, err)
	}
	return res.Remaining, nil
}
