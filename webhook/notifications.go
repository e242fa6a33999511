package webhook

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// Bounds on what one notification POST can make the server do.
const (
	// maxSubscriptionsPerRequest caps distinct subscription lookups per
	// POST; Graph batches by subscription, so only a forged body names more.
	// Items past the cap are rejected as too_many_subscriptions.
	maxSubscriptionsPerRequest = 100
	// maxIDLength bounds subscription and user ids (Graph's are GUIDs).
	maxIDLength = 128
	// maxValidationTokenLength bounds the echoed handshake token.
	maxValidationTokenLength = 8 << 10
)

// collectionShapeMessage is the 400 text for a body that is not a
// notification collection; the decoder's own words stay in the logs.
const collectionShapeMessage = `body must be a JSON object with a "value" array`

// notificationCollection is the body Graph POSTs: {"value":[...]}. Other
// top-level fields (validationTokens of rich notifications) are ignored.
type notificationCollection struct {
	Value []notificationItem `json:"value"`
}

// notificationItem is one element of value, for change and lifecycle
// notifications alike. An element that is not an object or has a field of
// the wrong JSON type decodes as malformed instead of failing the batch, so
// one bad item cannot make Graph redeliver the good ones forever.
type notificationItem struct {
	SubscriptionID string
	// ClientState is nil when clientState is null or absent.
	ClientState    *string
	TenantID       string
	ChangeType     string
	Resource       string
	ResourceDataID string
	LifecycleEvent string
	Malformed      bool
}

// notificationItemJSON is the wire form; sequenceNumber, eventTime and the
// rest of resourceData are not read, so their varying types do not matter.
type notificationItemJSON struct {
	SubscriptionID string  `json:"subscriptionId"`
	ClientState    *string `json:"clientState"`
	TenantID       string  `json:"tenantId"`
	ChangeType     string  `json:"changeType"`
	Resource       string  `json:"resource"`
	ResourceData   *struct {
		ID string `json:"id"`
	} `json:"resourceData"`
	LifecycleEvent string `json:"lifecycleEvent"`
}

// UnmarshalJSON decodes one item and never fails: a bad item is marked
// Malformed and dropped later with that reason.
func (it *notificationItem) UnmarshalJSON(b []byte) error {
	var w notificationItemJSON
	if bytes.Equal(b, []byte("null")) || json.Unmarshal(b, &w) != nil {
		*it = notificationItem{Malformed: true}
		return nil
	}
	*it = w.item()
	return nil
}

// item converts the wire form. A null element decodes (in the one-pass
// path) as a zero item, which fails as malformed for its empty
// subscriptionId.
func (w *notificationItemJSON) item() notificationItem {
	it := notificationItem{
		SubscriptionID: w.SubscriptionID,
		ClientState:    w.ClientState,
		TenantID:       w.TenantID,
		ChangeType:     w.ChangeType,
		Resource:       w.Resource,
		LifecycleEvent: w.LifecycleEvent,
	}
	if w.ResourceData != nil {
		it.ResourceDataID = w.ResourceData.ID
	}
	return it
}

// parseNotifications decodes a notification collection. Invalid JSON, a
// non-object body and a missing or null value are errors (400); bad items
// inside a valid collection are not. The common case decodes in one pass;
// only a collection with a mistyped item is decoded again item by item.
func parseNotifications(body []byte) ([]notificationItem, error) {
	var fast struct {
		Value []notificationItemJSON `json:"value"`
	}
	err := json.Unmarshal(body, &fast)
	if err == nil {
		if fast.Value == nil {
			return nil, fmt.Errorf("decode notifications: missing value: %w", &RequestError{Message: collectionShapeMessage})
		}
		items := make([]notificationItem, len(fast.Value))
		for i := range fast.Value {
			items[i] = fast.Value[i].item()
		}
		return items, nil
	}
	var typeErr *json.UnmarshalTypeError
	if !errors.As(err, &typeErr) {
		return nil, fmt.Errorf("decode notifications: %w: %w", &RequestError{Message: collectionShapeMessage}, err)
	}
	var coll notificationCollection
	if err := json.Unmarshal(body, &coll); err != nil {
		return nil, fmt.Errorf("decode notifications: %w: %w", &RequestError{Message: collectionShapeMessage}, err)
	}
	if coll.Value == nil {
		return nil, fmt.Errorf("decode notifications: missing value: %w", &RequestError{Message: collectionShapeMessage})
	}
	return coll.Value, nil
}

