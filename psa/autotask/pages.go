package autotask

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"

	"github.com/psasync/psasync/psa"
)

// maxPages stops a query whose nextPageUrl never ends (at 500 records a page,
// a million records).
const maxPages = 2000

// queryBody is the body of POST .../query. MaxRecords and IncludeFields are
// spelled as Autotask's documentation spells them; Autotask reads the keys
// case-insensitively.
type queryBody struct {
	MaxRecords    int      `json:"MaxRecords"`
	IncludeFields []string `json:"IncludeFields,omitempty"`
	Filter        []filter `json:"filter"`
}

// filter is one query condition; op "and"/"or" groups Items. The top-level
// filter list is ANDed.
type filter struct {
	Op    string   `json:"op"`
	Field string   `json:"field,omitempty"`
	Value any      `json:"value,omitempty"`
	UDF   bool     `json:"udf,omitempty"`
	Items []filter `json:"items,omitempty"`
}

// queryPage is a query answer.
type queryPage struct {
	Items       []json.RawMessage `json:"items"`
	PageDetails struct {
		Count        int    `json:"count"`
		RequestCount int    `json:"requestCount"`
		PrevPageURL  string `json:"prevPageUrl"`
		NextPageURL  string `json:"nextPageUrl"`
	} `json:"pageDetails"`
}

// query yields the raw items of every page of an entity query. Autotask's
// nextPageUrl (.../query/next?paging=...) only accepts the same POST body
// again; a GET answers 405. One page costs one request.
func (c *Client) query(ctx context.Context, op, entity string, body queryBody) iter.Seq2[json.RawMessage, error] {
	return func(yield func(json.RawMessage, error) bool) {
		next, err := c.endpoint(ctx, "V1.0/"+entity+"/query")
		if err != nil {
			yield(nil, err)
			return
		}
		seen := make(map[string]bool)
		for pages := 0; ; pages++ {
			if pages == maxPages {
				yield(nil, &psa.Error{Op: op, Kind: psa.ErrInvalid,
					Message: fmt.Sprintf("more than %d pages; stopped following nextPageUrl", maxPages)})
				return
			}
			var page queryPage
			if err := c.do(ctx, op, http.MethodPost, next, body, &page); err != nil {
				yield(nil, err)
				return
			}
			for _, it := range page.Items {
				if !yield(it, nil) {
					return
				}
			}
			if page.PageDetails.NextPageURL == "" {
				return
			}
			if seen[page.PageDetails.NextPageURL] {
				yield(nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "nextPageUrl repeats a page already read"})
				return
			}
			seen[page.PageDetails.NextPageURL] = true
			next, err = c.sameOrigin(ctx, page.PageDetails.NextPageURL)
			if err != nil {
				yield(nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: err})
				return
			}
		}
	}
}
