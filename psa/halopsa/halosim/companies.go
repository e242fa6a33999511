package halosim

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// wireCompany is a Halo client as GET /api/Client and /api/Client/{id}
// return it. azure_tenants is there only when asked for
// (includeazuretenants=true on the list, includedetails=true on one client).
type wireCompany struct {
	ID           int           `json:"id"`
	Name         string        `json:"name"`
	Inactive     bool          `json:"inactive"`
	Website      string        `json:"website,omitempty"`
	AzureTenants *[]wireTenant `json:"azure_tenants,omitempty"`
}

// wireTenant is Halo's AreaAzureTenant: one Azure tenant linked to a client.
type wireTenant struct {
	ID                int    `json:"id"`
	ClientID          int    `json:"client_id"`
	AzureTenantID     string `json:"azure_tenant_id"`
	AzureTenantName   string `json:"azure_tenant_name,omitempty"`
	AzureTenantDomain string `json:"azure_tenant_domain,omitempty"`
	ClientName        string `json:"client_name,omitempty"`
}

// companyList is the envelope of GET /api/Client.
type companyList struct {
	listMeta
	Clients []wireCompany `json:"clients"`
}

// wireOf renders a client; withTenants adds azure_tenants. Caller holds mu.
func (c *company) wireOf(withTenants bool) wireCompany {
	out := wireCompany{ID: c.id, Name: c.name, Inactive: c.inactive, Website: c.website}
	if withTenants {
		ts := make([]wireTenant, 0, len(c.tenants))
		for _, t := range c.tenants {
			ts = append(ts, wireTenant{ID: t.id, ClientID: c.id, AzureTenantID: t.tenantID, AzureTenantName: t.name, ClientName: c.name})
		}
		out.AzureTenants = &ts
	}
	return out
}

// listCompanies answers GET /api/Client.
func (s *Sim) listCompanies(w http.ResponseWriter, r *http.Request) {
	q := queryReader{q: r.URL.Query()}
	p := q.list()
	withTenants := q.flag("includeazuretenants", false)
	if q.err != nil {
		writeText(w, http.StatusBadRequest, q.err.Error())
		return
	}
	search := strings.ToLower(strings.TrimSpace(q.q.Get("search")))
	s.mu.Lock()
	var all []wireCompany
	for _, c := range s.companies {
		if !p.shows(c.inactive) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(c.name), search) {
			continue
		}
		all = append(all, c.wireOf(withTenants))
	}
	s.mu.Unlock()
	meta, clients := pageOf(p, all, func(c wireCompany) int { return c.ID })
	s.meter.Read()
	writeJSON(w, http.StatusOK, companyList{listMeta: meta, Clients: clients})
}

// getCompany answers GET /api/Client/{id}; includedetails=true adds
// azure_tenants.
func (s *Sim) getCompany(w http.ResponseWriter, r *http.Request, rawID string) {
	q := queryReader{q: r.URL.Query()}
	details := q.flag("includedetails", false)
	if q.err != nil {
		writeText(w, http.StatusBadRequest, q.err.Error())
		return
	}
	answerByID(s, w, rawID, "Customer %d not found", s.companies, func(c *company) wireCompany { return c.wireOf(details) })
}

// postCompanies answers POST /api/Client: a JSON array of clients, each
// updating the client its id names (name, website, inactive, and
// azure_tenants, which replaces the client's Azure tenants). The sim does
// not create clients through the API (psasync never does): an item without
// an id is refused, as is an id that does not exist (404), an unknown
// property, or an azure_tenant_id that is not a GUID. Every item is checked
// before any is stored. The answer is the saved client (an array for more
// than one), with its azure_tenants.
func (s *Sim) postCompanies(w http.ResponseWriter, body []byte) {
	postItems(s, w, body, "clients", func(item map[string]json.RawMessage, _ []*company) (*company, int, error) {
		return s.stageCompanyLocked(item)
	}, s.storeCompanyLocked, func(c *company) wireCompany { return c.wireOf(true) })
}

// storeCompanyLocked stores a staged client, numbering its new Azure
// tenant rows.
func (s *Sim) storeCompanyLocked(c *company) {
	for i := range c.tenants {
		if c.tenants[i].id == 0 {
			s.nextTenantRow++
			c.tenants[i].id = s.nextTenantRow
		}
	}
	s.companies[c.id] = c
}

