package graph

import (
	"context"
	"fmt"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"github.com/psasync/psasync/graph/directory"
)

// Delta runs one complete /users/delta round. An empty deltaLink starts a
// full enumeration (every current user, $select=directory.SelectProperties);
// otherwise only users changed since that link come back, removed ones with
// User.Removed set. It follows @odata.nextLink until Graph hands out the
// @odata.deltaLink to store for next time.
//
// An expired or foreign link gives directory.ErrDeltaExpired: start over
// with an empty link.
func (c *Client) Delta(ctx context.Context, deltaLink string) (directory.DeltaResult, error) {
	const op = "graph: users delta"
	var info *abs.RequestInformation
	var err error
	if deltaLink == "" {
		info, err = c.users().Delta().ToGetRequestInformation(ctx, &users.DeltaRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.DeltaRequestBuilderGetQueryParameters{Select: directory.SelectProperties},
		})
	} else {
		if lerr := c.checkLink(deltaLink); lerr != nil {
			return directory.DeltaResult{}, &Error{Op: op, Kind: directory.ErrDeltaExpired, Message: lerr.Error()}
		}
		info, err = c.users().Delta().WithUrl(deltaLink).ToGetRequestInformation(ctx, nil)
	}
	var out directory.DeltaResult
	for pages := 1; ; pages++ {
		if err != nil {
			return directory.DeltaResult{}, classify(ctx, op, err)
		}
		page, perr := c.getPage(ctx, op, info)
		if perr != nil {
			return directory.DeltaResult{}, perr
		}
		for _, w := range page.Value {
			out.Users = append(out.Users, w.user())
		}
		if page.DeltaLink != "" {
			out.DeltaLink = page.DeltaLink
			c.log.WithFields(map[string]any{"pages": pages, "users": len(out.Users), "full": deltaLink == ""}).Debug("graph: delta round done")
			return out, nil
		}
		if page.NextLink == "" {
			return directory.DeltaResult{}, &Error{Op: op, Kind: directory.ErrUnavailable, Message: "page has neither @odata.nextLink nor @odata.deltaLink"}
		}
		if pages >= c.opts.maxPages {
			return directory.DeltaResult{}, fmt.Errorf("%s: still more pages after %d; stopping (max pages guard)", op, pages)
		}
		if lerr := c.checkLink(page.NextLink); lerr != nil {
			return directory.DeltaResult{}, fmt.Errorf("%s: %w", op, lerr)
		}
		info, err = c.users().Delta().WithUrl(page.NextLink).ToGetRequestInformation(ctx, nil)
	}
}
