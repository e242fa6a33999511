package graphsim

import (
	"net/http"
	"strconv"
	"strings"
)

// handleCount answers GET /v1.0/users/$count as Graph documents it: an
// advanced query, so it needs the ConsistencyLevel: eventual header; the
// answer is the number as text/plain. $filter may only be
// "accountEnabled eq true" or "accountEnabled eq false".
func (s *Sim) handleCount(w http.ResponseWriter, r *http.Request) {
	t, _, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	if !strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual") {
		writeGraphError(w, r, http.StatusBadRequest, "Request_BadRequest",
			"Count is not currently supported without the ConsistencyLevel: eventual header.")
		return
	}
	var want *bool
	switch f := strings.Join(strings.Fields(r.URL.Query().Get("$filter")), " "); f {
	case "":
	case "accountEnabled eq true":
		want = Bool(true)
	case "accountEnabled eq false":
		want = Bool(false)
	default:
		writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", "graphsim supports only accountEnabled eq true|false in $filter on $count, not '"+f+"'.")
		return
	}
	s.mu.Lock()
	n := 0
	for _, rec := range t.users {
		if !rec.live() {
			continue
		}
		enabled := rec.user.AccountEnabled == nil || *rec.user.AccountEnabled
		if want == nil || enabled == *want {
			n++
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte(strconv.Itoa(n)))
}
