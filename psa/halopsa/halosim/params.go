package halosim

import (
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

func parseListParams(q url.Values) (listParams, error) {
	var p listParams
	var err error
	if p.paginate, err = boolParam(q, "pageinate", false); err != nil {
		return p, err
	}
	if p.pageSize, err = intParam(q, "page_size", defaultPageSize); err != nil {
		return p, err
	}
	if p.pageNo, err = intParam(q, "page_no", 1); err != nil {
		return p, err
	}
	if p.count, err = intParam(q, "count", 0); err != nil {
		return p, err
	}
	if p.includeActive, err = boolParam(q, "includeactive", true); err != nil {
		return p, err
	}
	if p.includeInactive, err = boolParam(q, "includeinactive", false); err != nil {
		return p, err
	}
	if p.pageSize < 1 || p.pageNo < 1 || p.count < 0 {
		return p, badf("page_size and page_no must be at least 1")
	}
	return p, nil
}

// page cuts one page (or the first count records) out of all.
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

// answerByID answers GET /api/{resource}/{id}: 400 for an id that is not
// a number, 404 with notFound (formatted with the id) when find, called
// with mu held, has nothing.
func (s *Sim) answerByID(w http.ResponseWriter, rawID, notFound string, find func(id int) (any, bool)) {
	id, err := strconv.Atoi(rawID)
	if err != nil {
		writeText(w, http.StatusBadRequest, fmt.Sprintf("The value '%s' is not valid.", rawID))
		return
	}
	s.mu.Lock()
	out, ok := find(id)
	s.mu.Unlock()
	if !ok {
		writeText(w, http.StatusNotFound, fmt.Sprintf(notFound, id))
		return
	}
	s.meter.Read()
	writeJSON(w, http.StatusOK, out)
}

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

func boolParam(q url.Values, key string, def bool) (bool, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, badf("The value '%s' is not valid for %s.", v, key)
	}
	return b, nil
}

func intParam(q url.Values, key string, def int) (int, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, badf("The value '%s' is not valid for %s.", v, key)
	}
	return n, nil
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
