package graph

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/contracts"
	"github.com/microsoftgraph/msgraph-sdk-go/tenantrelationships"

	"github.com/psasync/psasync/graph/directory"
)

// Discovery of an MSP's customers, read with the client of the MSP's own
// (partner) tenant:
//
//   - GET /tenantRelationships/delegatedAdminCustomers lists the customers
//     with a GDAP relationship (application permission
//     DelegatedAdminRelationship.Read.All; $top at most 300).
//   - GET /contracts lists the legacy DAP/CSP partnerships (application
//     permission Directory.Read.All). A contract's displayName and
//     defaultDomainName are copies made when the partnership started and
//     are never updated, so they may be stale.
//
// Pages follow @odata.nextLink, throttling goes through the client's
// transport, and a 403 becomes a *directory.MissingPermissionError naming the
// permission to grant.

// Page sizes of the partner listings: the largest each endpoint accepts.
const (
	delegatedAdminCustomersTop = 300
	contractsTop               = 999
)

// wirePage is one page of a Graph collection.
type wirePage[T any] struct {
	Value    []T    `json:"value"`
	NextLink string `json:"@odata.nextLink"`
}

// wireDelegatedAdminCustomer is a delegatedAdminCustomer as Graph sends it.
type wireDelegatedAdminCustomer struct {
	ID          string `json:"id"`
	TenantID    string `json:"tenantId"`
	DisplayName string `json:"displayName"`
}

// wireContract is a contract as Graph sends it.
type wireContract struct {
	ID                string `json:"id"`
	CustomerID        string `json:"customerId"`
	DisplayName       string `json:"displayName"`
	DefaultDomainName string `json:"defaultDomainName"`
	ContractType      string `json:"contractType"`
}

// DiscoverCustomers lists the partner tenant's customers from both GDAP
// relationships and contracts, merged by tenant id and sorted by it. A
// customer with a GDAP relationship keeps its current Entra display name
// from there; a contract adds its (possibly stale) name and default domain.
// Either listing failing fails the discovery: a missing permission is a
// *directory.MissingPermissionError naming it.
func (c *Client) DiscoverCustomers(ctx context.Context) ([]directory.Customer, error) {
	gdap, err := c.ListDelegatedAdminCustomers(ctx)
	if err != nil {
		return nil, err
	}
	contracted, err := c.ListContracts(ctx)
	if err != nil {
		return nil, err
	}
	return MergeCustomers(gdap, contracted), nil
}

// MergeCustomers merges GDAP and contract customers by tenant id (sorted by
// it): GDAP's entry wins and takes the contract's name and domain as
// ContractDisplayName/ContractDefaultDomain.
func MergeCustomers(gdap, contracted []directory.Customer) []directory.Customer {
	byID := make(map[string]directory.Customer, len(gdap)+len(contracted))
	for _, cu := range gdap {
		byID[cu.TenantID] = cu
	}
	for _, ct := range contracted {
		cu, ok := byID[ct.TenantID]
		if !ok {
			byID[ct.TenantID] = ct
			continue
		}
		cu.HasContract = true
		cu.ContractDisplayName, cu.ContractDefaultDomain = ct.ContractDisplayName, ct.ContractDefaultDomain
		byID[ct.TenantID] = cu
	}
	out := make([]directory.Customer, 0, len(byID))
	for _, cu := range byID {
		out = append(out, cu)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].TenantID < out[j].TenantID })
	return out
}

// ListDelegatedAdminCustomers lists the customers the partner tenant has a
// GDAP relationship with ($top=300, following @odata.nextLink). A customer
// listed twice (it should not be) appears once.
func (c *Client) ListDelegatedAdminCustomers(ctx context.Context) ([]directory.Customer, error) {
	const op = "graph: list delegatedAdminCustomers"
	b := tenantrelationships.NewDelegatedAdminCustomersRequestBuilderInternal(map[string]string{"baseurl": c.cfg.BaseURL}, c.adapter)
	top := int32(delegatedAdminCustomersTop)
	info, err := b.ToGetRequestInformation(ctx, &tenantrelationships.DelegatedAdminCustomersRequestBuilderGetRequestConfiguration{
		QueryParameters: &tenantrelationships.DelegatedAdminCustomersRequestBuilderGetQueryParameters{
			Top: &top, Select: []string{"id", "tenantId", "displayName"},
		},
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	next := func(link string) (*abs.RequestInformation, error) {
		return tenantrelationships.NewDelegatedAdminCustomersRequestBuilder(link, c.adapter).ToGetRequestInformation(ctx, nil)
	}
	rows, err := listPages[wireDelegatedAdminCustomer](ctx, c, op, directory.PermissionDelegatedAdminRelationship, info, next)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(rows))
	out := make([]directory.Customer, 0, len(rows))
	for _, r := range rows {
		id := strings.ToLower(strings.TrimSpace(r.TenantID))
		if id == "" {
			id = strings.ToLower(strings.TrimSpace(r.ID))
		}
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, directory.Customer{TenantID: id, DisplayName: r.DisplayName, Source: directory.SourceGDAP})
	}
	return out, nil
}

