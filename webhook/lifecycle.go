package webhook

import (
	"github.com/gin-gonic/gin"

	"github.com/psasync/psasync/graph/directory"
)

// handleLifecycle serves POST /webhook/graph/lifecycle: the handshake, or a
// lifecycle notification collection. Items pass the same subscription,
// clientState and tenant checks as change notifications; known events are
// enqueued in one call before the 202, unknown ones are counted and dropped.
func (s *Server) handleLifecycle(c *gin.Context) {
	s.handleCollection(c, endpointLifecycle)
}

// lifecycleEventFrom turns an authenticated item into a LifecycleEvent when
// its lifecycleEvent is one psasync handles: reauthorizationRequired (the
// only one Graph sends for users: renew or reauthorize), subscriptionRemoved
// (recreate, then an incremental sync) and missed (an incremental sync).
func lifecycleEventFrom(it *notificationItem, sub Subscription) (LifecycleEvent, bool) {
	switch it.LifecycleEvent {
	case directory.LifecycleReauthorizationRequired, directory.LifecycleSubscriptionRemoved, directory.LifecycleMissed:
		return LifecycleEvent{TenantID: sub.TenantID, SubscriptionID: sub.ID, Event: it.LifecycleEvent}, true
	default:
		return LifecycleEvent{}, false
	}
}
