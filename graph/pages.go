package graph

import (
	"context"
	"encoding/json"
	"fmt"

	abs "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"

	"github.com/psasync/psasync/graph/directory"
)

// The bulk reads (/users and /users/delta pages, up to 999 users each) are
// decoded straight from Graph's JSON into psasync's own user type. They still
// go through the SDK's request adapter, so auth, retry and throttling
// middleware and the error mapping are the SDK's; only kiota's generic parse
// tree, which dominated a full reconcile's CPU, is skipped. Single reads,
// subscriptions and errors keep the SDK's models.

// userPage is one page of /users or /users/delta as Graph sends it.
type userPage struct {
	Value     []wireUser `json:"value"`
	NextLink  string     `json:"@odata.nextLink"`
	DeltaLink string     `json:"@odata.deltaLink"`
}

// wireUser is a user as Graph's JSON has it: the plain model's properties,
// with assignedLicenses as objects and the delta @removed annotation.
type wireUser struct {
	directory.User
	Licenses []struct {
		SkuID string `json:"skuId"`
	} `json:"assignedLicenses"`
	Removed *directory.Removed `json:"@removed"`
}

// user converts to the plain model, as mapUser does for SDK models.
func (w wireUser) user() directory.User {
	u := w.User
	u.AssignedLicenses = nil
	for _, l := range w.Licenses {
		if l.SkuID != "" {
			u.AssignedLicenses = append(u.AssignedLicenses, l.SkuID)
		}
	}
	u.Removed = w.Removed
	if len(u.ProxyAddresses) == 0 {
		u.ProxyAddresses = nil
	}
	if len(u.BusinessPhones) == 0 {
		u.BusinessPhones = nil
	}
	return u
}

// getPage sends one prepared GET and decodes the page.
func (c *Client) getPage(ctx context.Context, op string, info *abs.RequestInformation) (userPage, error) {
	var p userPage
	err := c.sendJSON(ctx, op, info, &p)
	return p, err
}

// sendJSON sends one prepared request through the SDK's adapter (auth,
// retry and throttling middleware) and decodes its JSON body into v
// lean, without kiota's parse tree; Graph's errors come back classified.
func (c *Client) sendJSON(ctx context.Context, op string, info *abs.RequestInformation, v any) error {
	errorMapping := abs.ErrorMappings{"XXX": odataerrors.CreateODataErrorFromDiscriminatorValue}
	res, err := c.adapter.SendPrimitive(ctx, info, "[]byte", errorMapping)
	if err != nil {
		return classify(ctx, op, err)
	}
	raw, _ := res.([]byte)
	if len(raw) == 0 {
		return &Error{Op: op, Kind: directory.ErrUnavailable, Message: "empty response"}
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return &Error{Op: op, Kind: directory.ErrUnavailable, Message: fmt.Sprintf("undecodable answer (%d bytes): %v", len(raw), err)}
	}
	return nil
}