// ListContracts lists the partner tenant's DAP/CSP contracts as customers
// ($top=999, following @odata.nextLink). Their names and domains are the
// copies made when each partnership started (see directory.Customer).
func (c *Client) ListContracts(ctx context.Context) ([]directory.Customer, error) {
	const op = "graph: list contracts"
	b := contracts.NewContractsRequestBuilderInternal(map[string]string{"baseurl": c.cfg.BaseURL}, c.adapter)
	top := int32(contractsTop)
	info, err := b.ToGetRequestInformation(ctx, &contracts.ContractsRequestBuilderGetRequestConfiguration{
		QueryParameters: &contracts.ContractsRequestBuilderGetQueryParameters{
			Top: &top, Select: []string{"id", "customerId", "displayName", "defaultDomainName", "contractType"},
		},
	})
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	next := func(link string) (*abs.RequestInformation, error) {
		return contracts.NewContractsRequestBuilder(link, c.adapter).ToGetRequestInformation(ctx, nil)
	}
	rows, err := listPages[wireContract](ctx, c, op, directory.PermissionDirectoryRead, info, next)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(rows))
	out := make([]directory.Customer, 0, len(rows))
	for _, r := range rows {
		id := strings.ToLower(strings.TrimSpace(r.CustomerID))
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, directory.Customer{
			TenantID: id, DisplayName: r.DisplayName, Source: directory.SourceContract, HasContract: true,
			ContractDisplayName: r.DisplayName, ContractDefaultDomain: strings.ToLower(r.DefaultDomainName),
		})
	}
	return out, nil
}

// listPages reads every page of a collection, following @odata.nextLink
// within the max-pages guard; a 403 names permission.
func listPages[T any](ctx context.Context, c *Client, op, permission string, info *abs.RequestInformation,
	next func(link string) (*abs.RequestInformation, error)) ([]T, error) {
	var out []T
	for pages := 1; ; pages++ {
		var page wirePage[T]
		if err := c.getJSON(ctx, op, permission, info, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Value...)
		if page.NextLink == "" {
			c.log.WithField("pages", pages).WithField("items", len(out)).Debug(op)
			return out, nil
		}
		if pages >= c.opts.maxPages {
			return nil, fmt.Errorf("%s: still more pages after %d; stopping (max pages guard)", op, pages)
		}
		if err := c.checkLink(page.NextLink); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		var err error
		if info, err = next(page.NextLink); err != nil {
			return nil, classify(ctx, op, err)
		}
	}
}

// getJSON sends one prepared GET through the SDK's adapter and decodes the
// body into v; a 403 becomes a *directory.MissingPermissionError naming
// permission.
func (c *Client) getJSON(ctx context.Context, op, permission string, info *abs.RequestInformation, v any) error {
	return c.permissionError(op, permission, c.sendJSON(ctx, op, info, v))
}

// permissionError turns Graph's 403 into a *directory.MissingPermissionError
// naming permission; other errors pass unchanged.
func (c *Client) permissionError(op, permission string, err error) error {
	var ge *Error
	if errors.As(err, &ge) && ge.StatusCode == http.StatusForbidden && !strings.HasSuffix(ge.Op, "(token)") {
		return &directory.MissingPermissionError{Op: op, TenantID: c.cfg.TenantID, Permission: permission, Err: err}
	}
	return err
}

// ForTenant returns a client for another tenant with the same app
// credentials, hosts and options: the multi-tenant app reading a customer
// tenant. It makes no request.
func (c *Client) ForTenant(ctx context.Context, tenantID string) (*Client, error) {
	cfg := c.cfg
	cfg.TenantID = tenantID
	o := c.opts
	return New(ctx, cfg, func(dst *options) { *dst = o })
}
