package atsim

import (
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

// zoneInformation answers GET .../zoneInformation?user=... with the
// simulator's own URL as the zone. It needs no credentials, like Autotask's.
func (s *Sim) zoneInformation(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		methodNotAllowed(w, r.Method)
		return
	}
	user := r.URL.Query().Get("user")
	if user == "" {
		writeJSON(w, http.StatusBadRequest, errorsBody("The user parameter is required."))
		return
	}
	if !strings.EqualFold(user, s.cfg.username) {
		writeJSON(w, http.StatusInternalServerError, errorsBody("Zone information could not be determined for the user name."))
		return
	}
	root := s.root(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"zoneName": "Simulator",
		"url":      root + "/ATServicesRest/",
		"webUrl":   root + "/",
		"ci":       0,
	})
}

// thresholdInformation answers GET .../ThresholdInformation with the rolling
// hour's usage.
func (s *Sim) thresholdInformation(w http.ResponseWriter) {
	writeJSON(w, http.StatusOK, map[string]int{
		"externalRequestThreshold":     s.cfg.hourlyLimit,
		"requestThresholdTimeframe":    ThresholdTimeframeMinutes,
		"currentTimeframeRequestCount": s.quota.used(s.cfg.now()),
	})
}

// serveQuery answers .../query (POST body or GET ?search=), .../query/next
// (the paging link; POST with the original body, or GET when the link carries
// search) and .../query/count.
func (s *Sim) serveQuery(w http.ResponseWriter, r *http.Request, entity string, rest []string, body []byte) {
	def, udfs := contactFields, s.udfDefs()
	if entity == "companies" {
		def, udfs = companyFields, s.cfg.companyUDFs
	}
	var paging *pagingState
	var count bool
	switch {
	case len(rest) == 0:
	case len(rest) == 1 && strings.EqualFold(rest[0], "next"):
		var p pagingState
		if err := json.Unmarshal([]byte(r.URL.Query().Get("paging")), &p); err != nil {
			writeJSON(w, http.StatusBadRequest, errorsBody("The paging parameter is not valid."))
			return
		}
		paging = &p
	case len(rest) == 1 && strings.EqualFold(rest[0], "count"):
		count = true
	default:
		notFoundRoute(w)
		return
	}

	search := r.URL.Query().Get("search")
	var raw []byte
	switch r.Method {
	case http.MethodPost:
		raw = body
		search = ""
	case http.MethodGet:
		if search == "" {
			// A paging link of a POST query carries no search: Autotask only
			// accepts it as a POST with the original body.
			methodNotAllowed(w, r.Method)
			return
		}
		raw = []byte(search)
	default:
		methodNotAllowed(w, r.Method)
		return
	}

	q, err := parseQuery(raw, def, udfs)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorsBody(err.Error()))
		return
	}
	recs := s.records(entity)
	render := func(r record) map[string]any {
		if r.co != nil {
			return s.companyWire(r.co)
		}
		return s.contactWire(r.ct)
	}
	if count {
		n := 0
		for _, rec := range recs {
			if matches(rec, q.Filter, def) {
				n++
			}
		}
		writeJSON(w, http.StatusOK, map[string]int{"queryCount": n})
		return
	}
	queryURL := s.root(r) + "/ATServicesRest/V1.0/" + def.name + "/query"
	page, err := runQuery(recs, q, paging, def, render, queryURL, search)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorsBody(err.Error()))
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// records snapshots an entity's rows for the query engine.
func (s *Sim) records(entity string) []record {
	s.mu.Lock()
	defer s.mu.Unlock()
	if entity == "companies" {
		out := make([]record, 0, len(s.companies))
		for _, c := range s.companies {
			out = append(out, record{id: c.id, co: c})
		}
		return out
	}
	out := make([]record, 0, len(s.contacts))
	for _, c := range s.contacts {
		out = append(out, record{id: c.id, ct: c})
	}
	return out
}

// getContact answers GET Contacts/{id}: {"item":{...}}, or {"item":null}
// with 200 for an id that does not exist, as Autotask does.
func (s *Sim) getContact(w http.ResponseWriter, idText string) {
	getItem(s, w, idText, s.contacts, s.contactWire)
}

