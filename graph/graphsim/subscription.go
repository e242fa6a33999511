package graphsim

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// subscriptionTimeFormat is how Graph writes subscription timestamps.
const subscriptionTimeFormat = "2006-01-02T15:04:05.0000000Z"

// subscription is a change-notification subscription. Guarded by Sim.mu.
type subscription struct {
	id              string
	tenant          string
	appID           string
	resource        string // as the creator sent it
	changeTypes     []string
	notificationURL string
	lifecycleURL    string
	clientState     string
	expires         time.Time
	created         time.Time
	reauthorized    time.Time
	needsReauth     bool
	sent            int
}

// Subscription is a snapshot of a subscription, for tests and tools.
type Subscription struct {
	ID                       string    `json:"id"`
	TenantID                 string    `json:"tenantId"`
	ApplicationID            string    `json:"applicationId"`
	Resource                 string    `json:"resource"`
	ChangeType               string    `json:"changeType"`
	NotificationURL          string    `json:"notificationUrl"`
	LifecycleNotificationURL string    `json:"lifecycleNotificationUrl"`
	ClientState              string    `json:"clientState"`
	ExpirationDateTime       time.Time `json:"expirationDateTime"`
	CreatedDateTime          time.Time `json:"createdDateTime"`
	// LastReauthorized is when the app last reauthorized or renewed it.
	LastReauthorized time.Time `json:"lastReauthorized"`
	// ReauthorizationRequired is set by a reauthorizationRequired lifecycle
	// event and cleared by a reauthorize or renew.
	ReauthorizationRequired bool `json:"reauthorizationRequired"`
	// NotificationsSent counts change notifications accepted by the receiver.
	NotificationsSent int `json:"notificationsSent"`
}

func (sub *subscription) snapshot() Subscription {
	return Subscription{
		ID: sub.id, TenantID: sub.tenant, ApplicationID: sub.appID, Resource: sub.resource,
		ChangeType: strings.Join(sub.changeTypes, ","), NotificationURL: sub.notificationURL,
		LifecycleNotificationURL: sub.lifecycleURL, ClientState: sub.clientState,
		ExpirationDateTime: sub.expires, CreatedDateTime: sub.created,
		LastReauthorized: sub.reauthorized, ReauthorizationRequired: sub.needsReauth,
		NotificationsSent: sub.sent,
	}
}

// wire renders the subscription as Graph's subscription resource.
func (sub *subscription) wire(root string) map[string]any {
	var state, lifecycle any
	if sub.clientState != "" {
		state = sub.clientState
	}
	if sub.lifecycleURL != "" {
		lifecycle = sub.lifecycleURL
	}
	return map[string]any{
		"@odata.context":            root + "/v1.0/$metadata#subscriptions/$entity",
		"id":                        sub.id,
		"resource":                  sub.resource,
		"applicationId":             sub.appID,
		"changeType":                strings.Join(sub.changeTypes, ","),
		"clientState":               state,
		"notificationUrl":           sub.notificationURL,
		"notificationQueryOptions":  nil,
		"lifecycleNotificationUrl":  lifecycle,
		"expirationDateTime":        sub.expires.UTC().Format(subscriptionTimeFormat),
		"creatorId":                 sub.appID,
		"includeResourceData":       false,
		"latestSupportedTlsVersion": "v1_2",
		"encryptionCertificate":     nil,
		"encryptionCertificateId":   nil,
		"notificationUrlAppId":      nil,
	}
}

// matches reports whether a user change is one the subscription asked for.
func (sub *subscription) matches(userID, changeType string) bool {
	res := normalizeResource(sub.resource)
	if res != "users" && !strings.EqualFold(res, "users/"+userID) {
		return false
	}
	for _, ct := range sub.changeTypes {
		if ct == changeType {
			return true
		}
	}
	return false
}

// normalizeResource lower-cases the collection and drops the leading slash.
func normalizeResource(r string) string {
	r = strings.Trim(strings.TrimSpace(r), "/")
	if len(r) >= 5 && strings.EqualFold(r[:5], "users") {
		r = "users" + r[5:]
	}
	return r
}

// purgeExpiredLocked drops subscriptions past their expiry, as Graph does.
func (s *Sim) purgeExpiredLocked(t *tenant) {
	now := s.now()
	for id, sub := range t.subs {
		if !now.Before(sub.expires) {
			delete(t.subs, id)
		}
	}
}

// Subscriptions returns a snapshot of a tenant's live subscriptions ("" =
// every tenant), oldest first.
func (s *Sim) Subscriptions(tenantID string) []Subscription {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Subscription
	for _, id := range s.order {
		if tenantID != "" && id != tenantID {
			continue
		}
		t := s.tenants[id]
		s.purgeExpiredLocked(t)
		for _, sub := range t.subs {
			out = append(out, sub.snapshot())
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedDateTime.Equal(out[j].CreatedDateTime) {
			return out[i].CreatedDateTime.Before(out[j].CreatedDateTime)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// DeleteSubscription removes a subscription behind the app's back, as when
// Graph drops it; the app learns of it only through 404s.
func (s *Sim) DeleteSubscription(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tenants {
		if _, ok := t.subs[id]; ok {
			delete(t.subs, id)
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrSubscriptionNotFound, id)
}

// SetSubscriptionExpiry moves a subscription's expiry, e.g. into the past so
// that it lapses.
func (s *Sim) SetSubscriptionExpiry(id string, exp time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, t := range s.tenants {
		if sub, ok := t.subs[id]; ok {
			sub.expires = exp.UTC()
			return nil
		}
	}
	return fmt.Errorf("%w: %s", ErrSubscriptionNotFound, id)
}
