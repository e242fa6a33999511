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

// directory is the wrapped client's company directory, or an error saying
// it has none.
func (c *Client) directory(op string) (psa.CompanyDirectory, error) {
	d, ok := c.inner.(psa.CompanyDirectory)
	if !ok {
		return nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "this PSA client has no company directory"}
	}
	return d, nil
}

// ListCompanies asks the limiter (companies) once before the listing and
// then charges one unit for every further page the listing read
// (⌈companies/page size⌉ in all, WithPageSize). The further pages are
// charged after the fact: the requests are already made, so a budget that
// refuses them is logged, not returned, and the next calls wait for it.
func (c *Client) ListCompanies(ctx context.Context) ([]psa.Company, error) {
	const op = "quota: list companies"
	d, err := c.directory(op)
	if err != nil {
		return nil, err
	}
	release, err := c.admit(ctx, op, GroupCompanies)
	if err != nil {
		return nil, err
	}
	defer release()
	out, err := d.ListCompanies(ctx)
	extra := (len(out)+c.pageSize-1)/c.pageSize - 1
	if extra > 0 && c.limiter == nil {
		c.calls.Add(int64(extra))
	}
	if extra > 0 && c.limiter != nil {
		// One limiter call for every further page, however many.
		res, serr := c.limiter.AllowAtMost(ctx, c.cfg.Key, c.limit, extra)
		if serr == nil {
			c.calls.Add(int64(res.Allowed))
		}
		if serr != nil || res.Allowed < extra {
			c.log.WithFields(logrus.Fields{"op": op}).WithError(serr).Debug("quota: pages already read exceed the budget")
		}
	}
	return out, err
}

// ContactDomains asks the limiter (contacts-read, one request) and then the
// inner client. It is charged one unit however many contact pages it
// reads: the wrapper cannot see them, and it is an onboarding call made
// once per discovery, not per sync.
func (c *Client) ContactDomains(ctx context.Context, companyIDs []string) (map[string][]string, error) {
	const op = "quota: contact domains"
	d, err := c.directory(op)
	if err != nil {
		return nil, err
	}
	release, err := c.admit(ctx, op, GroupContactsRead)
	if err != nil {
		return nil, err
	}
	defer release()
	return d.ContactDomains(ctx, companyIDs)
}

// SetCompanyTenantID asks the limiter (companies) for two units, the read
// of the company and the write every vendor client makes, and then the
// inner client.
func (c *Client) SetCompanyTenantID(ctx context.Context, companyID, tenantID string) (psa.Company, error) {
	const op = "quota: set company tenant id"
	d, err := c.directory(op)
	if err != nil {
		return psa.Company{}, err
	}
	release, err := c.admit(ctx, op, GroupCompanies)
	if err != nil {
		return psa.Company{}, err
	}
	defer release()
	if err := c.spend(ctx, op); err != nil {
		return psa.Company{}, err
	}
	c.calls.Add(1)
	return d.SetCompanyTenantID(ctx, companyID, tenantID)
}