// getCompany answers GET Companies/{id} like getContact.
func (s *Sim) getCompany(w http.ResponseWriter, idText string) {
	getItem(s, w, idText, s.companies, s.companyWire)
}

// getItem answers GET {Entity}/{id} from one entity's table.
func getItem[T any](s *Sim, w http.ResponseWriter, idText string, table map[int64]*T, wire func(*T) map[string]any) {
	id, _ := strconv.ParseInt(idText, 10, 64)
	s.mu.Lock()
	var item any
	if rec, ok := table[id]; ok {
		item = wire(rec)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"item": item})
}

// createContact answers POST Companies/{parent}/Contacts with {"itemId":N}.
func (s *Sim) createContact(w http.ResponseWriter, parent int64, body []byte) {
	fields, err := decodeFields(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorsBody(err.Error()))
		return
	}
	now := s.cfg.now().UTC()
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.companies[parent]; !ok {
		writeJSON(w, http.StatusNotFound, errorsBody("Company "+strconv.FormatInt(parent, 10)+" was not found."))
		return
	}
	c := &contact{companyID: parent, udfs: make(map[string]string), created: now, modified: now, activityAt: now}
	if raw, ok := fields["id"]; ok && string(raw) != "0" && string(raw) != "null" {
		writeJSON(w, http.StatusInternalServerError, errorsBody("id is assigned by Autotask and cannot be set on create."))
		return
	}
	delete(fields, "id")
	if _, ok := fields["isactive"]; !ok {
		writeJSON(w, http.StatusInternalServerError, errorsBody("isActive is required."))
		return
	}
	if err := s.applyFields(c, fields, parent); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorsBody(err.Error()))
		return
	}
	if err := s.checkContactLocked(c, ""); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorsBody(err.Error()))
		return
	}
	c.id = s.newIDLocked()
	s.contacts[c.id] = c
	writeJSON(w, http.StatusOK, map[string]int64{"itemId": c.id})
}

// decodePatch reads the body of a PATCH: the id of the entity (Company,
// Contact) it updates and the other fields, lower-cased. When the body is
// not usable it answers the refusal itself and ok is false.
func decodePatch(w http.ResponseWriter, body []byte, entity string) (id int64, fields map[string]json.RawMessage, ok bool) {
	fields, err := decodeFields(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, errorsBody(err.Error()))
		return 0, nil, false
	}
	if err := json.Unmarshal(fields["id"], &id); err != nil || id <= 0 {
		writeJSON(w, http.StatusInternalServerError, errorsBody("id is required to update a "+entity+"."))
		return 0, nil, false
	}
	delete(fields, "id")
	return id, fields, true
}

// patchContact answers PATCH Companies/{parent}/Contacts: the body carries
// the contact's id and only the fields to change; the contact must belong to
// parent.
func (s *Sim) patchContact(w http.ResponseWriter, parent int64, body []byte) {
	id, fields, ok := decodePatch(w, body, "Contact")
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.companies[parent]; !ok {
		writeJSON(w, http.StatusNotFound, errorsBody("Company "+strconv.FormatInt(parent, 10)+" was not found."))
		return
	}
	old, ok := s.contacts[id]
	if !ok {
		writeJSON(w, http.StatusNotFound, errorsBody("Contact "+strconv.FormatInt(id, 10)+" was not found."))
		return
	}
	if old.companyID != parent {
		writeJSON(w, http.StatusInternalServerError, errorsBody("Contact "+strconv.FormatInt(id, 10)+
			" does not belong to company "+strconv.FormatInt(parent, 10)+"."))
		return
	}
	c := *old
	c.udfs = maps.Clone(old.udfs)
	if err := s.applyFields(&c, fields, parent); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorsBody(err.Error()))
		return
	}
	if err := s.checkContactLocked(&c, old.email); err != nil {
		writeJSON(w, http.StatusInternalServerError, errorsBody(err.Error()))
		return
	}
	c.modified = s.cfg.now().UTC()
	s.contacts[id] = &c
	writeJSON(w, http.StatusOK, map[string]int64{"itemId": id})
}
