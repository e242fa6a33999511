package worker

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Task types (DESIGN.md contracts).
const (
	TypeUserSync                = "user:sync"
	TypeTenantSync              = "tenant:sync"
	TypeSubscriptionEnsure      = "subscription:ensure"
	TypeSubscriptionReauthorize = "subscription:reauthorize"
)

// Queues, by priority.
const (
	QueueCritical = "critical" // subscriptions
	QueueDefault  = "default"  // users
	QueueLow      = "low"      // runs
)

// Queues names the three queues. A prefix lets several deployments, or
// parallel tests, share one Redis: asynq keys are per queue name.
type Queues struct {
	Critical, Default, Low string
}

// DefaultQueues are the plain names.
var DefaultQueues = Queues{Critical: QueueCritical, Default: QueueDefault, Low: QueueLow}

// PrefixedQueues returns the queue names with prefix in front ("" = default).
func PrefixedQueues(prefix string) Queues {
	return Queues{Critical: prefix + QueueCritical, Default: prefix + QueueDefault, Low: prefix + QueueLow}
}

// All lists the queues, most urgent first.
func (q Queues) All() []string { return []string{q.Critical, q.Default, q.Low} }

// Weights are asynq's priorities: subscriptions first, then users, then runs.
func (q Queues) Weights() map[string]int {
	return map[string]int{q.Critical: 6, q.Default: 3, q.Low: 1}
}

// UserSyncPayload names the user only: the worker reads the user's current
// state from Graph when the job runs, so a late job never writes old data.
type UserSyncPayload struct {
	Tenant string `json:"tenant"`
	User   string `json:"user"`
}

// NewUserSyncTask builds a user:sync task.
func NewUserSyncTask(tenant, user string, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeUserSync, UserSyncPayload{Tenant: tenant, User: user}, opts,
		asynq.Queue(QueueDefault), asynq.MaxRetry(12), asynq.Timeout(2*time.Minute))
}

// TenantSyncPayload is a run: its id and inputs.
type TenantSyncPayload struct {
	RunID  string    `json:"run_id"`
	Inputs RunInputs `json:"inputs"`
}

// NewTenantSyncTask builds a tenant:sync task for a run.
func NewTenantSyncTask(runID string, in RunInputs, opts ...asynq.Option) (*asynq.Task, error) {
	return newTask(TypeTenantSync, TenantSyncPayload{RunID: runID, Inputs: in}, opts,
		asynq.Queue(QueueLow), asynq.MaxRetry(3), asynq.Timeout(6*time.Hour))
}

// SubscriptionPayload names the tenant (and subscription, when known) a
// subscription job is for; Reason says what triggered it.
type SubscriptionPayload struct {
	Tenant         string `json:"tenant"`
	SubscriptionID string `json:"subscription_id,omitempty"`
	Reason         string `json:"reason,omitempty"`
}

// NewSubscriptionTask builds a subscription:ensure or subscription:reauthorize task.
func NewSubscriptionTask(typ string, p SubscriptionPayload, opts ...asynq.Option) (*asynq.Task, error) {
	if typ != TypeSubscriptionEnsure && typ != TypeSubscriptionReauthorize {
		return nil, fmt.Errorf("task type %q is not a subscription task", typ)
	}
	return newTask(typ, p, opts, asynq.Queue(QueueCritical), asynq.MaxRetry(20), asynq.Timeout(2*time.Minute))
}

// newTask encodes a job's payload into a task of its type: the job kind's
// defaults first, so that the caller's options win.
func newTask(typ string, payload any, opts []asynq.Option, defaults ...asynq.Option) (*asynq.Task, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encode %s payload: %w", typ, err)
	}
	return asynq.NewTask(typ, b, append(defaults, opts...)...), nil
}
