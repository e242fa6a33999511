package halopsa

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/psasync/psasync/psa"
)

// maxPages stops a listing that never ends (a server ignoring page_no would
// otherwise loop a worker forever); at the default page size it is a million
// users in one client.
const maxPages = 10000

// userPage is the envelope of GET /api/Users with pageinate=true. Halo
// answers a bare array when pagination is off; both forms are accepted.
type userPage struct {
	RecordCount *int       `json:"record_count"`
	Users       []haloUser `json:"users"`
}

// UnmarshalJSON accepts the envelope or a bare array of users.
func (p *userPage) UnmarshalJSON(b []byte) error {
	if t := bytes.TrimSpace(b); len(t) > 0 && t[0] == '[' {
		p.RecordCount = nil
		return json.Unmarshal(t, &p.Users)
	}
	type plain userPage
	return json.Unmarshal(b, (*plain)(p))
}

// userPages yields the users of GET /api/Users page by page. It reads exactly
// ⌈record_count/page_size⌉ pages (one for an empty result); without a
// record_count it stops at the first short page.
func (c *Client) userPages(ctx context.Context, op string, query url.Values) iter.Seq2[[]haloUser, error] {
	return func(yield func([]haloUser, error) bool) {
		size := c.cfg.PageSize
		seen := 0
		for pageNo := 1; ; pageNo++ {
			if pageNo > c.maxPages {
				yield(nil, &psa.Error{Op: op, Kind: psa.ErrInvalid, Message: fmt.Sprintf("more than %d pages; stopping", c.maxPages)})
				return
			}
			q := url.Values{}
			for k, v := range query {
				q[k] = v
			}
			q.Set("pageinate", "true")
			q.Set("page_size", strconv.Itoa(size))
			q.Set("page_no", strconv.Itoa(pageNo))
			var p userPage
			if err := c.do(ctx, op, http.MethodGet, "/Users", q, nil, &p); err != nil {
				yield(nil, err)
				return
			}
			seen += len(p.Users)
			if !yield(p.Users, nil) {
				return
			}
			if len(p.Users) == 0 {
				return
			}
			if p.RecordCount != nil {
				if seen >= *p.RecordCount {
					return
				}
			} else if len(p.Users) < size {
				return
			}
		}
	}
}
