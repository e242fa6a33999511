package graph

import (
	"context"
	"fmt"
	"time"

	"github.com/microsoftgraph/msgraph-sdk-go/models"

	"github.com/psasync/psasync/graph/directory"
)

// CreateSubscription creates a change-notification subscription. Graph
// first runs the validation handshake against NotificationURL (and
// LifecycleNotificationURL), so the webhook must be reachable. A duplicate
// gives directory.ErrConflict; a failed handshake gives ErrRequest.
func (c *Client) CreateSubscription(ctx context.Context, s directory.Subscription) (directory.Subscription, error) {
	op := "graph: create subscription on " + s.Resource
	body := models.NewSubscription()
	body.SetResource(&s.Resource)
	body.SetChangeType(&s.ChangeType)
	body.SetNotificationUrl(&s.NotificationURL)
	if s.LifecycleNotificationURL != "" {
		body.SetLifecycleNotificationUrl(&s.LifecycleNotificationURL)
	}
	if s.ClientState != "" {
		body.SetClientState(&s.ClientState)
	}
	exp := s.ExpirationDateTime.UTC()
	body.SetExpirationDateTime(&exp)
	created, err := c.subs().Post(ctx, body, nil)
	out, err := subscriptionAnswer(ctx, op, created, err)
	if err == nil && out.ClientState == "" {
		out.ClientState = s.ClientState
	}
	return out, err
}

// ListSubscriptions lists this app's subscriptions in the tenant.
func (c *Client) ListSubscriptions(ctx context.Context) ([]directory.Subscription, error) {
	const op = "graph: list subscriptions"
	resp, err := c.subs().Get(ctx, nil)
	var out []directory.Subscription
	for pages := 1; ; pages++ {
		if err != nil {
			return nil, classify(ctx, op, err)
		}
		if resp == nil {
			return nil, &Error{Op: op, Kind: directory.ErrUnavailable, Message: "empty response"}
		}
		for _, s := range resp.GetValue() {
			out = append(out, mapSubscription(s))
		}
		next := deref(resp.GetOdataNextLink())
		if next == "" {
			return out, nil
		}
		if pages >= c.opts.maxPages {
			return nil, fmt.Errorf("%s: still more pages after %d; stopping (max pages guard)", op, pages)
		}
		if lerr := c.checkLink(next); lerr != nil {
			return nil, fmt.Errorf("%s: %w", op, lerr)
		}
		resp, err = c.subs().WithUrl(next).Get(ctx, nil)
	}
}

// GetSubscription reads one subscription; an unknown id gives
// directory.ErrNotFound.
func (c *Client) GetSubscription(ctx context.Context, id string) (directory.Subscription, error) {
	op := "graph: get subscription " + id
	s, err := c.subs().BySubscriptionId(id).Get(ctx, nil)
	return subscriptionAnswer(ctx, op, s, err)
}

// RenewSubscription moves a subscription's expiry (a PATCH, which also
// reauthorizes it). A subscription Graph no longer knows gives
// directory.ErrNotFound: create a new one.
func (c *Client) RenewSubscription(ctx context.Context, id string, expiry time.Time) (directory.Subscription, error) {
	op := "graph: renew subscription " + id
	body := models.NewSubscription()
	exp := expiry.UTC()
	body.SetExpirationDateTime(&exp)
	s, err := c.subs().BySubscriptionId(id).Patch(ctx, body, nil)
	return subscriptionAnswer(ctx, op, s, err)
}

// subscriptionAnswer is the subscription a create, read or renewal
// answered: its error classified, an empty answer ErrUnavailable.
func subscriptionAnswer(ctx context.Context, op string, s models.Subscriptionable, err error) (directory.Subscription, error) {
	if err != nil {
		return directory.Subscription{}, classify(ctx, op, err)
	}
	if s == nil {
		return directory.Subscription{}, &Error{Op: op, Kind: directory.ErrUnavailable, Message: "empty response"}
	}
	return mapSubscription(s), nil
}

// DeleteSubscription deletes a subscription; an unknown id gives
// directory.ErrNotFound.
func (c *Client) DeleteSubscription(ctx context.Context, id string) error {
	if err := c.subs().BySubscriptionId(id).Delete(ctx, nil); err != nil {
		return classify(ctx, "graph: delete subscription "+id, err)
	}
	return nil
}

// ReauthorizeSubscription answers a reauthorizationRequired lifecycle event
// without changing the expiry.
func (c *Client) ReauthorizeSubscription(ctx context.Context, id string) error {
	if err := c.subs().BySubscriptionId(id).Reauthorize().Post(ctx, nil); err != nil {
		return classify(ctx, "graph: reauthorize subscription "+id, err)
	}
	return nil
}

// mapSubscription copies the SDK subscription into the plain model.
func mapSubscription(s models.Subscriptionable) directory.Subscription {
	out := directory.Subscription{
		ID:                       deref(s.GetId()),
		Resource:                 deref(s.GetResource()),
		ChangeType:               deref(s.GetChangeType()),
		NotificationURL:          deref(s.GetNotificationUrl()),
		LifecycleNotificationURL: deref(s.GetLifecycleNotificationUrl()),
		ClientState:              deref(s.GetClientState()),
	}
	if exp := s.GetExpirationDateTime(); exp != nil {
		out.ExpirationDateTime = exp.UTC()
	}
	return out
}
