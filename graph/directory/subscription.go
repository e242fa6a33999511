package directory

import (
	"errors"
	"fmt"
	"time"
)

// ErrConflict: Graph refused to create a subscription because one with the
// same resource, changeType and notificationUrl already exists (409).
var ErrConflict = errors.New("graph: conflict")

// Subscription is a Graph change-notification subscription as psasync keeps
// it, without SDK types, so the subscription manager builds and tests fast.
type Subscription struct {
	ID string `json:"id"`
	// Resource is what the subscription watches, e.g. "/users".
	Resource string `json:"resource"`
	// ChangeType is Graph's comma-separated list, e.g. "updated,deleted".
	ChangeType               string `json:"changeType"`
	NotificationURL          string `json:"notificationUrl"`
	LifecycleNotificationURL string `json:"lifecycleNotificationUrl,omitempty"`
	// ClientState is the per-subscription secret Graph echoes in every
	// notification; String never prints it.
	ClientState        string    `json:"clientState,omitempty"`
	ExpirationDateTime time.Time `json:"expirationDateTime"`
}

// String describes the subscription without its clientState, so it can be
// logged safely.
func (s Subscription) String() string {
	return fmt.Sprintf("subscription %s on %s (%s) to %s, expires %s",
		s.ID, s.Resource, s.ChangeType, s.NotificationURL, s.ExpirationDateTime.UTC().Format(time.RFC3339))
}
