package console

import (
	"context"
	"time"

	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// This file is the package boundary: what the console reads and what it
// asks to be done. app implements it over the stores and the run API, so
// the console holds no rule of its own.

// Source is what the pages read.
type Source interface {
	// Tenants lists the configured tenants with their health, in the
	// config's order.
	Tenants(ctx context.Context) ([]TenantStatus, error)
	// Capacity is the PSA budget and the queues' depth now.
	Capacity(ctx context.Context) (Capacity, error)
	// TenantRuns lists a tenant's runs created at or after since, newest
	// first.
	TenantRuns(ctx context.Context, tenant string, since time.Time) ([]worker.RunRecord, error)
	// Run reads one run; ok is false for an unknown id.
	Run(ctx context.Context, id string) (rec worker.RunRecord, ok bool, err error)
}

// Runner starts runs through the same path as POST /api/v1/sync.
type Runner interface {
	// StartRun enqueues a run with these inputs and returns its id; a
	// *webhook.RequestError is shown to the operator as given.
	StartRun(ctx context.Context, in worker.RunInputs) (runID string, err error)
}

// TenantStatus is one row of the overview.
type TenantStatus struct {
	// ID is the configured tenant id; Name its display name (may be empty).
	ID, Name string
	// Enabled is office365_sync_enabled.
	Enabled bool
	// Subscription is the tenant's Graph subscription state (Health
	// "none" without one). It carries no clientState.
	Subscription subscription.Status
	// LastRun is the tenant's newest run; nil when it has none.
	LastRun *RunSummary
	// Decisions counts what waits for an operator; nil when the source
	// keeps no decisions.
	Decisions *DecisionCounts
}

// DecisionCounts counts a tenant's open operator decisions.
type DecisionCounts struct {
	OpenConflicts, HeldDeactivations, Quarantined int
}

// Capacity is the shared PSA budget and the job queues.
type Capacity struct {
	// PSA is the PSA type (connectwise, autotask, halopsa).
	PSA string
	// Requests per Period is the budget shared by every replica; Requests
	// 0 means no budget is configured.
	Requests int
	Period   time.Duration
	// Burst is how many requests may go at once; Available how many of
	// them may go now (-1 when unknown).
	Burst, Available int
	// Queues are the job queues in priority order.
	Queues []QueueDepth
}

// QueueDepth is one asynq queue's task counts.
type QueueDepth struct {
	Name                                      string
	Pending, Active, Scheduled, Retry, Failed int
	// Latency is how long the oldest pending task has waited.
	Latency time.Duration
}
