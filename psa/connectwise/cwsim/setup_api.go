package cwsim

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
)

func (s *Sim) listContactTypes(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	all := make([]*contactType, 0, len(s.data.types))
	for _, t := range s.data.types {
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	page, err := list(w, r, listSpec[*contactType]{
		items: all, id: func(t *contactType) int { return t.id },
		conds: schema{"id": kindInt, "description": kindString},
		field: func(t *contactType, f string) literal {
			if f == "id" {
				return literal{k: kindInt, i: t.id}
			}
			return literal{k: kindString, s: t.description}
		},
	})
	if err != nil {
		return 0, nil, err
	}
	out := make([]contactTypeJSON, 0, len(page))
	for _, t := range page {
		out = append(out, contactTypeJSON{ID: t.id, Description: t.description, Info: map[string]string{}})
	}
	return http.StatusOK, out, nil
}

func (s *Sim) listDepartments(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	all := make([]*department, 0, len(s.data.departments))
	for _, d := range s.data.departments {
		all = append(all, d)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	page, err := list(w, r, listSpec[*department]{
		items: all, id: func(d *department) int { return d.id },
		conds: schema{"id": kindInt, "name": kindString},
		field: func(d *department, f string) literal {
			if f == "id" {
				return literal{k: kindInt, i: d.id}
			}
			return literal{k: kindString, s: d.name}
		},
	})
	if err != nil {
		return 0, nil, err
	}
	out := make([]departmentJSON, 0, len(page))
	for _, d := range page {
		out = append(out, departmentJSON{ID: d.id, Name: d.name, Info: map[string]string{}})
	}
	return http.StatusOK, out, nil
}

func (s *Sim) listCommTypes(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	all := make([]*commType, 0, len(s.data.commTypes))
	for _, t := range s.data.commTypes {
		all = append(all, t)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	page, err := list(w, r, listSpec[*commType]{
		items: all, id: func(t *commType) int { return t.id },
		conds: schema{"id": kindInt, "description": kindString},
		field: func(t *commType, f string) literal {
			if f == "id" {
				return literal{k: kindInt, i: t.id}
			}
			return literal{k: kindString, s: t.description}
		},
	})
	if err != nil {
		return 0, nil, err
	}
	out := make([]commTypeJSON, 0, len(page))
	for _, t := range page {
		out = append(out, commTypeJSON{ID: t.id, Description: t.description, PhoneFlag: t.phone, FaxFlag: t.fax,
			EmailFlag: t.email, DefaultFlag: t.defaultForCategory, Info: map[string]string{}})
	}
	return http.StatusOK, out, nil
}

func (s *Sim) companyJSONOf(co *company) companyJSON {
	return companyJSON{ID: co.id, Identifier: co.identifier, Name: co.name,
		Info: map[string]string{"contacts_href": s.apiURL("/company/contacts?conditions=company/id=" + strconv.Itoa(co.id))}}
}

func (s *Sim) listCompanies(w http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
	all := make([]*company, 0, len(s.data.companies))
	for _, co := range s.data.companies {
		all = append(all, co)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id < all[j].id })
	page, err := list(w, r, listSpec[*company]{
		items: all, id: func(co *company) int { return co.id },
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
	})
	if err != nil {
		return 0, nil, err
	}
	out := make([]companyJSON, 0, len(page))
	for _, co := range page {
		out = append(out, s.companyJSONOf(co))
	}
	return http.StatusOK, out, nil
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
