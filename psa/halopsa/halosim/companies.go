package halosim

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// wireCompany is a Halo client as GET /api/Client returns it.
type wireCompany struct {
	ID       int    `json:"id"`
	Name     string `json:"name"`
	Inactive bool   `json:"inactive"`
}

// companyList is the envelope of GET /api/Client.
type companyList struct {
	PageNo      int           `json:"page_no,omitempty"`
	PageSize    int           `json:"page_size,omitempty"`
	RecordCount int           `json:"record_count"`
	Clients     []wireCompany `json:"clients"`
}

// listCompanies answers GET /api/Client.
func (s *Sim) listCompanies(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, err := parseListParams(q)
	if err != nil {
		writeText(w, http.StatusBadRequest, err.Error())
		return
	}
	search := strings.ToLower(strings.TrimSpace(q.Get("search")))
	s.mu.Lock()
	var all []wireCompany
	for _, c := range s.companies {
		if (c.inactive && !p.includeInactive) || (!c.inactive && !p.includeActive) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(c.name), search) {
			continue
		}
		all = append(all, wireCompany{ID: c.id, Name: c.name, Inactive: c.inactive})
	}
	s.mu.Unlock()
	slices.SortFunc(all, func(a, b wireCompany) int { return a.ID - b.ID })
	out := companyList{RecordCount: len(all), Clients: page(p, all)}
	if p.paginate {
		out.PageNo, out.PageSize = p.pageNo, p.pageSize
	}
	if out.Clients == nil {
		out.Clients = []wireCompany{}
	}
	s.meter.Read()
	writeJSON(w, http.StatusOK, out)
}

// getCompany answers GET /api/Client/{id}.
func (s *Sim) getCompany(w http.ResponseWriter, rawID string) {
	id, err := strconv.Atoi(rawID)
	if err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("The value '%s' is not valid.", rawID))
		return
	}
	s.mu.Lock()
	c, ok := s.companies[id]
	var out wireCompany
	if ok {
		out = wireCompany{ID: c.id, Name: c.name, Inactive: c.inactive}
	}
	s.mu.Unlock()
	if !ok {
		writeText(w, http.StatusNotFound, fmt.Sprintf("Customer %d not found", id))
		return
	}
	s.meter.Read()
	writeJSON(w, http.StatusOK, out)
}
