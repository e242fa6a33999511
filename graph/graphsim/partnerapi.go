package graphsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// Page size limits of the partner endpoints, as Microsoft documents them.
const (
	// MaxDelegatedAdminCustomersTop is the largest $top of
	// delegatedAdminCustomers.
	MaxDelegatedAdminCustomersTop = 300
	// MaxContractsTop is the largest $top of contracts (a directory
	// object collection).
	MaxContractsTop = 999
)

// partnerRoutes registers the onboarding endpoints and their /_sim controls.
func (s *Sim) partnerRoutes(m *http.ServeMux) {
	m.HandleFunc("GET /v1.0/tenantRelationships/delegatedAdminCustomers", s.serveCollection(collection{
		resource: "tenantRelationships/delegatedAdminCustomers", context: "/tenantRelationships/$metadata#delegatedAdminCustomers",
		maxTop: MaxDelegatedAdminCustomersTop, perms: []string{PermDelegatedAdminRelationshipRead, "DelegatedAdminRelationship.ReadWrite.All"},
		items: s.delegatedAdminCustomersLocked,
	}))
	m.HandleFunc("GET /v1.0/contracts", s.serveCollection(collection{
		resource: "contracts", context: "/$metadata#contracts", maxTop: MaxContractsTop,
		perms: []string{PermDirectoryRead, "Directory.ReadWrite.All"},
		items: s.contractsLocked,
	}))
	m.HandleFunc("GET /v1.0/organization", s.serveCollection(collection{
		resource: "organization", context: "/$metadata#organization", maxTop: 999,
		perms: []string{PermOrganizationRead, PermDirectoryRead, "Organization.ReadWrite.All", "Directory.ReadWrite.All"},
		items: s.organizationLocked,
	}))
	m.HandleFunc("GET /_sim/customers", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, nil, http.StatusOK, map[string]any{"value": s.Customers()})
	})
	m.HandleFunc("POST /_sim/customers", func(w http.ResponseWriter, r *http.Request) {
		var c Customer
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, simkit.MaxBody)).Decode(&c); err != nil {
			s.simResult(w, errors.Join(ErrInvalid, err), 0, nil)
			return
		}
		s.simResult(w, s.AddCustomer(c), http.StatusCreated, c)
	})
	m.HandleFunc("POST /_sim/tenants/{tenant}/revoke-permission", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, s.RevokePermission(r.PathValue("tenant"), r.URL.Query().Get("permission")), http.StatusNoContent, nil)
	})
	m.HandleFunc("POST /_sim/tenants/{tenant}/grant-permission", func(w http.ResponseWriter, r *http.Request) {
		s.simResult(w, s.GrantPermission(r.PathValue("tenant"), r.URL.Query().Get("permission")), http.StatusNoContent, nil)
	})
}

// allowed answers 403 Authorization_RequestDenied unless the tenant's app
// holds one of the permissions.
func (s *Sim) allowed(w http.ResponseWriter, r *http.Request, t *tenant, perms ...string) bool {
	s.mu.Lock()
	org := t.orgLocked()
	ok := false
	for _, p := range perms {
		ok = ok || org.granted[p]
	}
	s.mu.Unlock()
	if !ok {
		writeGraphError(w, r, http.StatusForbidden, "Authorization_RequestDenied", "Insufficient privileges to complete the operation.")
	}
	return ok
}

// collection is one of the read-only collections a partner app reads while
// onboarding: the permissions it needs and how its items are built.
type collection struct {
	// resource names the collection in errors and skip tokens; context is
	// its @odata.context below the service root.
	resource, context string
	// maxTop is the largest $top it takes.
	maxTop int
	// perms are the permissions of which the app needs one.
	perms []string
	// items builds the whole collection for the token's tenant; it is
	// called with mu held.
	items func(t *tenant) []map[string]any
}

// serveCollection answers GET on c: authentication, c's permissions, then
// one page of its items.
func (s *Sim) serveCollection(c collection) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		t, _, ok := s.authenticate(w, r)
		if !ok || !s.allowed(w, r, t, c.perms...) {
			return
		}
		s.mu.Lock()
		items := c.items(t)
		s.mu.Unlock()
		s.writeCollection(w, r, t, c.resource, c.context, items, c.maxTop)
	}
}

// delegatedAdminCustomersLocked is GET
// /v1.0/tenantRelationships/delegatedAdminCustomers: the partner's customers
// with a GDAP relationship ($top up to 300).
func (s *Sim) delegatedAdminCustomersLocked(t *tenant) []map[string]any {
	var items []map[string]any
	for _, c := range s.customersLocked(t, RelationshipGDAP) {
		items = append(items, map[string]any{
			"@odata.type": "#microsoft.graph.delegatedAdminCustomer",
			"@odata.etag": fmt.Sprintf(`W/"%s"`, stableGUID("etag", c.TenantID)),
			"id":          c.TenantID,
			"tenantId":    c.TenantID,
			"displayName": s.tenants[c.TenantID].orgLocked().name,
		})
	}
	return items
}

