package subscription

import (
	"strconv"
	"time"

	"github.com/psasync/psasync/graph/directory"
)

// LifecycleEvent is one authenticated lifecycle notification, as the
// webhook accepted it.
type LifecycleEvent struct {
	TenantID       string
	SubscriptionID string
	// Event is one of directory's Lifecycle* names.
	Event string
}

// JobKind says which subscription job a lifecycle event needs. The worker
// owns the task type strings; the wiring maps a kind to one of them.
type JobKind int

const (
	// JobEnsure is a check of the tenant's subscription (recreating it when
	// it is gone); EnsureHandler runs it.
	JobEnsure JobKind = iota + 1
	// JobReauthorize answers a reauthorizationRequired event;
	// ReauthorizeHandler runs it.
	JobReauthorize
)

// LifecycleJob is the job one lifecycle event needs: its kind, a dedup id,
// and the payload fields (tenant, subscription, and the event as reason).
type LifecycleJob struct {
	Kind JobKind
	// ID deduplicates: Graph may deliver the same event more than once, so
	// there is one job per subscription, event and minute.
	ID             string
	TenantID       string
	SubscriptionID string
	Reason         string
}

// LifecycleJobs maps lifecycle events to the jobs that answer them at now:
// reauthorizationRequired needs a reauthorize job, anything else an ensure
// job (which recreates a removed subscription and catches up).
func LifecycleJobs(events []LifecycleEvent, now time.Time) []LifecycleJob {
	minute := strconv.FormatInt(now.Unix()/60, 10)
	out := make([]LifecycleJob, 0, len(events))
	for _, ev := range events {
		kind, name := JobEnsure, "ensure"
		if ev.Event == directory.LifecycleReauthorizationRequired {
			kind, name = JobReauthorize, "reauthorize"
		}
		out = append(out, LifecycleJob{
			Kind:     kind,
			ID:       "lifecycle:" + name + ":" + ev.SubscriptionID + ":" + ev.Event + ":" + minute,
			TenantID: ev.TenantID, SubscriptionID: ev.SubscriptionID, Reason: ev.Event,
		})
	}
	return out
}
