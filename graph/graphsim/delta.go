package graphsim

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

// deltaState is the content of a /users/delta skip or delta token. A round
// starts at Base (0 with Full for the first, full enumeration), walks users
// in id order after After, and ends with a delta link whose Base is Snap,
// the change counter when the round began.
type deltaState struct {
	Tenant string `json:"t"`
	Epoch  int    `json:"g"`
	Full   bool   `json:"f,omitempty"`
	Base   uint64 `json:"b"`
	Snap   uint64 `json:"n"`
	After  string `json:"a,omitempty"`
	Select string `json:"s,omitempty"`
	Issued int64  `json:"i"`
}

// handleDelta answers GET /v1.0/users/delta: the first call enumerates every
// live user; a delta link returns only users changed (in a tracked
// property), created or removed since it was issued, removed ones as
// {"id", "@removed": {"reason": "changed"|"deleted"}}.
func (s *Sim) handleDelta(w http.ResponseWriter, r *http.Request) {
	t, _, ok := s.authenticate(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	now := s.now()
	var st deltaState
	token := q.Get("$deltatoken")
	if token == "" {
		token = q.Get("$skiptoken")
	}
	s.mu.Lock()
	epoch, seq := t.epoch, t.seq
	s.mu.Unlock()
	switch {
	case token == "latest":
		st = deltaState{Tenant: t.id, Epoch: epoch, Base: seq, Snap: seq, Select: q.Get("$select"), Issued: now.Unix()}
		s.writeDeltaPage(w, r, t, st, true)
		return
	case token != "":
		if err := decodeState(token, &st); err != nil || st.Tenant != t.id {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", "The delta token is not valid for this request.")
			return
		}
		if st.Epoch != epoch {
			writeGraphError(w, r, http.StatusGone, "syncStateNotFound",
				"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
			return
		}
		if now.Sub(time.Unix(st.Issued, 0)) > s.cfg.deltaTokenLifetime {
			writeGraphError(w, r, http.StatusBadRequest, "syncStateNotFound",
				"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
			return
		}
		if q.Get("$deltatoken") != "" {
			// A new round: it reports changes up to now.
			st.Snap, st.After = seq, ""
		}
	default:
		if _, err := parseSelect(q.Get("$select")); err != nil {
			writeGraphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
			return
		}
		for _, opt := range []string{"$filter", "$orderby", "$search", "$top"} {
			if q.Has(opt) {
				writeGraphError(w, r, http.StatusBadRequest, "Request_UnsupportedQuery", "graphsim does not support "+opt+" on users/delta.")
				return
			}
		}
		st = deltaState{Tenant: t.id, Epoch: epoch, Full: true, Snap: seq, Select: q.Get("$select"), Issued: now.Unix()}
	}
	s.writeDeltaPage(w, r, t, st, false)
}

// writeDeltaPage answers one page of a delta round.
func (s *Sim) writeDeltaPage(w http.ResponseWriter, r *http.Request, t *tenant, st deltaState, empty bool) {
	sel, err := parseSelect(st.Select)
	if err != nil {
		writeGraphError(w, r, http.StatusBadRequest, "BadRequest", err.Error())
		return
	}
	tracked := sel
	if len(tracked) == 0 {
		tracked = userProperties
	}
	page := []map[string]any{}
	more := false
	last := ""
	if !empty {
		s.mu.Lock()
		for _, id := range t.sortedIDs() {
			if id <= st.After {
				continue
			}
			item, ok := deltaItem(t.users[id], st, sel, tracked)
			if !ok {
				continue
			}
			if len(page) == s.cfg.pageSize {
				more = true
				break
			}
			page = append(page, item)
			last = id
		}
		s.mu.Unlock()
	}
	root := requestRoot(r)
	resp := map[string]any{
		"@odata.context": root + "/v1.0/$metadata#users" + selectSuffix(sel),
		"value":          page,
	}
	next := st
	if more {
		next.After = last
		resp["@odata.nextLink"] = root + "/v1.0/users/delta?" + url.Values{"$skiptoken": {encodeState(next)}}.Encode()
	} else {
		next = deltaState{Tenant: st.Tenant, Epoch: st.Epoch, Base: st.Snap, Select: st.Select, Issued: s.now().Unix()}
		resp["@odata.deltaLink"] = root + "/v1.0/users/delta?" + url.Values{"$deltatoken": {encodeState(next)}}.Encode()
	}
	writeJSON(w, http.StatusOK, resp)
}

// deltaItem decides whether a user belongs in a round and renders it.
func deltaItem(rec *userRecord, st deltaState, sel, tracked []string) (map[string]any, bool) {
	if st.Full {
		if !rec.live() {
			return nil, false
		}
		return withID(rec.user.render(sel), rec.user.ID), true
	}
	if !rec.live() {
		if rec.deleted <= st.Base || rec.created > st.Base {
			return nil, false
		}
		return map[string]any{"id": rec.user.ID, "@removed": map[string]any{"reason": rec.reason}}, true
	}
	if rec.created > st.Base {
		return withID(rec.user.render(sel), rec.user.ID), true
	}
	for _, p := range tracked {
		if rec.changed[p] > st.Base {
			return withID(rec.user.render(sel), rec.user.ID), true
		}
	}
	return nil, false
}

// withID makes sure a delta item names its user.
func withID(m map[string]any, id string) map[string]any {
	if _, ok := m["id"]; !ok {
		m["id"] = id
	}
	return m
}

// isDeltaPath reports whether a path segment names the delta function.
func isDeltaPath(seg string) bool {
	switch strings.ToLower(strings.TrimSuffix(seg, "()")) {
	case "delta", "microsoft.graph.delta":
		return true
	}
	return false
}
