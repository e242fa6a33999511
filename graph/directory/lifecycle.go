package directory

// Lifecycle event names Graph sends to a subscription's
// lifecycleNotificationUrl. For users Graph sends only
// reauthorizationRequired; the others are handled so the service keeps
// working if that changes.
const (
	// LifecycleReauthorizationRequired asks for a renew or reauthorize soon.
	LifecycleReauthorizationRequired = "reauthorizationRequired"
	// LifecycleSubscriptionRemoved means the subscription is gone and must be
	// recreated, then followed by an incremental sync.
	LifecycleSubscriptionRemoved = "subscriptionRemoved"
	// LifecycleMissed means notifications were dropped; an incremental sync
	// catches up.
	LifecycleMissed = "missed"
)
