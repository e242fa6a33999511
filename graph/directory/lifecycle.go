package directory

// Lifecycle event names Graph sends to a subscription's
// lifecycleNotificationUrl. For users Graph sends only
// reauthorizationRequired; the others are handled in case that changes.
// They are defined here, once, so the webhook (which accepts them) and the
// subscription manager (which acts on them) cannot disagree.
const (
	// LifecycleReauthorizationRequired asks for a reauthorization soon
	// (psasync answers with a renew PATCH).
	LifecycleReauthorizationRequired = "reauthorizationRequired"
	// LifecycleSubscriptionRemoved says Graph dropped the subscription: it
	// must be recreated and followed by an incremental sync.
	LifecycleSubscriptionRemoved = "subscriptionRemoved"
	// LifecycleMissed says notifications were lost: an incremental sync
	// catches up.
	LifecycleMissed = "missed"
)
