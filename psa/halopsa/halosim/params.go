package halosim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// listParams are Halo's common list query parameters.
type listParams struct {
	paginate        bool
	pageSize        int
	pageNo          int
	count           int
	includeActive   bool
	includeInactive bool
}

// queryReader reads a request's optional query parameters, keeping the
// first refusal: Halo answers 400 naming the first value it cannot read.
type queryReader struct {
	q   url.Values
	err error
}

// list reads Halo's common list parameters.
func (r *queryReader) list() listParams {
	p := listParams{
		paginate:        r.flag("pageinate", false),
		pageSize:        r.number("page_size", defaultPageSize),
		pageNo:          r.number("page_no", 1),
		count:           r.number("count", 0),
		includeActive:   r.flag("includeactive", true),
		includeInactive: r.flag("includeinactive", false),
	}
	if r.err == nil && (p.pageSize < 1 || p.pageNo < 1 || p.count < 0) {
		r.err = badf("page_size and page_no must be at least 1")
	}
	return p
}

func (r *queryReader) flag(key string, def bool) bool {
	return readParam(r, key, def, strconv.ParseBool)
}

func (r *queryReader) number(key string, def int) int {
	return readParam(r, key, def, strconv.Atoi)
}

// readParam reads an optional query parameter with parse: def when it is
// absent, or when an earlier one was refused.
func readParam[T any](r *queryReader, key string, def T, parse func(string) (T, error)) T {
	v := r.q.Get(key)
	if v == "" || r.err != nil {
		return def
	}
	x, err := parse(v)
	if err != nil {
		r.err = badf("The value '%s' is not valid for %s.", v, key)
		return def
	}
	return x
}

// shows reports whether a list includes a record that is inactive or not
// (includeactive, includeinactive).
func (p listParams) shows(inactive bool) bool {
	if inactive {
		return p.includeInactive
	}
	return p.includeActive
}

// listMeta is the part of a Halo list envelope that says what the page is.
type listMeta struct {
	PageNo      int `json:"page_no,omitempty"`
	PageSize    int `json:"page_size,omitempty"`
	RecordCount int `json:"record_count"`
}

// pageOf sorts all by id and cuts out the requested page, never nil (Halo
// answers an empty page as []), with the envelope fields that describe it.
func pageOf[T any](p listParams, all []T, id func(T) int) (listMeta, []T) {
	slices.SortFunc(all, func(a, b T) int { return id(a) - id(b) })
	meta := listMeta{RecordCount: len(all)}
	if p.paginate {
		meta.PageNo, meta.PageSize = p.pageNo, p.pageSize
	}
	items := page(p, all)
	if items == nil {
		items = []T{}
	}
	return meta, items
}

// answerByID answers GET /api/{resource}/{id} from table: 400 for an id
// that is not a number, 404 with notFound (formatted with the id) when the
// table has no such record, else the record as render (called with mu
// held) makes it.
func answerByID[T, J any](s *Sim, w http.ResponseWriter, rawID, notFound string, table map[int]*T, render func(*T) J) {
	id, err := strconv.Atoi(rawID)
	if err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("The value '%s' is not valid.", rawID))
		return
	}
	s.mu.Lock()
	rec, ok := table[id]
	var out J
	if ok {
		out = render(rec)
	}
	s.mu.Unlock()
	if !ok {
		writeText(w, http.StatusNotFound, fmt.Sprintf(notFound, id))
		return
	}
	s.meter.Read()
	writeJSON(w, http.StatusOK, out)
}

// page cuts one page (or the first count records) out of all.
func page[T any](p listParams, all []T) []T {
	if !p.paginate {
		if p.count > 0 && p.count < len(all) {
			return all[:p.count]
		}
		return all
	}
	start := (p.pageNo - 1) * p.pageSize
	if start >= len(all) {
		return nil
	}
	return all[start:min(start+p.pageSize, len(all))]
}

// postItems answers a POST of a JSON array of what (clients, users), as
// Halo creates and updates records: every item is staged (stage sees the
// items staged before it), and only when all pass are they stored, in order,
// then rendered for the answer: the one record, or an array for several.
// With several items an error names the one that failed.
func postItems[T, J any](s *Sim, w http.ResponseWriter, body []byte, what string,
	stage func(item map[string]json.RawMessage, staged []T) (T, int, error), store func(T), render func(T) J) {
	var items []map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&items); err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("The request body must be a JSON array of %s: %v", what, err))
		return
	}
	if len(items) == 0 {
		writeText(w, http.StatusBadRequest, "No "+what+" were supplied")
		return
	}
	s.mu.Lock()
	staged := make([]T, 0, len(items))
	for i, item := range items {
		rec, status, err := stage(item, staged)
		if err != nil {
			s.mu.Unlock()
			msg := err.Error()
			if len(items) > 1 {
				msg = fmt.Sprintf("Item %d: %s", i, msg)
			}
			writeText(w, status, msg)
			return
		}
		staged = append(staged, rec)
	}
	for _, rec := range staged {
		store(rec)
	}
	out := make([]J, 0, len(staged))
	for _, rec := range staged {
		out = append(out, render(rec))
	}
	s.mu.Unlock()
	s.meter.Write()
	if len(out) == 1 {
		writeJSON(w, http.StatusOK, out[0])
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// rawString reads an optional string property (null counts as "").
func rawString(item map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := item[key]
	if !ok {
		return "", false, nil
	}
	if string(raw) == "null" {
		return "", true, nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, badf("Error converting value %s to type 'String'. Path '%s'.", raw, key)
	}
	return v, true, nil
}

// rawBool reads an optional boolean property (null counts as false).
func rawBool(item map[string]json.RawMessage, key string) (bool, bool, error) {
	raw, ok := item[key]
	if !ok {
		return false, false, nil
	}
	if string(raw) == "null" {
		return false, true, nil
	}
	var v bool
	if err := json.Unmarshal(raw, &v); err != nil {
		return false, false, badf("Error converting value %s to type 'Boolean'. Path '%s'.", raw, key)
	}
	return v, true, nil
}

// rawInt reads an optional integer property; Halo declares some ids (site_id)
// as doubles, so integral numbers in any JSON form are accepted.
func rawInt(item map[string]json.RawMessage, key string) (int, error) {
	raw, ok := item[key]
	if !ok || string(raw) == "null" {
		return 0, nil
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || f != math.Trunc(f) || f < 0 || f > math.MaxInt32 {
		return 0, badf("Error converting value %s to type 'Int32'. Path '%s'.", raw, key)
	}
	return int(f), nil
}

// scalarText renders a custom field value (string, number, bool or null).
func scalarText(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", err
	}
	switch x := v.(type) {
	case string:
		return x, nil
	case float64, bool:
		return strings.TrimSpace(string(raw)), nil
	default:
		return "", fmt.Errorf("value must be a string, number or boolean")
	}
}
