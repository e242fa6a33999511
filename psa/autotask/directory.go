package autotask

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// maxInValues is how many company ids one contact query's "in" filter
// carries; more companies are read in that many ids per query.
const maxInValues = 500

// neutralCompany converts an Autotask company to psasync's neutral form,
// the tenant id read from the configured company UDF.
func (c *Client) neutralCompany(w wireCompany) psa.Company {
	out := psa.Company{ID: strconv.FormatInt(w.ID, 10), Name: w.CompanyName, Inactive: !bool(w.IsActive)}
	if w.WebAddress != nil {
		out.Website = *w.WebAddress
	}
	if d := psa.WebsiteDomain(out.Website); d != "" {
		out.Domains = []string{d}
	}
	if c.cfg.TenantIDUDF != "" {
		for _, u := range w.UDFs {
			if strings.EqualFold(u.Name, c.cfg.TenantIDUDF) && u.Value != nil {
				out.TenantID = strings.TrimSpace(*u.Value)
			}
		}
	}
	return out
}

// companyIncludeFields are the company fields a directory read asks for.
func (c *Client) companyIncludeFields() []string {
	fields := []string{"id", "companyName", "webAddress", "isActive"}
	if c.cfg.TenantIDUDF != "" {
		fields = append(fields, c.cfg.TenantIDUDF)
	}
	return fields
}

// ListCompanies reads every company with POST Companies/query
// ({"op":"gte","field":"id","value":0}), asking only for id, companyName,
// webAddress, isActive and the tenant-id UDF: ⌈companies/PageSize⌉ reads.
func (c *Client) ListCompanies(ctx context.Context) ([]psa.Company, error) {
	op := "autotask: list companies"
	body := queryBody{MaxRecords: c.cfg.PageSize, IncludeFields: c.companyIncludeFields(),
		Filter: []filter{{Op: "gte", Field: "id", Value: 0}}}
	return psa.Collect(psa.ConvertSeq(query[wireCompany](ctx, c, op, "Companies", body), c.neutralCompany))
}

// ContactDomains reads the companies' contacts with POST Contacts/query
// filtered {"op":"in","field":"companyID","value":[ids]} (up to 500 ids a
// query), asking only for companyID and the three email addresses, and
// gathers their domains.
func (c *Client) ContactDomains(ctx context.Context, companyIDs []string) (map[string][]string, error) {
	op := "autotask: contact domains"
	ids := make([]int64, 0, len(companyIDs))
	for _, s := range companyIDs {
		n, err := parseID(op, "company id", s)
		if err != nil {
			return nil, err
		}
		ids = append(ids, n)
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	sets := psa.NewDomainSets(companyIDs)
	for chunk := range slices.Chunk(ids, maxInValues) {
		body := queryBody{MaxRecords: c.cfg.PageSize,
			IncludeFields: []string{"id", "companyID", "emailAddress", "emailAddress2", "emailAddress3"},
			Filter:        []filter{{Op: "in", Field: "companyID", Value: chunk}}}
		for w, err := range query[wireContact](ctx, c, op, "Contacts", body) {
			if err != nil {
				return nil, err
			}
			company := strconv.FormatInt(w.CompanyID, 10)
			for _, e := range []string{w.EmailAddress, w.EmailAddress2, w.EmailAddress3} {
				sets.Add(company, e)
			}
		}
	}
	return sets.Map(), nil
}

// SetCompanyTenantID writes tenantID into the tenant-id company UDF
// (Config.TenantIDUDF): it reads the company (GET Companies/{id}, so that an
// unknown id is psa.ErrNotFound before anything is written), then sends
//
//	PATCH Companies {"id":N,"userDefinedFields":[{"name":"<udf>","value":"<tenant id>"}]}
//
// which changes that UDF only. A company already holding tenantID is
// returned with no PATCH.
func (c *Client) SetCompanyTenantID(ctx context.Context, companyID, tenantID string) (psa.Company, error) {
	op := "autotask: set tenant id of company " + companyID
	id, tenantID, err := psa.TenantArgs(op, companyID, tenantID, parseID)
	if err != nil {
		return psa.Company{}, err
	}
	if c.cfg.TenantIDUDF == "" {
		return psa.Company{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "no company UDF is configured for the tenant id (psa.autotask.tenant_id_udf)"}
	}
	w, err := getItem[wireCompany](ctx, c, op, "Companies", id)
	if err != nil {
		return psa.Company{}, err
	}
	cur := c.neutralCompany(w)
	if !slices.ContainsFunc(w.UDFs, func(u wireUDF) bool { return strings.EqualFold(u.Name, c.cfg.TenantIDUDF) }) {
		return psa.Company{}, &psa.Error{Op: op, Kind: psa.ErrInvalid,
			Message: fmt.Sprintf("tenant_id_udf %q is not a company UDF of this database (company %d lists no such user-defined field)", c.cfg.TenantIDUDF, id)}
	}
	if cur.TenantID == tenantID {
		return cur, nil
	}
	pu, err := c.endpoint(ctx, "V1.0/Companies")
	if err != nil {
		return psa.Company{}, err
	}
	body := map[string]any{"id": id, "userDefinedFields": []wireUDF{{Name: c.cfg.TenantIDUDF, Value: &tenantID}}}
	var res struct {
		ItemID int64 `json:"itemId"`
	}
	if err := c.do(ctx, op, http.MethodPatch, pu, body, &res); err != nil {
		return psa.Company{}, err
	}
	if res.ItemID != id {
		return psa.Company{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: http.StatusOK,
			Message: fmt.Sprintf("Autotask answered itemId %d for company %d", res.ItemID, id)}
	}
	cur.TenantID = tenantID
	return cur, nil
}
