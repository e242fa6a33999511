package connectwise

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"

	"github.com/psasync/psasync/psa"
)

// listAll walks a list endpoint page by page with forward-only paging,
// following the Link header's rel="next" until there is none. It stops with
// an error after maxPages pages or when a next link repeats or leaves the
// site (credentials are only ever sent to the configured site). Stopping
// the iteration early costs no further reads.
func listAll[T any](ctx context.Context, c *Client, op string, first *url.URL) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		seen := map[string]bool{}
		next := first
		for pages := 0; next != nil; pages++ {
			if pages == c.maxPages {
				yield(zero, &psa.Error{Op: op, Kind: psa.ErrInvalid,
					Err: fmt.Errorf("stopped after %d pages: the site keeps announcing a next page", c.maxPages)})
				return
			}
			seen[next.String()] = true
			var items []T
			h, err := c.do(ctx, request{op: op, method: http.MethodGet, url: next, out: &items, paged: true})
			if err != nil {
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			next, err = c.nextPage(h, next)
			if err == nil && next != nil && seen[next.String()] {
				err = fmt.Errorf("the next page link repeats %s", next.Redacted())
			}
			if err != nil {
				yield(zero, &psa.Error{Op: op, Kind: psa.ErrInvalid, Err: err})
				return
			}
		}
	}
}

// nextPage returns the rel="next" URL of a Link header, or nil on the last
// page. Only the link's path and query are used: the request goes to the
// configured site's scheme and host whatever host the link names (a site
// behind a load balancer may name an internal server), so credentials are
// never sent elsewhere. The path must stay below the API base.
func (c *Client) nextPage(h http.Header, current *url.URL) (*url.URL, error) {
	var raw string
	for _, v := range h.Values("Link") {
		if raw = linkNext(v); raw != "" {
			break
		}
	}
	if raw == "" {
		return nil, nil
	}
	u, err := current.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("unreadable next page link: %w", err)
	}
	if !strings.HasPrefix(u.Path, c.base.Path+"/") {
		return nil, fmt.Errorf("the next page link %q leaves the API path %s", u.Path, c.base.Path)
	}
	next := *c.base
	next.Path, next.RawPath, next.RawQuery = u.Path, u.RawPath, u.RawQuery
	return &next, nil
}

// linkNext extracts the target of rel="next" from an RFC 8288 Link header
// value such as `<https://x/a?pageId=9>; rel="next", <...>; rel="last"`.
func linkNext(header string) string {
	rest := header
	for {
		open := strings.IndexByte(rest, '<')
		if open < 0 {
			return ""
		}
		end := strings.IndexByte(rest[open:], '>')
		if end < 0 {
			return ""
		}
		target := rest[open+1 : open+end]
		rest = rest[open+end+1:]
		params := rest
		if i := strings.IndexByte(rest, '<'); i >= 0 {
			params = rest[:i]
		}
		for _, p := range strings.Split(params, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(strings.TrimRight(strings.TrimSpace(p), ",")), "=")
			if !ok || !strings.EqualFold(strings.TrimSpace(k), "rel") {
				continue
			}
			for _, rel := range strings.Fields(strings.Trim(strings.TrimSpace(v), `"`)) {
				if strings.EqualFold(rel, "next") {
					return target
				}
			}
		}
	}
}
