package cwsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// handler answers one API call with a status and a body to render, or the
// vendor's error. route calls it with mu held.
type handler func(w http.ResponseWriter, r *http.Request, body []byte) (int, any, *apiError)

// route dispatches one authenticated API call below APIPath.
func (s *Sim) route(w http.ResponseWriter, r *http.Request, body []byte, version string) {
	path, ok := strings.CutPrefix(r.URL.Path, APIPath)
	if !ok {
		writeError(w, version, http.StatusNotFound, vendorError{Code: "NotFound", Message: "Resource " + r.URL.Path + " not found. The API lives under " + APIPath + "."})
		return
	}
	seg := strings.Split(strings.Trim(path, "/"), "/")
	var h map[string]handler
	switch {
	case path == "/company/contacts":
		h = map[string]handler{http.MethodGet: s.listContacts, http.MethodPost: s.createContact}
	case path == "/company/contacts/types":
		h = map[string]handler{http.MethodGet: s.listContactTypes}
	case path == "/company/contacts/departments":
		h = map[string]handler{http.MethodGet: s.listDepartments}
	case len(seg) == 3 && seg[0] == "company" && seg[1] == "contacts":
		h = map[string]handler{http.MethodGet: getRecord(s.pathContact, s.contactJSONOf), http.MethodPut: s.putContact, http.MethodPatch: s.patchContact}
	case path == "/company/companies":
		h = map[string]handler{http.MethodGet: s.listCompanies}
	case len(seg) == 3 && seg[0] == "company" && seg[1] == "companies":
		h = map[string]handler{http.MethodGet: getRecord(s.pathCompany, s.companyJSONOf), http.MethodPatch: s.patchCompany}
	case path == "/company/communicationTypes":
		h = map[string]handler{http.MethodGet: s.listCommTypes}
	case path == "/system/info":
		h = map[string]handler{http.MethodGet: s.systemInfo}
	default:
		writeError(w, version, http.StatusNotFound, vendorError{Code: "NotFound", Message: "Resource " + path + " is not served by the simulator."})
		return
	}
	fn, ok := h[r.Method]
	if !ok {
		writeError(w, version, http.StatusMethodNotAllowed, vendorError{Code: "MethodNotAllowed", Message: "The requested resource does not support http method '" + r.Method + "'."})
		return
	}
	s.mu.Lock()
	status, v, aerr := fn(w, r, body)
	s.mu.Unlock()
	if aerr != nil {
		writeError(w, version, aerr.status, aerr.body)
		return
	}
	writeJSON(w, version, status, v)
}

// pathID reads the numeric id at the end of the request path.
func pathID(r *http.Request, what string) (int, *apiError) {
	raw := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	id, err := strconv.Atoi(raw)
	if err != nil || id <= 0 {
		return 0, badRequest(fmt.Sprintf("%s id %q is not a valid id", what, raw))
	}
	return id, nil
}

// getRecord is the GET handler of one record: the one find reads off the
// path (or its 404), rendered.
func getRecord[T, J any](find func(*http.Request) (*T, *apiError), render func(*T) J) handler {
	return func(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any, *apiError) {
		rec, err := find(r)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, render(rec), nil
	}
}

// listSpec describes one list endpoint: its records and the fields its
// conditions and childConditions may name.
type listSpec[T any] struct {
	items      []T
	id         func(T) int
	conds      schema
	field      func(T, string) literal
	child      schema
	childMatch func(T, []clause) bool
	// custom and customMatch serve customFieldConditions; nil where the
	// endpoint's records have no custom fields.
	custom      schema
	customMatch func(T, []clause) bool
	// projects is true for endpoints that serve the fields parameter
	// (their handler applies it with project).
	projects bool
}

// list applies conditions, childConditions, customFieldConditions and paging to a list endpoint.
func list[T any](w http.ResponseWriter, r *http.Request, sp listSpec[T]) ([]T, *apiError) {
	q := r.URL.Query()
	if err := unsupportedParams(q, sp.projects); err != nil {
		return nil, err
	}
	p, err := parsePaging(r)
	if err != nil {
		return nil, err
	}
	items := sp.items
	for _, f := range []struct {
		param string
		sc    schema
		match func(T, []clause) bool
	}{
		{"conditions", sp.conds, func(t T, cs []clause) bool {
			return matches(cs, func(f string) literal { return sp.field(t, f) })
		}},
		{"childConditions", sp.child, sp.childMatch},
		{"customFieldConditions", sp.custom, sp.customMatch},
	} {
		c := strings.TrimSpace(q.Get(f.param))
		if c == "" {
			continue
		}
		if f.sc == nil {
			return nil, badCondition(f.param + " are not supported on this endpoint")
		}
		cs, err := parseConditions(c, f.sc)
		if err != nil {
			return nil, err
		}
		items = filter(items, func(t T) bool { return f.match(t, cs) })
	}
	return paginate(w, r, items, sp.id, p), nil
}

// unsupportedParams refuses query parameters the simulator does not model,
// rather than silently ignoring them.
func unsupportedParams(q url.Values, projects bool) *apiError {
	if v := q.Get("fields"); v != "" && !projects {
		return badRequest("the fields parameter is not supported by the simulator")
	}
	switch strings.ToLower(strings.Join(strings.Fields(q.Get("orderBy")), " ")) {
	case "", "id", "id asc":
	default:
		return badRequest("the simulator orders only by id (orderBy=id asc)")
	}
	return nil
}

func filter[T any](items []T, keep func(T) bool) []T {
	out := make([]T, 0, len(items))
	for _, t := range items {
		if keep(t) {
			out = append(out, t)
		}
	}
	return out
}