// answerHandshake answers Graph's validation request (a POST with
// ?validationToken=) and reports whether it did. The token goes back
// URL-decoded and verbatim as text/plain with nosniff and a sandboxing CSP,
// so it can never be rendered as HTML. The body is not read.
func (s *Server) answerHandshake(c *gin.Context, e endpoint) bool {
	raw := c.Request.URL.RawQuery
	if raw == "" {
		return false
	}
	query, parseErr := url.ParseQuery(raw)
	tokens, ok := query["validationToken"]
	if !ok {
		if parseErr != nil {
			s.writeError(c, fmt.Errorf("handshake: %w: %w", &RequestError{Message: "malformed query string"}, parseErr))
			return true
		}
		return false
	}
	if len(tokens) != 1 || tokens[0] == "" || len(tokens[0]) > maxValidationTokenLength {
		s.writeError(c, &RequestError{Message: "validationToken must be one non-empty value"})
		return true
	}
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/plain; charset=utf-8", []byte(tokens[0]))
	s.metrics.handshakes[e].Inc()
	return true
}

// handleNotifications serves POST /webhook/graph: the handshake, or a
// change notification collection. Graph allows a subscription's
// lifecycleNotificationUrl to equal its notificationUrl, so items carrying a
// lifecycleEvent are handled here too, as on the lifecycle route.
func (s *Server) handleNotifications(c *gin.Context) {
	s.handleCollection(c, endpointNotifications)
}

// handleCollection is the shared flow of both notification routes:
// authenticate every item, enqueue the accepted user changes in one call
// and the accepted lifecycle events in one call (Graph does not mix the two
// kinds in one POST, so normally only one call happens), then answer 202.
// Any failure of the store or the queue is a 503 so Graph delivers the whole
// POST again; the Enqueuer must therefore take duplicates in its stride.
func (s *Server) handleCollection(c *gin.Context, e endpoint) {
	if s.answerHandshake(c, e) {
		return
	}
	items, ok := s.readNotifications(c)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.HandlerTimeout)
	defer cancel()

	acc, err := s.acceptItems(ctx, e, items)
	if err != nil {
		s.metrics.lookupFailures[e].Inc()
		s.writeError(c, err)
		return
	}
	if len(acc.changes) > 0 {
		if err := s.cfg.Enqueuer.EnqueueUserChanges(ctx, acc.changes); err != nil {
			s.metrics.enqueueFailures[e].Inc()
			s.writeError(c, &dependencyError{op: fmt.Sprintf("webhook: enqueue %d user changes", len(acc.changes)), err: err})
			return
		}
	}
	if len(acc.events) > 0 {
		if err := s.cfg.Enqueuer.EnqueueLifecycle(ctx, acc.events); err != nil {
			s.metrics.enqueueFailures[e].Inc()
			s.writeError(c, &dependencyError{op: fmt.Sprintf("webhook: enqueue %d lifecycle events", len(acc.events)), err: err})
			return
		}
	}
	s.metrics.record(e, len(acc.changes)+len(acc.events), &acc.rejected)
	c.Status(http.StatusAccepted)
}

// readNotifications reads and parses a collection body, answering the
// error itself when it fails.
func (s *Server) readNotifications(c *gin.Context) ([]notificationItem, bool) {
	buf, err := s.readJSONBody(c, false)
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	items, err := parseNotifications(buf.Bytes())
	s.releaseBody(buf)
	if err != nil {
		s.writeError(c, err)
		return nil, false
	}
	return items, true
}

// acceptedItems is what one POST yields for the Enqueuer, plus the count of
// rejected items by reason.
type acceptedItems struct {
	changes  []UserChange
	events   []LifecycleEvent
	rejected tally
}

// acceptItems authenticates every item and keeps, in order, the user
// changes and lifecycle events that pass. On the lifecycle route every item
// is a lifecycle item; on the notifications route an item is one when it
// carries a lifecycleEvent. Only a lookup failure is an error.
func (s *Server) acceptItems(ctx context.Context, e endpoint, items []notificationItem) (acceptedItems, error) {
	var (
		acc   acceptedItems
		cache subscriptionCache
	)
	for i := range items {
		it := &items[i]
		sub, reason, ok, err := s.authenticate(ctx, it, &cache)
		if err != nil {
			return acceptedItems{}, err
		}
		if !ok {
			acc.rejected[reason]++
			continue
		}
		if e == endpointLifecycle || it.LifecycleEvent != "" {
			ev, ok := lifecycleEventFrom(it, sub)
			if !ok {
				acc.rejected[reasonUnknownLifecycleEvent]++
				continue
			}
			acc.events = append(acc.events, ev)
			continue
		}
		change, reason, ok := userChangeFrom(it, sub)
		if !ok {
			acc.rejected[reason]++
			continue
		}
		if acc.changes == nil {
			acc.changes = make([]UserChange, 0, len(items)-i)
		}
		acc.changes = append(acc.changes, change)
	}
	return acc, nil
}

// userChangeFrom turns an authenticated item into a UserChange, or says why
// it cannot.
func userChangeFrom(it *notificationItem, sub Subscription) (UserChange, rejectReason, bool) {
	if it.ChangeType != ChangeUpdated && it.ChangeType != ChangeDeleted {
		return UserChange{}, reasonUnsupportedChangeType, false
	}
	userID, ok := userIDFromResource(it.Resource, it.ResourceDataID)
	if !ok {
		return UserChange{}, reasonUnsupportedResource, false
	}
	return UserChange{
		TenantID:       sub.TenantID,
		UserID:         userID,
		ChangeType:     it.ChangeType,
		SubscriptionID: sub.ID,
	}, 0, true
}

