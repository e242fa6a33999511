package connectwise

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// wireCompany is the part of Manage's Company the directory reads.
type wireCompany struct {
	ID           int           `json:"id"`
	Name         string        `json:"name"`
	Website      string        `json:"website"`
	DeletedFlag  bool          `json:"deletedFlag"`
	Status       *ref          `json:"status"`
	CustomFields []customField `json:"customFields"`
}

// companyFields is the fields parameter of a company read: what
// psa.Company holds, and identifier, which Manage's Company schema requires.
const companyFields = "id,identifier,name,website,deletedFlag,status/name,customFields"

// company converts a Manage company to psasync's neutral form. A deleted
// company, or one in the Inactive status, is inactive.
func (c *Client) company(w wireCompany) psa.Company {
	out := psa.Company{ID: strconv.Itoa(w.ID), Name: w.Name, Website: w.Website,
		TenantID: strings.TrimSpace(customValue(w.CustomFields, c.tenantField)),
		Inactive: w.DeletedFlag || (w.Status != nil && strings.EqualFold(w.Status.Name, "Inactive"))}
	if d := psa.WebsiteDomain(w.Website); d != "" {
		out.Domains = []string{d}
	}
	return out
}

// ListCompanies reads every company with GET /company/companies, asking
// only for the fields psa.Company holds, with forward-only paging (one read
// per page of Config.PageSize).
func (c *Client) ListCompanies(ctx context.Context) ([]psa.Company, error) {
	op := "connectwise: list companies"
	u := c.endpoint("/company/companies", url.Values{"fields": {companyFields}, "pageSize": {strconv.Itoa(c.pageSize)}})
	return psa.Collect(psa.ConvertSeq(listAll[wireCompany](ctx, c, op, u), c.company))
}

// ContactDomains reads contacts with only their id, company and
// communication items (fields=id,company/id,communicationItems) and
// gathers the domains of their email items. One company is read with
// conditions=company/id=N; several are one pass over all contacts, so the
// cost is the site's contact pages however many companies are asked for.
func (c *Client) ContactDomains(ctx context.Context, companyIDs []string) (map[string][]string, error) {
	op := "connectwise: contact domains"
	ids := make([]int, 0, len(companyIDs))
	for _, s := range companyIDs {
		n, err := parseID(op, "company id", s)
		if err != nil {
			return nil, err
		}
		ids = append(ids, n)
	}
	if len(ids) == 0 {
		return map[string][]string{}, nil
	}
	q := url.Values{"fields": {"id,company/id,communicationItems"}, "pageSize": {strconv.Itoa(c.pageSize)}}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) == 1 {
		q.Set("conditions", fmt.Sprintf("company/id=%d", ids[0]))
	}
	sets := psa.NewDomainSets(companyIDs)
	for w, err := range listAll[wireContact](ctx, c, op, c.endpoint("/company/contacts", q)) {
		if err != nil {
			return nil, err
		}
		if w.Company == nil {
			continue
		}
		for _, it := range w.CommunicationItems {
			if it.isEmail() {
				sets.Add(strconv.Itoa(w.Company.ID), it.Value)
			}
		}
	}
	return sets.Map(), nil
}

// SetCompanyTenantID writes tenantID into the tenant-id company custom
// field (Config.TenantIDFieldID). It reads the company, then sends
//
//	PATCH /company/companies/{id}
//	[{"op":"replace","path":"customFields","value":[...the company's custom fields, this one's value changed...]}]
//
// the form Manage documents for custom fields, which carries every custom
// field as read so that no other value changes. A company already holding
// tenantID is returned with no PATCH.
func (c *Client) SetCompanyTenantID(ctx context.Context, companyID, tenantID string) (psa.Company, error) {
	op := "connectwise: set tenant id of company " + companyID
	id, tenantID, err := psa.TenantArgs(op, companyID, tenantID, parseID)
	if err != nil {
		return psa.Company{}, err
	}
	if c.tenantField == 0 {
		return psa.Company{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: fmt.Errorf("no company custom field is configured for the tenant id (psa.connectwise.tenant_id_field)")}
	}
	path := c.endpoint("/company/companies/"+strconv.Itoa(id), nil)
	var cur wireCompany
	if _, err := c.do(ctx, request{op: op, method: http.MethodGet, url: path, out: &cur}); err != nil {
		return psa.Company{}, err
	}
	if !slices.ContainsFunc(cur.CustomFields, func(f customField) bool { return f.ID == c.tenantField }) {
		return psa.Company{}, &psa.Error{Op: op, Kind: psa.ErrInvalid,
			Err: fmt.Errorf("tenant_id_field %d is not a company custom field of this site (company %d lists no custom field with that id)", c.tenantField, id)}
	}
	fields, changed := mergeCustom(cur.CustomFields, map[int]string{c.tenantField: tenantID})
	if !changed {
		return c.company(cur), nil
	}
	var w wireCompany
	ops := []patchOp{{Op: "replace", Path: "customFields", Value: fields}}
	if _, err := c.do(ctx, request{op: op, method: http.MethodPatch, url: path, body: ops, out: &w}); err != nil {
		return psa.Company{}, err
	}
	return c.company(w), nil
}
