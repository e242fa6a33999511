package quota

import (
	"context"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/psa"
)

// GroupCompanies holds the company directory's company reads and writes
// (ListCompanies, SetCompanyTenantID): onboarding calls that take turns
// with each other, not with the sync's contact calls.
const GroupCompanies = "companies"

var _ psa.CompanyDirectory = (*Client)(nil)

// directed makes call on the wrapped client's company directory once admit
// let it through (see admitted); without a directory it is psa.ErrInvalid
// and asks no limiter.
func directed[T any](ctx context.Context, c *Client, op, group string, call func(psa.CompanyDirectory) (T, error)) (T, error) {
	d, ok := c.inner.(psa.CompanyDirectory)
	if !ok {
		var zero T
		return zero, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "this PSA client has no company directory"}
	}
	return admitted(ctx, c, op, group, func() (T, error) { return call(d) })
}

// ListCompanies asks the limiter (companies) once before the listing and
// then charges one unit for every further page the listing read
// (⌈companies/page size⌉ in all, WithPageSize). The further pages are
// charged after the fact: the requests are already made, so a budget that
// refuses them is logged, not returned, and the next calls wait for it.
func (c *Client) ListCompanies(ctx context.Context) ([]psa.Company, error) {
	const op = "quota: list companies"
	return directed(ctx, c, op, GroupCompanies, func(d psa.CompanyDirectory) ([]psa.Company, error) {
		out, err := d.ListCompanies(ctx)
		c.chargeFurtherPages(ctx, op, (len(out)+c.pageSize-1)/c.pageSize-1)
		return out, err
	})
}

// chargeFurtherPages charges the budget for extra pages already read, in
// one limiter call however many; a budget that refuses them is logged.
func (c *Client) chargeFurtherPages(ctx context.Context, op string, extra int) {
	if extra <= 0 {
		return
	}
	if c.limiter == nil {
		c.calls.Add(int64(extra))
		return
	}
	res, err := c.limiter.AllowAtMost(ctx, c.cfg.Key, c.limit, extra)
	if err == nil {
		c.calls.Add(int64(res.Allowed))
	}
	if err != nil || res.Allowed < extra {
		c.log.WithFields(logrus.Fields{"op": op}).WithError(err).Debug("quota: pages already read exceed the budget")
	}
}

// ContactDomains asks the limiter (contacts-read, one request) and then the
// inner client. It is charged one unit however many contact pages it
// reads: the wrapper cannot see them, and it is an onboarding call made
// once per discovery, not per sync.
func (c *Client) ContactDomains(ctx context.Context, companyIDs []string) (map[string][]string, error) {
	return directed(ctx, c, "quota: contact domains", GroupContactsRead, func(d psa.CompanyDirectory) (map[string][]string, error) {
		return d.ContactDomains(ctx, companyIDs)
	})
}

// SetCompanyTenantID asks the limiter (companies) for two units, the read
// of the company and the write every vendor client makes, and then the
// inner client.
func (c *Client) SetCompanyTenantID(ctx context.Context, companyID, tenantID string) (psa.Company, error) {
	const op = "quota: set company tenant id"
	return directed(ctx, c, op, GroupCompanies, func(d psa.CompanyDirectory) (psa.Company, error) {
		if err := c.spend(ctx, op); err != nil {
			return psa.Company{}, err
		}
		c.calls.Add(1)
		return d.SetCompanyTenantID(ctx, companyID, tenantID)
	})
}