// authenticate runs the checks every item shares: a known subscription, its
// clientState (constant time; null only when none is stored) and its
// tenant. ok=false comes with the reason; err is a lookup failure.
func (s *Server) authenticate(ctx context.Context, it *notificationItem, cache *subscriptionCache) (Subscription, rejectReason, bool, error) {
	if it.Malformed || it.SubscriptionID == "" || len(it.SubscriptionID) > maxIDLength {
		return Subscription{}, reasonMalformed, false, nil
	}
	sub, known, capped, err := cache.lookup(ctx, s.cfg.Lookup, it.SubscriptionID)
	switch {
	case err != nil:
		return Subscription{}, 0, false, err
	case capped:
		return Subscription{}, reasonTooManySubscriptions, false, nil
	case !known:
		return Subscription{}, reasonUnknownSubscription, false, nil
	}
	if !clientStateMatches(it.ClientState, sub.ClientState) {
		return Subscription{}, reasonClientStateMismatch, false, nil
	}
	if sub.TenantID == "" || !strings.EqualFold(it.TenantID, sub.TenantID) {
		return Subscription{}, reasonTenantMismatch, false, nil
	}
	return sub, 0, true, nil
}

// clientStateMatches compares in constant time. A null (or absent)
// clientState matches only a subscription stored without one.
func clientStateMatches(got *string, stored string) bool {
	if got == nil {
		return stored == ""
	}
	return subtle.ConstantTimeCompare([]byte(*got), []byte(stored)) == 1
}

// userIDFromResource takes the user id from resource ("Users/{id}" or
// "users/{id}") and, when resource is empty, from resourceData.id. When both
// carry an id they must agree. The id must be a plain identifier, so it is
// safe in the Graph URL the worker builds from it.
func userIDFromResource(resource, dataID string) (string, bool) {
	id := dataID
	if resource != "" {
		const prefix = "users/"
		if len(resource) <= len(prefix) || !strings.EqualFold(resource[:len(prefix)], prefix) {
			return "", false
		}
		id = resource[len(prefix):]
		if dataID != "" && !strings.EqualFold(id, dataID) {
			return "", false
		}
	}
	return id, validUserID(id)
}

// validUserID accepts 1 to maxIDLength letters, digits and '-', '_', '.',
// '@' (object ids are GUIDs; UPN-shaped ids are tolerated).
func validUserID(id string) bool { return validID(id, maxIDLength, "-_.@") }

// subscriptionCache remembers the lookups of one POST, so a batch of one
// subscription costs one store read, and caps distinct lookups. The map is
// made only when a second subscription appears.
type subscriptionCache struct {
	n      int
	lastID string
	last   cachedSubscription
	byID   map[string]cachedSubscription
}

type cachedSubscription struct {
	sub   Subscription
	known bool
}

// lookup returns the subscription for id, asking the store once per id.
// capped is true when id would be lookup number maxSubscriptionsPerRequest+1.
func (c *subscriptionCache) lookup(ctx context.Context, l SubscriptionLookup, id string) (sub Subscription, known, capped bool, err error) {
	if c.n > 0 && c.lastID == id {
		return c.last.sub, c.last.known, false, nil
	}
	if e, ok := c.byID[id]; ok {
		c.lastID, c.last = id, e
		return e.sub, e.known, false, nil
	}
	if c.n >= maxSubscriptionsPerRequest {
		return Subscription{}, false, true, nil
	}
	sub, known, err = l.LookupSubscription(ctx, id)
	if err != nil {
		return Subscription{}, false, false, &dependencyError{op: "webhook: look up subscription", err: err}
	}
	if known && sub.ID == "" {
		sub.ID = id
	}
	e := cachedSubscription{sub: sub, known: known}
	c.n++
	if c.n > 1 {
		if c.byID == nil {
			c.byID = make(map[string]cachedSubscription, 4)
			c.byID[c.lastID] = c.last
		}
		c.byID[id] = e
	}
	c.lastID, c.last = id, e
	return sub, known, false, nil
}

// dependencyError is a failure of the store, the queue or a readiness
// check: answered 503 whatever its cause wraps (it deliberately does not
// unwrap, so a cause that happens to wrap ErrBadRequest cannot turn it into
// a 400), while its text keeps the cause for the logs.
type dependencyError struct {
	op  string
	err error
	// public replaces the generic 503 text when set; it must hold no detail
	// of the cause.
	public string
}

func (e *dependencyError) Error() string        { return e.op + ": " + e.err.Error() }
func (e *dependencyError) Is(target error) bool { return target == errUnavailable }
