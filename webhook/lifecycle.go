package webhook

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"
)

// handleLifecycle serves POST /webhook/graph/lifecycle: the handshake, or a
// lifecycle notification collection. Items pass the same subscription,
// clientState and tenant checks as change notifications; known events are
// enqueued in one call before the 202, unknown ones are counted and dropped.
func (s *Server) handleLifecycle(c *gin.Context) {
	if s.answerHandshake(c, endpointLifecycle) {
		return
	}
	items, ok := s.readNotifications(c)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), s.cfg.HandlerTimeout)
	defer cancel()

	events, t, err := s.acceptLifecycle(ctx, items)
	if err != nil {
		s.metrics.lookupFailures[endpointLifecycle].Inc()
		s.writeError(c, err)
		return
	}
	if len(events) > 0 {
		if err := s.cfg.Enqueuer.EnqueueLifecycle(ctx, events); err != nil {
			s.metrics.enqueueFailures[endpointLifecycle].Inc()
			s.writeError(c, &dependencyError{op: fmt.Sprintf("webhook: enqueue %d lifecycle events", len(events)), err: err})
			return
		}
	}
	s.metrics.record(endpointLifecycle, len(events), &t)
	c.Status(http.StatusAccepted)
}

// acceptLifecycle authenticates every item and keeps the known lifecycle
// events, in order. Only a lookup failure is an error.
func (s *Server) acceptLifecycle(ctx context.Context, items []notificationItem) ([]LifecycleEvent, tally, error) {
	var (
		t      tally
		cache  subscriptionCache
		events = make([]LifecycleEvent, 0, len(items))
	)
	for i := range items {
		it := &items[i]
		sub, reason, ok, err := s.authenticate(ctx, it, &cache)
		if err != nil {
			return nil, t, err
		}
		if !ok {
			t[reason]++
			continue
		}
		switch it.LifecycleEvent {
		case LifecycleReauthorizationRequired, LifecycleSubscriptionRemoved, LifecycleMissed:
		default:
			t[reasonUnknownLifecycleEvent]++
			continue
		}
		events = append(events, LifecycleEvent{
			TenantID:       sub.TenantID,
			SubscriptionID: sub.ID,
			Event:          it.LifecycleEvent,
		})
	}
	return events, t, nil
}
