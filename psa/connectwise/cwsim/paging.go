package cwsim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// paging is a list request's paging: Manage's navigable style (page=N,
// Link with first/prev/next/last) or forward-only style (request header
// "pagination-type: forward-only", pageId=<last id seen>, Link with next
// only, treated as an extra "id > pageId" condition).
type paging struct {
	size, page, pageID int
	forward            bool
}

// parsePaging reads pageSize, page, pageId and the pagination-type header.
func parsePaging(r *http.Request) (paging, *apiError) {
	q := r.URL.Query()
	p := paging{size: defaultPageSize, page: 1}
	for _, f := range []struct {
		name string
		dst  *int
		min  int
	}{{"pageSize", &p.size, 1}, {"page", &p.page, 1}, {"pageId", &p.pageID, 0}} {
		v := q.Get(f.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < f.min {
			return p, badRequest(fmt.Sprintf("%s must be a whole number of at least %d, got %q", f.name, f.min, v))
		}
		*f.dst = n
	}
	if p.size > MaxPageSize {
		p.size = MaxPageSize
	}
	switch t := strings.ToLower(strings.TrimSpace(r.Header.Get("pagination-type"))); t {
	case "", "navigable":
	case "forward-only":
		p.forward = true
	default:
		return p, badRequest(fmt.Sprintf("unknown pagination-type %q", t))
	}
	return p, nil
}

// paginate cuts one page out of items (ordered by id) and sets the Link
// header announcing the next page, if there is one.
func paginate[T any](w http.ResponseWriter, r *http.Request, items []T, idOf func(T) int, p paging) []T {
	if p.forward {
		start := 0
		for start < len(items) && idOf(items[start]) <= p.pageID {
			start++
		}
		end := min(start+p.size, len(items))
		page := items[start:end]
		if end < len(items) {
			w.Header().Set("Link", linkTo(r, map[string]string{"pageId": strconv.Itoa(idOf(items[end-1]))}, "page")+`; rel="next"`)
		} else {
			// Manage keeps the header on the last forward-only page, empty.
			w.Header()["Link"] = []string{""}
		}
		return page
	}
	start := min((p.page-1)*p.size, len(items))
	end := min(start+p.size, len(items))
	var links []string
	if p.page > 1 {
		links = append(links,
			linkTo(r, map[string]string{"page": "1"}, "pageId")+`; rel="first"`,
			linkTo(r, map[string]string{"page": strconv.Itoa(p.page - 1)}, "pageId")+`; rel="prev"`)
	}
	if end < len(items) {
		last := (len(items) + p.size - 1) / p.size
		links = append(links,
			linkTo(r, map[string]string{"page": strconv.Itoa(p.page + 1)}, "pageId")+`; rel="next"`,
			linkTo(r, map[string]string{"page": strconv.Itoa(last)}, "pageId")+`; rel="last"`)
	}
	if len(links) > 0 {
		w.Header().Set("Link", strings.Join(links, ", "))
	}
	return items[start:end]
}

// linkTo is "<url>" for the request's own URL with set applied and drop
// removed from the query.
func linkTo(r *http.Request, set map[string]string, drop string) string {
	q := r.URL.Query()
	q.Del(drop)
	for k, v := range set {
		q.Set(k, v)
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: r.URL.Path, RawQuery: q.Encode()}
	return "<" + u.String() + ">"
}
