package cwsim

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
)

// project answers a list with only the properties the request's fields
// parameter names, as Manage does: "fields=id,company/id" keeps id and the
// id inside company. A name that is not a property of the record type is a
// 400, so a client asking for a misspelt field finds out. Without fields
// the list is answered whole.
func project[J any](r *http.Request, items []J) (int, any, *apiError) {
	raw := strings.TrimSpace(r.URL.Query().Get("fields"))
	if raw == "" {
		return http.StatusOK, items, nil
	}
	known := jsonNames(reflect.TypeFor[J]())
	var paths [][]string
	for _, f := range strings.Split(raw, ",") {
		f = strings.TrimSpace(f)
		seg := strings.Split(f, "/")
		if f == "" || !known[seg[0]] {
			return 0, nil, badRequest("fields: " + f + " is not a property of this record")
		}
		paths = append(paths, seg)
	}
	b, err := json.Marshal(items)
	if err != nil {
		return 0, nil, badRequest(err.Error())
	}
	var full []map[string]any
	if err := json.Unmarshal(b, &full); err != nil {
		return 0, nil, badRequest(err.Error())
	}
	out := make([]map[string]any, 0, len(full))
	for _, rec := range full {
		kept := map[string]any{}
		for _, p := range paths {
			keep(kept, rec, p)
		}
		out = append(out, kept)
	}
	return http.StatusOK, out, nil
}

// keep copies the value at path from src into dst, descending into objects
// and into every element of arrays.
func keep(dst, src map[string]any, path []string) {
	v, ok := src[path[0]]
	if !ok {
		return
	}
	if len(path) == 1 {
		dst[path[0]] = v
		return
	}
	switch v := v.(type) {
	case map[string]any:
		sub, _ := dst[path[0]].(map[string]any)
		if sub == nil {
			sub = map[string]any{}
			dst[path[0]] = sub
		}
		keep(sub, v, path[1:])
	case []any:
		subs, _ := dst[path[0]].([]any)
		if len(subs) != len(v) {
			subs = make([]any, len(v))
			for i := range subs {
				subs[i] = map[string]any{}
			}
			dst[path[0]] = subs
		}
		for i, el := range v {
			if m, ok := el.(map[string]any); ok {
				keep(subs[i].(map[string]any), m, path[1:])
			}
		}
	}
}

// jsonNames lists the JSON property names of a struct type.
func jsonNames(t reflect.Type) map[string]bool {
	out := map[string]bool{}
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out[name] = true
		}
	}
	return out
}
