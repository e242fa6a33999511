package graph

import (
	"context"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/organization"

	"github.com/psasync/psasync/graph/directory"
)

// Organization reads the client's tenant's organization: GET /organization
// ($select=id,displayName,verifiedDomains), which holds exactly one object.
// It needs the application permission Organization.Read.All in that tenant
// (a 403 is a *directory.MissingPermissionError naming it). Call it on a
// customer's client (ForTenant) once the app has consent there.
func (c *Client) Organization(ctx context.Context) (directory.Organization, error) {
	const op = "graph: get organization"
	b := organization.NewOrganizationRequestBuilderInternal(map[string]string{"baseurl": c.cfg.BaseURL}, c.adapter)
	res, err := b.Get(ctx, &organization.OrganizationRequestBuilderGetRequestConfiguration{
		QueryParameters: &organization.OrganizationRequestBuilderGetQueryParameters{
			Select: []string{"id", "displayName", "verifiedDomains"},
		},
	})
	if err != nil {
		return directory.Organization{}, c.permissionError(op, directory.PermissionOrganizationRead, classify(ctx, op, err))
	}
	if res == nil || len(res.GetValue()) == 0 || res.GetValue()[0] == nil {
		return directory.Organization{}, &Error{Op: op, Kind: directory.ErrUnavailable, Message: "answer holds no organization"}
	}
	org := res.GetValue()[0]
	out := directory.Organization{
		TenantID:    strings.ToLower(deref(org.GetId())),
		DisplayName: deref(org.GetDisplayName()),
	}
	for _, d := range org.GetVerifiedDomains() {
		if d == nil || deref(d.GetName()) == "" {
			continue
		}
		dom := directory.Domain{Name: strings.ToLower(deref(d.GetName()))}
		if v := d.GetIsDefault(); v != nil {
			dom.IsDefault = *v
		}
		if v := d.GetIsInitial(); v != nil {
			dom.IsInitial = *v
		}
		out.VerifiedDomains = append(out.VerifiedDomains, dom)
	}
	return out, nil
}
