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
	return queryParam(q, key, def, strconv.ParseBool)
}

func intParam(q url.Values, key string, def int) (int, error) {
	return queryParam(q, key, def, strconv.Atoi)
}

// queryParam reads an optional query parameter with parse; def when it is
// absent.
func queryParam[T any](q url.Values, key string, def T, parse func(string) (T, error)) (T, error) {
	v := q.Get(key)
	if v == "" {
		return def, nil
	}
	x, err := parse(v)
	if err != nil {
		var zero T
		return zero, badf("The value '%s' is not valid for %s.", v, key)
	}
	return x, nil
}

// decodeItems reads the body of a POST that creates or updates records:
// a JSON array of what (clients, users) with at least one item.
func decodeItems(body []byte, what string) ([]map[string]json.RawMessage, error) {
	var items []map[string]json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&items); err != nil {
		return nil, badf("The request body must be a JSON array of %s: %v", what, err)
	}
	if len(items) == 0 {
		return nil, badf("No %s were supplied", what)
	}
	return items, nil
}

// stageItems builds the record each item asks for with stage (which sees
// the records staged before it) without storing any, so that a POST stores
// all or nothing. With several items an error names the one that failed.
func stageItems[T any](items []map[string]json.RawMessage, stage func(item map[string]json.RawMessage, staged []T) (T, int, error)) ([]T, int, error) {
	staged := make([]T, 0, len(items))
	for i, item := range items {
		rec, status, err := stage(item, staged)
		if err != nil {
			if len(items) > 1 {
				err = badf("Item %d: %s", i, err.Error())
			}
			return nil, status, err
		}
		staged = append(staged, rec)
	}
	return staged, http.StatusOK, nil
}

// writeSaved answers a POST with what it saved: the record itself for one
// item, an array for several.
func writeSaved[T any](w http.ResponseWriter, saved []T) {
	if len(saved) == 1 {
		writeJSON(w, http.StatusOK, saved[0])
		return
	}
	writeJSON(w, http.StatusOK, saved)
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
