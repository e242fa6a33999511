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
	page := func(link string) (*abs.RequestInformation, error) {
		if link != "" {
			return tenantrelationships.NewDelegatedAdminCustomersRequestBuilder(link, c.adapter).ToGetRequestInformation(ctx, nil)
		}
		b := tenantrelationships.NewDelegatedAdminCustomersRequestBuilderInternal(map[string]string{"baseurl": c.cfg.BaseURL}, c.adapter)
		top := int32(delegatedAdminCustomersTop)
		return b.ToGetRequestInformation(ctx, &tenantrelationships.DelegatedAdminCustomersRequestBuilderGetRequestConfiguration{
			QueryParameters: &tenantrelationships.DelegatedAdminCustomersRequestBuilderGetQueryParameters{
				Top: &top, Select: []string{"id", "tenantId", "displayName"},
			},
		})
	}
	rows, err := listPages[wireDelegatedAdminCustomer](ctx, c, op, directory.PermissionDelegatedAdminRelationship, page)
	if err != nil {
		return nil, err
	}
	return uniqueCustomers(rows, func(r wireDelegatedAdminCustomer) directory.Customer {
		id := listedTenantID(r.TenantID)
		if id == "" {
			id = listedTenantID(r.ID)
		}
		return directory.Customer{TenantID: id, DisplayName: r.DisplayName, Source: directory.SourceGDAP}
	}), nil
}

// ListContracts lists the partner tenant's DAP/CSP contracts as customers
// ($top=999, following @odata.nextLink). Their names and domains are the
// copies made when each partnership started (see directory.Customer).
func (c *Client) ListContracts(ctx context.Context) ([]directory.Customer, error) {
	const op = "graph: list contracts"
	page := func(link string) (*abs.RequestInformation, error) {
		if link != "" {
			return contracts.NewContractsRequestBuilder(link, c.adapter).ToGetRequestInformation(ctx, nil)
		}
		b := contracts.NewContractsRequestBuilderInternal(map[string]string{"baseurl": c.cfg.BaseURL}, c.adapter)
		top := int32(contractsTop)
		return b.ToGetRequestInformation(ctx, &contracts.ContractsRequestBuilderGetRequestConfiguration{
			QueryParameters: &contracts.ContractsRequestBuilderGetQueryParameters{
				Top: &top, Select: []string{"id", "customerId", "displayName", "defaultDomainName", "contractType"},
			},
		})
	}
	rows, err := listPages[wireContract](ctx, c, op, directory.PermissionDirectoryRead, page)
	if err != nil {
		return nil, err
	}
	return uniqueCustomers(rows, func(r wireContract) directory.Customer {
		return directory.Customer{
			TenantID: listedTenantID(r.CustomerID), DisplayName: r.DisplayName, Source: directory.SourceContract, HasContract: true,
			ContractDisplayName: r.DisplayName, ContractDefaultDomain: strings.ToLower(r.DefaultDomainName),
		}
	}), nil
}

// listedTenantID is a listed tenant id in the form customers carry (trimmed,
// lower case).
func listedTenantID(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// uniqueCustomers turns a listing's rows into customers, each tenant id
// once: a row without one, or repeating one, is dropped.
func uniqueCustomers[T any](rows []T, customer func(T) directory.Customer) []directory.Customer {
	seen := make(map[string]bool, len(rows))
	out := make([]directory.Customer, 0, len(rows))
	for _, r := range rows {
		cu := customer(r)
		if cu.TenantID == "" || seen[cu.TenantID] {
			continue
		}
		seen[cu.TenantID] = true
		out = append(out, cu)
	}
	return out
}

// listPages reads every page of a collection: page("") is the request of
// the first, page(link) that of each @odata.nextLink, followed within the
// max-pages guard; a 403 names permission.
func listPages[T any](ctx context.Context, c *Client, op, permission string,
	page func(link string) (*abs.RequestInformation, error)) ([]T, error) {
	info, err := page("")
	if err != nil {
		return nil, classify(ctx, op, err)
	}
	var out []T
	for pages := 1; ; pages++ {
		var p wirePage[T]
		if err := c.getJSON(ctx, op, permission, info, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Value...)
		if p.NextLink == "" {
			c.log.WithField("pages", pages).WithField("items", len(out)).Debug(op)
			return out, nil
		}
		if pages >= c.opts.maxPages {
			return nil, fmt.Errorf("%s: still more pages after %d; stopping (max pages guard)", op, pages)
		}
		if err := c.checkLink(p.NextLink); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		if info, err = page(p.NextLink); err != nil {
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