// contractsLocked is GET /v1.0/contracts: the partner's DAP/CSP
// partnerships with the names and domains copied when each started.
func (s *Sim) contractsLocked(t *tenant) []map[string]any {
	var items []map[string]any
	for _, c := range s.customersLocked(t, RelationshipContract) {
		items = append(items, map[string]any{
			"id":                stableGUID("contract", c.TenantID),
			"deletedDateTime":   nil,
			"contractType":      "ResellerPartner",
			"customerId":        c.TenantID,
			"defaultDomainName": c.ContractDefaultDomain,
			"displayName":       c.ContractName,
		})
	}
	return items
}

// organizationLocked is GET /v1.0/organization: the token's tenant's one
// organization object with its verified domains.
func (s *Sim) organizationLocked(t *tenant) []map[string]any {
	org := t.orgLocked()
	domains := make([]map[string]any, 0, len(org.domains))
	for _, d := range org.domains {
		domains = append(domains, map[string]any{
			"capabilities": "Email, OfficeCommunicationsOnline", "isDefault": d.Default, "isInitial": d.Initial,
			"name": d.Name, "type": "Managed",
		})
	}
	return []map[string]any{{
		"id": t.id, "deletedDateTime": nil, "displayName": org.name, "tenantType": "AAD",
		"countryLetterCode": "US", "verifiedDomains": domains,
	}}
}

// customersLocked lists the partner's customers listed under kind
// (RelationshipGDAP or RelationshipContract), in the order added.
func (s *Sim) customersLocked(partner *tenant, kind string) []*Customer {
	if partner.org == nil {
		return nil
	}
	var out []*Customer
	for _, id := range partner.org.customers {
		ct := s.tenants[id]
		if ct == nil || ct.org == nil || ct.org.customer == nil {
			continue
		}
		if c := ct.org.customer; c.Relationship == kind || c.Relationship == RelationshipBoth {
			out = append(out, c)
		}
	}
	return out
}

// collectionState is the content of a partner collection's skip token.
type collectionState struct {
	Tenant   string `json:"t"`
	Resource string `json:"r"`
	Offset   int    `json:"o"`
}

// writeCollection answers one page of items: $top (1..maxTop, default the
// Sim's page size), $select (top-level properties; @odata annotations stay)
// and a $skiptoken @odata.nextLink.
func (s *Sim) writeCollection(w http.ResponseWriter, r *http.Request, t *tenant, resource, context string, items []map[string]any, maxTop int) {
	q := r.URL.Query()
	for _, opt := range []string{"$filter", "$search", "$orderby", "$expand", "$count"} {
		if q.Has(opt) {
			writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("graphsim does not support %s on %s.", opt, resource))
			return
		}
	}
	size := s.cfg.pageSize
	if raw := q.Get("$top"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxTop {
			writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery",
				fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and %d inclusive.", raw, maxTop))
			return
		}
		size = n
	}
	offset := 0
	if raw := q.Get("$skiptoken"); raw != "" {
		var st collectionState
		if err := decodeState(raw, &st); err != nil || st.Tenant != t.id || st.Resource != resource || st.Offset < 0 {
			writeGraphError(w, r, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		offset = st.Offset
	}
	var sel map[string]bool
	if raw := strings.TrimSpace(q.Get("$select")); raw != "" {
		sel = map[string]bool{}
		for _, p := range strings.Split(raw, ",") {
			sel[strings.TrimSpace(p)] = true
		}
	}
	end := min(offset+size, len(items))
	page := make([]map[string]any, 0, max(end-offset, 0))
	for i := offset; i < end; i++ {
		page = append(page, selectProps(items[i], sel))
	}
	resp := map[string]any{"@odata.context": requestRoot(r) + "/v1.0" + context, "value": page}
	if end < len(items) {
		next := url.Values{}
		for _, k := range []string{"$select", "$top"} {
			if q.Has(k) {
				next.Set(k, q.Get(k))
			}
		}
		next.Set("$skiptoken", encodeState(collectionState{Tenant: t.id, Resource: resource, Offset: end}))
		resp["@odata.nextLink"] = requestRoot(r) + "/v1.0/" + resource + "?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, resp)
}

// selectProps keeps the selected properties and every @odata annotation.
func selectProps(item map[string]any, sel map[string]bool) map[string]any {
	if sel == nil {
		return item
	}
	out := make(map[string]any, len(sel)+2)
	for k, v := range item {
		if sel[k] || strings.HasPrefix(k, "@odata.") {
			out[k] = v
		}
	}
	return out
}

// stableGUID derives a GUID-shaped id from a kind and a tenant id, so the
// same customer keeps the same contract id and etag.
func stableGUID(kind, tenantID string) string {
	h := fnv.New128a()
	_, _ = h.Write([]byte(kind + "/" + tenantID))
	b := h.Sum(nil)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
