package halosim

import (
	"net/http"
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
	listMeta
	Clients []wireCompany `json:"clients"`
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
	meta, clients := pageOf(p, all, func(c wireCompany) int { return c.ID })
	s.meter.Read()
	writeJSON(w, http.StatusOK, companyList{listMeta: meta, Clients: clients})
}

// getCompany answers GET /api/Client/{id}.
func (s *Sim) getCompany(w http.ResponseWriter, rawID string) {
	s.answerByID(w, rawID, "Customer %d not found", func(id int) (any, bool) {
		c, ok := s.companies[id]
		if !ok {
			return nil, false
		}
		return wireCompany{ID: c.id, Name: c.name, Inactive: c.inactive}, true
	})
}
