package cwsim

import (
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/psasync/psasync/simkit"
)

// Company statuses the simulated site has (Manage's CompanyStatus setup
// table): a company's status is Active unless it was seeded inactive.
const (
	statusActive   = 1
	statusInactive = 2
)

// companyConditions are the company fields conditions may name.
var companyConditions = schema{"id": kindInt, "name": kindString, "identifier": kindString,
	"website": kindString, "deletedflag": kindBool, "status/id": kindInt, "status/name": kindString}

// companyJSONOf renders a stored company. Caller holds mu.
func (s *Sim) companyJSONOf(co *company) companyJSON {
	status := &refJSON{ID: statusActive, Name: "Active"}
	if co.inactive {
		status = &refJSON{ID: statusInactive, Name: "Inactive"}
	}
	out := companyJSON{ID: co.id, Identifier: co.identifier, Name: co.name, Status: status, Website: co.website,
		CustomFields: []customFieldJSON{},
		Info:         map[string]string{"contacts_href": s.apiURL("/company/contacts?conditions=company/id=" + strconv.Itoa(co.id))}}
	for _, f := range sortedDefs(s.data.companyFields) {
		out.CustomFields = append(out.CustomFields, customFieldJSON{ID: f.id, Caption: f.caption, Type: f.kind,
			EntryMethod: f.entry, Value: co.custom[f.id], ConnectWiseID: f.cwID})
	}
	return out
}

// companyField reads one condition field of a company.
func companyField(co *company, f string) literal {
	switch f {
	case "id":
		return literal{k: kindInt, i: co.id}
	case "name":
		return literal{k: kindString, s: co.name}
	case "identifier":
		return literal{k: kindString, s: co.identifier}
	case "website":
		return literal{k: kindString, s: co.website}
	case "status/id":
		if co.inactive {
			return literal{k: kindInt, i: statusInactive}
		}
		return literal{k: kindInt, i: statusActive}
	case "status/name":
		if co.inactive {
			return literal{k: kindString, s: "Inactive"}
		}
		return literal{k: kindString, s: "Active"}
	}
	return literal{k: kindBool} // deletedflag: the site deletes nothing
}

func (s *Sim) listCompanies(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	_, v, err := listTable(w, r, s.data.companies, listSpec[*company]{
		id: func(co *company) int { return co.id }, conds: companyConditions, field: companyField, projects: true,
	}, s.companyJSONOf)
	if err != nil {
		return 0, nil, err
	}
	return project(r, v.([]companyJSON))
}

// pathCompany is the company the request's path names, or the vendor's 404.
func (s *Sim) pathCompany(r *http.Request) (*company, *apiError) {
	return pathRecord(r, "company", "Company", s.data.companies)
}

// patchCompany answers PATCH /company/companies/{id}: a JSON Patch whose
// operations replace (or add) name or website, remove website, or replace
// customFields with [{id, value}] (fields not listed keep their value; a
// null value clears one). Every operation is checked before any applies.
func (s *Sim) patchCompany(_ http.ResponseWriter, r *http.Request, body []byte) (int, any, *apiError) {
	co, err := s.pathCompany(r)
	if err != nil {
		return 0, nil, err
	}
	next := *co
	next.custom = maps.Clone(co.custom)
	if err := applyPatch(body, &next, s.applyCompanyOp); err != nil {
		return 0, nil, err
	}
	*co = next
	return http.StatusOK, s.companyJSONOf(co), nil
}

// applyCompanyOp applies one patch operation to co. Caller holds mu.
func (s *Sim) applyCompanyOp(co *company, op patchOp) *apiError {
	kind := strings.ToLower(op.Op)
	path := strings.ToLower(strings.TrimPrefix(op.Path, "/"))
	switch {
	case kind != "replace" && kind != "add" && kind != "remove":
		return badRequest(fmt.Sprintf("op %q is not supported (replace, add or remove)", op.Op))
	case path == "name" && kind != "remove":
		var v string
		if err := decodeValue(op.Value, &v); err != nil {
			return err
		}
		if strings.TrimSpace(v) == "" {
			return invalidCompany("name", "Company name is required.")
		}
		co.name = v
	case path == "website":
		var v string
		if kind != "remove" {
			if err := decodeValue(op.Value, &v); err != nil {
				return err
			}
		}
		co.website = v
	case path == "customfields" && kind != "remove":
		var in []customFieldIn
		if err := decodeValue(op.Value, &in); err != nil {
			return err
		}
		for _, f := range in {
			def := s.data.companyFields[f.ID.n]
			if !f.ID.set || def == nil {
				return invalidCompany("customFields", fmt.Sprintf("Custom field %d is not defined for companies.", f.ID.n))
			}
			switch v := f.Value.(type) {
			case nil:
				delete(co.custom, f.ID.n)
			case string:
				co.custom[f.ID.n] = v
			default:
				return invalidCompany("customFields", fmt.Sprintf("Custom field %d (%s) is a Text field; got %v.", f.ID.n, def.caption, v))
			}
		}
	default:
		return badRequest(fmt.Sprintf("path %q cannot be patched on a company (name, website, customFields)", op.Path))
	}
	return nil
}

// invalidCompany is the 400 Manage gives when a company fails validation.
func invalidCompany(field, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, body: vendorError{
		Code: "InvalidObject", Message: "company object is invalid",
		Errors: []fieldError{{Code: "InvalidField", Message: msg, Resource: "company", Field: field}},
	}}
}

// SeedCompany stores c with its contacts and returns its id, bypassing the
// API as SeedContact does: the website in website, TenantID in the tenant-id
// company custom field (TenantIDFieldID unless WithTenantIDField), Inactive
// as the Inactive status.
func (s *Sim) SeedCompany(c simkit.Company) int { return c.Seed(s.storeCompany, s.SeedContact) }

// storeCompany stores SeedCompany's company, without its contacts, and
// returns its id.
func (s *Sim) storeCompany(c simkit.Company) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.data.companyIDs.Pick(c.ID, func(id int) bool { return s.data.companies[id] != nil })
	co := s.data.addCompany(id, c.Name)
	co.website, co.inactive = c.Website, c.Inactive
	if c.TenantID != "" {
		co.custom[s.cfg.tenantField] = c.TenantID
	} else {
		delete(co.custom, s.cfg.tenantField)
	}
	return id
}

// Company reads a company back in seed terms (without contacts), and
// whether it exists.
func (s *Sim) Company(id int) (simkit.Company, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	co := s.data.companies[id]
	if co == nil {
		return simkit.Company{}, false
	}
	return simkit.Company{ID: co.id, Name: co.name, Website: co.website, Inactive: co.inactive,
		TenantID: customString(co.custom[s.cfg.tenantField])}, true
}
