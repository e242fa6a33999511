package atsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
)

// pagingState is the paging parameter of a nextPageUrl, in the form Autotask
// uses: {"pageSize":500,"previousIds":[-1],"nextIds":[725]}.
type pagingState struct {
	PageSize    int     `json:"pageSize"`
	PreviousIDs []int64 `json:"previousIds"`
	NextIDs     []int64 `json:"nextIds"`
}

// queryPage is one answer of the query engine.
type queryPage struct {
	Items       []map[string]any `json:"items"`
	PageDetails pageDetails      `json:"pageDetails"`
}

type pageDetails struct {
	Count        int     `json:"count"`
	RequestCount int     `json:"requestCount"`
	PrevPageURL  *string `json:"prevPageUrl"`
	NextPageURL  *string `json:"nextPageUrl"`
}

// runQuery filters records, orders them by id and cuts the page that paging
// (nil for the first page) points at; render turns a record of the page into
// its wire form. queryURL is the entity's query URL that next and previous
// links extend; search, when not empty, is carried in the links (queries
// that came as GET ...?search=).
func runQuery(recs []record, q queryModel, paging *pagingState, def entityDef, render func(record) map[string]any, queryURL, search string) (queryPage, error) {
	var matched []record
	for _, r := range recs {
		if matches(r, q.Filter, def) {
			matched = append(matched, r)
		}
	}
	slices.SortFunc(matched, func(a, b record) int { return cmp.Compare(a.id, b.id) })

	size := MaxRecords
	if q.MaxRecords != nil {
		size = *q.MaxRecords
	}
	var previous []int64
	start := int64(-1)
	if paging != nil {
		if paging.PageSize < 1 || paging.PageSize > MaxRecords || len(paging.NextIDs) == 0 {
			return queryPage{}, fmt.Errorf("The paging parameter is not valid")
		}
		size = paging.PageSize
		previous = paging.PreviousIDs
		start = paging.NextIDs[0]
	}
	if len(q.IncludeFields) > 0 && len(matched) > size && !containsFold(q.IncludeFields, "id") {
		return queryPage{}, fmt.Errorf("For search results that contain more than %d results, you must include Id as a field", size)
	}
	from := sort.Search(len(matched), func(i int) bool { return matched[i].id >= start })
	to := min(from+size, len(matched))

	page := queryPage{
		Items:       make([]map[string]any, 0, to-from),
		PageDetails: pageDetails{Count: to - from, RequestCount: size},
	}
	for _, r := range matched[from:to] {
		page.Items = append(page.Items, project(render(r), q.IncludeFields, def))
	}
	if to < len(matched) {
		next := pagingState{PageSize: size, PreviousIDs: append(append([]int64{}, previous...), start), NextIDs: []int64{matched[to].id}}
		u := pageURL(queryURL, next, search)
		page.PageDetails.NextPageURL = &u
	}
	if n := len(previous); n > 0 {
		prev := pagingState{PageSize: size, PreviousIDs: append([]int64{}, previous[:n-1]...), NextIDs: []int64{previous[n-1]}}
		u := pageURL(queryURL, prev, search)
		page.PageDetails.PrevPageURL = &u
	}
	return page, nil
}

func pageURL(queryURL string, p pagingState, search string) string {
	if p.PreviousIDs == nil {
		p.PreviousIDs = []int64{}
	}
	b, _ := json.Marshal(p)
	u := queryURL + "/next?paging=" + url.QueryEscape(string(b))
	if search != "" {
		u += "&search=" + url.QueryEscape(search)
	}
	return u
}
