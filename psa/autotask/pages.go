package autotask

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strconv"

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

// query yields every item of an entity query, decoded as T (an item that
// does not decode ends the iteration with psa.ErrInvalid). Autotask's
// nextPageUrl (.../query/next?paging=...) only accepts the same POST body
// again; a GET answers 405. One page costs one request.
func query[T any](ctx context.Context, c *Client, op, entity string, body queryBody) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		next, err := c.endpoint(ctx, "V1.0/"+entity+"/query")
		if err != nil {
			yield(zero, err)
			return
		}
		seen := make(map[string]bool)
		for pages := 0; ; pages++ {
			if pages == maxPages {
				yield(zero, &psa.Error{Op: op, Kind: psa.ErrInvalid,
					Message: fmt.Sprintf("more than %d pages; stopped following nextPageUrl", maxPages)})
				return
			}
			var page queryPage
			if err := c.do(ctx, op, http.MethodPost, next, body, &page); err != nil {
				yield(zero, err)
				return
			}
			for _, raw := range page.Items {
				it, err := decodeItem[T](op, entity, raw)
				if !yield(it, err) || err != nil {
					return
				}
			}
			if page.PageDetails.NextPageURL == "" {
				return
			}
			if seen[page.PageDetails.NextPageURL] {
				yield(zero, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: "nextPageUrl repeats a page already read"})
				return
			}
			seen[page.PageDetails.NextPageURL] = true
			next, err = c.sameOrigin(ctx, page.PageDetails.NextPageURL)
			if err != nil {
				yield(zero, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: err})
				return
			}
		}
	}
}

// getItem reads one record with GET {entity}/{id}. Autotask answers an
// unknown id with {"item":null}; that and a 404 are psa.ErrNotFound.
func getItem[T any](ctx context.Context, c *Client, op, entity string, id int64) (T, error) {
	var zero T
	u, err := c.endpoint(ctx, "V1.0/"+entity+"/"+strconv.FormatInt(id, 10))
	if err != nil {
		return zero, err
	}
	var ans struct {
		Item json.RawMessage `json:"item"`
	}
	if err := c.do(ctx, op, http.MethodGet, u, nil, &ans); err != nil {
		return zero, err
	}
	if len(ans.Item) == 0 || string(ans.Item) == "null" {
		return zero, &psa.Error{Op: op, Kind: psa.ErrNotFound, StatusCode: http.StatusOK, Message: "Autotask answered item null"}
	}
	return decodeItem[T](op, entity, ans.Item)
}

// decodeItem reads one item of entity (a query item or a GET's item).
func decodeItem[T any](op, entity string, raw json.RawMessage) (T, error) {
	var it T
	if err := json.Unmarshal(raw, &it); err != nil {
		var zero T
		return zero, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: fmt.Errorf("decode %s item: %w", entity, err)}
	}
	return it, nil
}
