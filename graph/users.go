package graph

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/psasync/psasync/graph/directory"
)

// ListUsers iterates over every user of the tenant, page by page
// ($select=directory.SelectProperties, $top=page size, 999 by default),
// following @odata.nextLink. It yields one error and stops on a failed page
// or when the listing runs past the max-pages guard; breaking out early
// stops reading. Pages are decoded lean (see pages.go).
func (c *Client) ListUsers(ctx context.Context) iter.Seq2[directory.User, error] {
	return func(yield func(directory.User, error) bool) {
		const op = "graph: list users"
		top := int32(c.opts.pageSize)
		info, err := c.users().ToGetRequestInformation(ctx, &users.UsersRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UsersRequestBuilderGetQueryParameters{Select: directory.SelectProperties, Top: &top},
		})
		for pages := 1; ; pages++ {
			if err != nil {
				yield(directory.User{}, classify(ctx, op, err))
				return
			}
			page, perr := c.getPage(ctx, op, info)
			if perr != nil {
				yield(directory.User{}, perr)
				return
			}
			for _, w := range page.Value {
				if !yield(w.user(), nil) {
					return
				}
			}
			if page.NextLink == "" {
				c.log.WithField("pages", pages).Debug("graph: listed users")
				return
			}
			if pages >= c.opts.maxPages {
				yield(directory.User{}, fmt.Errorf("%s: still more pages after %d; stopping (max pages guard)", op, pages))
				return
			}
			if err := c.checkLink(page.NextLink); err != nil {
				yield(directory.User{}, fmt.Errorf("%s: %w", op, err))
				return
			}
			info, err = c.users().WithUrl(page.NextLink).ToGetRequestInformation(ctx, nil)
		}
	}
}

// LatestDeltaLink asks Graph for a delta link that starts now, without
// enumerating anyone: GET /users/delta?$deltatoken=latest (with the same
// $select as every delta round). A full run takes it first and then lists
// the users in pages of 999, so no change between the two is lost and the
// run costs a tenth of the requests of a delta enumeration (pages of 100).
func (c *Client) LatestDeltaLink(ctx context.Context) (string, error) {
	const op = "graph: latest delta link"
	q := url.Values{"$deltatoken": {"latest"}, "$select": {strings.Join(directory.SelectProperties, ",")}}
	info, err := c.users().Delta().WithUrl(c.cfg.BaseURL+"/users/delta?"+q.Encode()).ToGetRequestInformation(ctx, nil)
	if err != nil {
		return "", classify(ctx, op, err)
	}
	page, err := c.getPage(ctx, op, info)
	if err != nil {
		return "", err
	}
	if page.DeltaLink == "" {
		return "", &Error{Op: op, Kind: directory.ErrUnavailable, Message: "answer has no @odata.deltaLink"}
	}
	if err := c.checkLink(page.DeltaLink); err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	return page.DeltaLink, nil
}

// GetUser reads one user by object id or userPrincipalName, with the same
// $select as ListUsers. A missing user gives directory.ErrNotFound. With
// WithBatch the read shares a $batch with other reads of this client.
func (c *Client) GetUser(ctx context.Context, id string) (directory.User, error) {
	op := "graph: get user " + id
	if id == "" {
		return directory.User{}, &Error{Op: op, Kind: ErrRequest, Message: "empty user id"}
	}
	if c.batch != nil {
		return c.batch.getUser(ctx, id)
	}
	u, err := c.users().ByUserId(id).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: directory.SelectProperties},
	})
	if err != nil {
		return directory.User{}, classify(ctx, op, err)
	}
	if u == nil {
		return directory.User{}, &Error{Op: op, Kind: directory.ErrUnavailable, Message: "empty response"}
	}
	return mapUser(u), nil
}

// checkLink refuses a next or delta link that leaves the configured Graph
// host: the token would not be sent there anyway, and it must not be.
func (c *Client) checkLink(link string) error {
	if len(link) < len(c.origin)+1 || link[:len(c.origin)] != c.origin || link[len(c.origin)] != '/' {
		return fmt.Errorf("link %q is not on %s", link, c.origin)
	}
	return nil
}

// mapUser copies the SDK user into the plain model.
func mapUser(u models.Userable) directory.User {
	out := directory.User{
		ID:                deref(u.GetId()),
		UserPrincipalName: deref(u.GetUserPrincipalName()),
		DisplayName:       deref(u.GetDisplayName()),
		GivenName:         deref(u.GetGivenName()),
		Surname:           deref(u.GetSurname()),
		Mail:              deref(u.GetMail()),
		ProxyAddresses:    u.GetProxyAddresses(),
		JobTitle:          deref(u.GetJobTitle()),
		Department:        deref(u.GetDepartment()),
		OfficeLocation:    deref(u.GetOfficeLocation()),
		CompanyName:       deref(u.GetCompanyName()),
		BusinessPhones:    u.GetBusinessPhones(),
		MobilePhone:       deref(u.GetMobilePhone()),
		UserType:          deref(u.GetUserType()),
		EmployeeID:        deref(u.GetEmployeeId()),
		City:              deref(u.GetCity()),
		Country:           deref(u.GetCountry()),
	}
	if v := u.GetAccountEnabled(); v != nil {
		out.AccountEnabled = directory.Bool(*v)
	}
	for _, l := range u.GetAssignedLicenses() {
		if l == nil || l.GetSkuId() == nil {
			continue
		}
		out.AssignedLicenses = append(out.AssignedLicenses, l.GetSkuId().String())
	}
	if len(out.ProxyAddresses) == 0 {
		out.ProxyAddresses = nil
	}
	if len(out.BusinessPhones) == 0 {
		out.BusinessPhones = nil
	}
	if removed, ok := u.GetAdditionalData()["@removed"]; ok {
		out.Removed = &directory.Removed{Reason: removedReason(removed)}
	}
	return out
}

// removedReason reads the reason of an @removed annotation, whichever form
// the JSON parser left it in.
func removedReason(v any) string {
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	switch r := m["reason"].(type) {
	case string:
		return r
	case *string:
		return deref(r)
	}
	return ""
}

// enabledFilter selects the users the report counts as active.
const enabledFilter = "accountEnabled eq true"

// CountEnabledUsers counts the tenant's enabled users in one request:
// GET /users/$count?$filter=accountEnabled eq true. $count is an advanced
// query, so Graph wants the ConsistencyLevel: eventual header, and the
// count may trail a change by a few seconds.
func (c *Client) CountEnabledUsers(ctx context.Context) (int, error) {
	const op = "graph: count enabled users"
	h := abs.NewRequestHeaders()
	h.Add("ConsistencyLevel", "eventual")
	filter := enabledFilter
	n, err := c.users().Count().Get(ctx, &users.CountRequestBuilderGetRequestConfiguration{
		Headers:         h,
		QueryParameters: &users.CountRequestBuilderGetQueryParameters{Filter: &filter},
	})
	if err != nil {
		return 0, classify(ctx, op, err)
	}
	if n == nil {
		return 0, &Error{Op: op, Kind: directory.ErrUnavailable, Message: "empty response"}
	}
	return int(*n), nil
}
