package halopsa

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psasync/psasync/psa"
)

// haloClient is the part of Halo's Client (Area) object the directory reads.
type haloClient struct {
	ID           int           `json:"id"`
	Name         string        `json:"name"`
	Inactive     bool          `json:"inactive"`
	Website      string        `json:"website"`
	AzureTenants []azureTenant `json:"azure_tenants"`
}

// azureTenant is Halo's AreaAzureTenant: an Azure tenant linked to a client.
type azureTenant struct {
	AzureTenantID string `json:"azure_tenant_id"`
}

// clientPage is the envelope of GET /api/Client with pageinate=true.
type clientPage struct {
	RecordCount *int         `json:"record_count"`
	Clients     []haloClient `json:"clients"`
}

// company converts a Halo client to psasync's neutral form; its tenant id
// is the first of its Azure tenants.
func (c *Client) company(h haloClient) psa.Company {
	out := psa.Company{ID: strconv.Itoa(h.ID), Name: h.Name, Website: h.Website, Inactive: h.Inactive}
	if d := psa.WebsiteDomain(h.Website); d != "" {
		out.Domains = []string{d}
	}
	for _, t := range h.AzureTenants {
		if id := strings.TrimSpace(t.AzureTenantID); id != "" {
			out.TenantID = id
			break
		}
	}
	return out
}

// ListCompanies reads every client, active and inactive, with their Azure
// tenants: GET /api/Client?pageinate=true&page_size=N&page_no=k
// &includeinactive=true&includeazuretenants=true, ⌈clients/N⌉ reads.
func (c *Client) ListCompanies(ctx context.Context) ([]psa.Company, error) {
	const op = "halopsa: list companies"
	q := url.Values{"includeinactive": {"true"}, "includeazuretenants": {"true"}}
	var out []psa.Company
	for page, err := range pages(ctx, c, op, "/Client", q, func(p clientPage) ([]haloClient, *int) { return p.Clients, p.RecordCount }) {
		if err != nil {
			return nil, err
		}
		for _, h := range page {
			out = append(out, c.company(h))
		}
	}
	return out, nil
}

// ContactDomains reads users page by page (GET /api/Users, inactive users
// included) and gathers the domains of their email addresses. One client
// is read with client_id; several are one pass over every user, since Halo
// filters users by one client at a time.
func (c *Client) ContactDomains(ctx context.Context, companyIDs []string) (map[string][]string, error) {
	const op = "halopsa: contact domains"
	distinct := map[int]bool{}
	for _, s := range companyIDs {
		n, err := parseID(op, "company id", s)
		if err != nil {
			return nil, err
		}
		distinct[n] = true
	}
	if len(distinct) == 0 {
		return map[string][]string{}, nil
	}
	q := url.Values{"includeinactive": {"true"}}
	if len(distinct) == 1 {
		for id := range distinct {
			q.Set("client_id", strconv.Itoa(id))
		}
	}
	sets := psa.NewDomainSets(companyIDs)
	for users, err := range c.userPages(ctx, op, q) {
		if err != nil {
			return nil, err
		}
		for _, u := range users {
			sets.Add(strconv.Itoa(u.ClientID), u.EmailAddress)
		}
	}
	return sets.Map(), nil
}

// SetCompanyTenantID makes tenantID the client's Azure tenant: it reads the
// client (GET /api/Client/{id}?includedetails=true, so an unknown id is
// psa.ErrNotFound before anything is written) and sends
//
//	POST /api/Client [{"id":N,"azure_tenants":[{"azure_tenant_id":"<tenant id>"}]}]
//
// which replaces the client's Azure tenants with that one: the field holds
// one customer tenant per client, as psasync maps them. A client already
// holding only tenantID is returned with no write.
func (c *Client) SetCompanyTenantID(ctx context.Context, companyID, tenantID string) (psa.Company, error) {
	op := "halopsa: set tenant id of company " + companyID
	id, tenantID, err := psa.TenantArgs(op, companyID, tenantID, parseID)
	if err != nil {
		return psa.Company{}, err
	}
	var cur haloClient
	if err := c.do(ctx, op, http.MethodGet, "/Client/"+strconv.Itoa(id), url.Values{"includedetails": {"true"}}, nil, &cur); err != nil {
		return psa.Company{}, err
	}
	if len(cur.AzureTenants) == 1 && strings.EqualFold(strings.TrimSpace(cur.AzureTenants[0].AzureTenantID), tenantID) {
		return c.company(cur), nil
	}
	body := []map[string]any{{"id": id, "azure_tenants": []azureTenant{{AzureTenantID: tenantID}}}}
	var saved savedClients
	if err := c.do(ctx, op, http.MethodPost, "/Client", nil, body, &saved); err != nil {
		return psa.Company{}, err
	}
	if len(saved) != 1 || saved[0].ID != id {
		return psa.Company{}, &psa.Error{Op: op, Kind: psa.ErrInvalid, StatusCode: http.StatusOK,
			Message: fmt.Sprintf("Halo answered the save of client %d with %d clients", id, len(saved))}
	}
	return c.company(saved[0]), nil
}

// savedClients is the answer to POST /api/Client: the saved client, or an
// array of them.
type savedClients []haloClient

// UnmarshalJSON accepts one client object or an array.
func (s *savedClients) UnmarshalJSON(b []byte) error {
	return oneOrMany(b, (*[]haloClient)(s))
}
