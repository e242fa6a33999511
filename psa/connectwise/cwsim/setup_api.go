package cwsim

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
)

func (s *Sim) listContactTypes(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	sp := namedSpec(func(t *contactType) int { return t.id }, "description", func(t *contactType) string { return t.description })
	return listTable(w, r, s.data.types, sp, func(t *contactType) contactTypeJSON {
		return contactTypeJSON{ID: t.id, Description: t.description, Info: map[string]string{}}
	})
}

func (s *Sim) listDepartments(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	sp := namedSpec(func(d *department) int { return d.id }, "name", func(d *department) string { return d.name })
	return listTable(w, r, s.data.departments, sp, func(d *department) departmentJSON {
		return departmentJSON{ID: d.id, Name: d.name, Info: map[string]string{}}
	})
}

func (s *Sim) listCommTypes(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	sp := namedSpec(func(t *commType) int { return t.id }, "description", func(t *commType) string { return t.description })
	return listTable(w, r, s.data.commTypes, sp, func(t *commType) commTypeJSON {
		return commTypeJSON{ID: t.id, Description: t.description, PhoneFlag: t.phone, FaxFlag: t.fax,
			EmailFlag: t.email, DefaultFlag: t.defaultForCategory, Info: map[string]string{}}
	})
}

// namedSpec is the listSpec of a setup table whose conditions name only id
// and the row's name field (description or name).
func namedSpec[T any](id func(*T) int, nameKey string, name func(*T) string) listSpec[*T] {
	return listSpec[*T]{
		id:    id,
		conds: schema{"id": kindInt, nameKey: kindString},
		field: func(t *T, f string) literal {
			if f == "id" {
				return literal{k: kindInt, i: id(t)}
			}
			return literal{k: kindString, s: name(t)}
		},
	}
}

// listTable answers a list endpoint over one of the site's tables: its rows
// in id order, through sp's conditions and paging, each rendered by render.
func listTable[T, J any](w http.ResponseWriter, r *http.Request, table map[int]*T, sp listSpec[*T], render func(*T) J) (int, any, *apiError) {
	for _, id := range slices.Sorted(maps.Keys(table)) {
		sp.items = append(sp.items, table[id])
	}
	page, err := list(w, r, sp)
	if err != nil {
		return 0, nil, err
	}
	out := make([]J, 0, len(page))
	for _, t := range page {
		out = append(out, render(t))
	}
	return http.StatusOK, out, nil
}

func (s *Sim) companyJSONOf(co *company) companyJSON {
	return companyJSON{ID: co.id, Identifier: co.identifier, Name: co.name,
		Info: map[string]string{"contacts_href": s.apiURL("/company/contacts?conditions=company/id=" + strconv.Itoa(co.id))}}
}

func (s *Sim) listCompanies(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	return listTable(w, r, s.data.companies, listSpec[*company]{
		id:    func(co *company) int { return co.id },
		conds: schema{"id": kindInt, "name": kindString, "identifier": kindString, "deletedflag": kindBool},
		field: func(co *company, f string) literal {
			switch f {
			case "id":
				return literal{k: kindInt, i: co.id}
			case "name":
				return literal{k: kindString, s: co.name}
			case "identifier":
				return literal{k: kindString, s: co.identifier}
			}
			return literal{k: kindBool}
		},
	}, s.companyJSONOf)
}

func (s *Sim) getCompany(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	id, err := pathID(r, "company")
	if err != nil {
		return 0, nil, err
	}
	co := s.data.companies[id]
	if co == nil {
		return 0, nil, notFound(fmt.Sprintf("Company with id %d was not found.", id))
	}
	return http.StatusOK, s.companyJSONOf(co), nil
}

func (s *Sim) systemInfo(_ http.ResponseWriter, _ *http.Request, _ []byte) (int, any, *apiError) {
	return http.StatusOK, infoJSON{Version: "v" + s.cfg.apiVersion + ".0 (simulator)", IsCloud: true,
		ServerTimeZone: "Eastern Standard Time", CloudRegion: "NA"}, nil
}
