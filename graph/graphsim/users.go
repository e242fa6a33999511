package graphsim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// unsupportedQuery lists OData options the simulator refuses rather than
// ignores, so a client relying on them fails loudly.
var unsupportedQuery = []string{"$filter", "$search", "$orderby", "$expand", "$count"}

// handleUsers answers GET /v1.0/users: the tenant's live users, paged with
// @odata.nextLink, $select and $top honoured.
func (s *Sim) handleUsers(w http.ResponseWriter, r *http.Request) {
	t, _, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	for _, opt := range unsupportedQuery {
		if q.Has(opt) {
			writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", fmt.Sprintf("graphsim does not support %s on users.", opt))
			return
		}
	}
	sel, err := parseSelect(q.Get("$select"))
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	size := s.cfg.pageSize
	if raw := q.Get("$top"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > 999 {
			writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery",
				fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", raw))
			return
		}
		size = n
	}
	after := ""
	if raw := q.Get("$skiptoken"); raw != "" {
		var st pageState
		if err := decodeState(raw, &st); err != nil || st.Tenant != t.id {
			writeGraphError(w, r, http.StatusBadRequest, "Directory_ExpiredPageToken", "The specified page token value has expired and can no longer be included in your request.")
			return
		}
		after = st.After
	}
	s.mu.Lock()
	var page []map[string]any
	more := false
	last := ""
	for _, id := range t.sortedIDs() {
		if id <= after {
			continue
		}
		rec := t.users[id]
		if !rec.live() {
			continue
		}
		if len(page) == size {
			more = true
			break
		}
		page = append(page, rec.user.render(sel))
		last = id
	}
	s.mu.Unlock()
	if page == nil {
		page = []map[string]any{}
	}
	resp := map[string]any{
		"@odata.context": requestRoot(r) + "/v1.0/$metadata#users" + selectSuffix(sel),
		"value":          page,
	}
	if more {
		next := url.Values{}
		if q.Has("$select") {
			next.Set("$select", q.Get("$select"))
		}
		if q.Has("$top") {
			next.Set("$top", q.Get("$top"))
		}
		next.Set("$skiptoken", encodeState(pageState{Tenant: t.id, After: last}))
		resp["@odata.nextLink"] = requestRoot(r) + "/v1.0/users?" + next.Encode()
	}
	writeJSON(w, http.StatusOK, resp)
}

// handleUser answers GET /v1.0/users/{id-or-upn}, and routes the delta
// function (users/delta, users/delta(), users/microsoft.graph.delta()).
func (s *Sim) handleUser(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("id")
	if isDeltaPath(key) {
		s.handleDelta(w, r)
		return
	}
	t, _, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	sel, err := parseSelect(r.URL.Query().Get("$select"))
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	s.mu.Lock()
	rec, found := t.lookupLocked(key)
	var body map[string]any
	if found {
		body = rec.user.render(sel)
	}
	s.mu.Unlock()
	if !found {
		writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
			fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", key))
		return
	}
	body["@odata.context"] = requestRoot(r) + "/v1.0/$metadata#users" + selectSuffix(sel) + "/$entity"
	writeJSON(w, http.StatusOK, body)
}

// pageState is the content of a /users skip token.
type pageState struct {
	Tenant string `json:"t"`
	After  string `json:"a"`
}

// encodeState makes an opaque token of a state struct.
func encodeState(v any) string {
	raw, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeState reads a token made by encodeState.
func decodeState(token string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("token: %w", err)
	}
	return nil
}

// selectSuffix renders a $metadata context suffix such as "(id,mail)".
func selectSuffix(sel []string) string {
	if len(sel) == 0 {
		return ""
	}
	return "(" + strings.Join(sel, ",") + ")"
}
