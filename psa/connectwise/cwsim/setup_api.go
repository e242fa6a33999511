package cwsim

import (
	"maps"
	"net/http"
	"slices"
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

func (s *Sim) systemInfo(_ http.ResponseWriter, _ *http.Request, _ []byte) (int, any, *apiError) {
	return http.StatusOK, infoJSON{Version: "v" + s.cfg.apiVersion + ".0 (simulator)", IsCloud: true,
		ServerTimeZone: "Eastern Standard Time", CloudRegion: "NA"}, nil
}