// stageCompanyLocked builds the client an item asks for, without storing it.
func (s *Sim) stageCompanyLocked(item map[string]json.RawMessage) (*company, int, error) {
	for k := range item {
		switch k {
		case "id", "name", "website", "inactive", "azure_tenants":
		default:
			return nil, http.StatusBadRequest, badf("Could not find member '%s' on object of type 'Area'.", k)
		}
	}
	id, err := rawInt(item, "id")
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	if id <= 0 {
		return nil, http.StatusBadRequest, badf("The simulator updates existing clients only; id is required")
	}
	cur, ok := s.companies[id]
	if !ok {
		return nil, http.StatusNotFound, badf("Customer %d not found", id)
	}
	c := *cur
	c.tenants = append([]azureTenant(nil), cur.tenants...)
	if v, ok, err := rawString(item, "name"); err != nil {
		return nil, http.StatusBadRequest, err
	} else if ok {
		if strings.TrimSpace(v) == "" {
			return nil, http.StatusBadRequest, badf("Please enter a name for the Customer")
		}
		c.name = strings.TrimSpace(v)
	}
	if v, ok, err := rawString(item, "website"); err != nil {
		return nil, http.StatusBadRequest, err
	} else if ok {
		c.website = strings.TrimSpace(v)
	}
	if v, ok, err := rawBool(item, "inactive"); err != nil {
		return nil, http.StatusBadRequest, err
	} else if ok {
		c.inactive = v
	}
	if raw, ok := item["azure_tenants"]; ok {
		var in []struct {
			AzureTenantID   string `json:"azure_tenant_id"`
			AzureTenantName string `json:"azure_tenant_name"`
		}
		if err := json.Unmarshal(raw, &in); err != nil {
			return nil, http.StatusBadRequest, badf("Error converting azure_tenants to a list of AreaAzureTenant: %v", err)
		}
		c.tenants = nil
		for _, t := range in {
			tid := strings.TrimSpace(t.AzureTenantID)
			if !isGUID(tid) {
				return nil, http.StatusBadRequest, badf("Error converting value \"%s\" to type 'Guid'. Path 'azure_tenants.azure_tenant_id'.", t.AzureTenantID)
			}
			row := 0
			for _, old := range cur.tenants {
				if strings.EqualFold(old.tenantID, tid) {
					row = old.id
				}
			}
			c.tenants = append(c.tenants, azureTenant{id: row, tenantID: tid, name: t.AzureTenantName})
		}
	}
	return &c, http.StatusOK, nil
}

// isGUID reports whether s is a GUID in 8-4-4-4-12 form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, r := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if r != '-' {
				return false
			}
		} else if _, err := strconv.ParseUint(string(r), 16, 8); err != nil {
			return false
		}
	}
	return true
}

// SeedCompany stores c (Website in website, TenantID as the client's one
// Azure tenant, Inactive) with a "Main" site and its contacts, and returns
// its id; c.ID 0 takes the next free id.
func (s *Sim) SeedCompany(c simkit.Company) int { return c.Seed(s.storeCompany, s.SeedContact) }

// storeCompany stores SeedCompany's company, without its contacts, and
// returns its id.
func (s *Sim) storeCompany(c simkit.Company) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.companyIDs.Pick(c.ID, func(id int) bool { return s.companies[id] != nil })
	comp := s.addCompanyLocked(id, c.Name)
	comp.website, comp.inactive, comp.tenants = c.Website, c.Inactive, nil
	if c.TenantID != "" {
		s.nextTenantRow++
		comp.tenants = []azureTenant{{id: s.nextTenantRow, tenantID: c.TenantID, name: c.Name}}
	}
	return id
}

// Company reads a client back in seed terms (without contacts): TenantID
// is its first Azure tenant.
func (s *Sim) Company(id int) (simkit.Company, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.companies[id]
	if !ok {
		return simkit.Company{}, false
	}
	out := simkit.Company{ID: c.id, Name: c.name, Website: c.website, Inactive: c.inactive}
	if len(c.tenants) > 0 {
		out.TenantID = c.tenants[0].tenantID
	}
	return out, true
}
