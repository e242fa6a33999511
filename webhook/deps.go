package webhook

import (
	"context"
	"encoding/json"
)

// This file is the package boundary: the few things the webhook needs from
// the rest of psasync. cmd wires implementations backed by the subscription
// store, asynq and the worker's run store; tests use fakes.

// Subscription is what the webhook knows about a Graph subscription: enough
// to authenticate a notification and route it to its tenant.
type Subscription struct {
	// ID is Graph's subscription id, as notifications carry it.
	ID string
	// TenantID is the Entra tenant id (a GUID) Graph puts in tenantId.
	TenantID string
	// ClientState is the secret given to Graph at creation; empty when the
	// subscription was made without one (then only a null or empty
	// clientState is accepted).
	ClientState string
}

// SubscriptionLookup finds a stored subscription by id. ok is false when the
// id is unknown; an error means the store could not answer (the POST gets
// 503 so Graph delivers again).
type SubscriptionLookup interface {
	LookupSubscription(ctx context.Context, id string) (sub Subscription, ok bool, err error)
}

// UserChange is one accepted change notification: the user to sync and
// where the notice came from. It carries no user data; the worker reads the
// user's current state from Graph when the job runs.
type UserChange struct {
	// TenantID is the subscription's stored tenant id.
	TenantID string
	// UserID is the Entra object id taken from resource (users/{id}).
	UserID string
	// ChangeType is "updated" or "deleted".
	ChangeType string
	// SubscriptionID is the subscription the notification belongs to.
	SubscriptionID string
}

// LifecycleEvent is one accepted lifecycle notification item.
type LifecycleEvent struct {
	// TenantID is the subscription's stored tenant id.
	TenantID string
	// SubscriptionID is the subscription the event is about.
	SubscriptionID string
	// Event is one of directory's Lifecycle* names.
	Event string
}

// Change types accepted for users.
const (
	// ChangeUpdated covers both edits and new users (users never send created).
	ChangeUpdated = "updated"
	// ChangeDeleted is a soft or hard delete.
	ChangeDeleted = "deleted"
)

// Enqueuer durably enqueues jobs. It is called at most once per POST with
// every accepted item; a nil error promises the jobs survive a restart
// (Graph then gets 202), any error means nothing can be promised (503, and
// Graph delivers the whole POST again, so duplicates must be harmless).
type Enqueuer interface {
	EnqueueUserChanges(ctx context.Context, changes []UserChange) error
	EnqueueLifecycle(ctx context.Context, events []LifecycleEvent) error
}

// SyncRequest is the body of POST /api/v1/sync: the workflow's run inputs
// as given. The webhook checks their JSON types; what a value means (and the
// workflow's defaults for what is absent) is the Runs implementation's, so
// the run inputs have one owner.
type SyncRequest struct {
	// Tenant names the configured tenant to sync; the Runs implementation
	// decides what an empty value means and refuses unknown ones.
	Tenant string `json:"tenant"`
	// SyncMode is the mode asked for ("" when absent).
	SyncMode string `json:"sync_mode"`
	// CompanyID is the PSA company, accepted as a JSON number or string;
	// empty means the tenant's psa_default_company_id.
	CompanyID string `json:"company_id"`
	// DepartmentFilter limits the run to these departments (empty: all).
	DepartmentFilter []string `json:"department_filter"`
	// OfficeLocationFilter limits the run to these offices (empty: all).
	OfficeLocationFilter []string `json:"office_location_filter"`
	// UserPrincipalNames limits the run to these users (empty: all).
	UserPrincipalNames []string `json:"user_principal_names"`
	// SkipDisabledUsers, UpdateExisting and DryRun are nil when absent.
	SkipDisabledUsers *bool `json:"skip_disabled_users"`
	UpdateExisting    *bool `json:"update_existing"`
	DryRun            *bool `json:"dry_run"`
	// ListSkipped is psasync's list_skipped input (nil when absent).
	ListSkipped *bool `json:"list_skipped"`
}

// Runs starts and reads sync runs for the API.
type Runs interface {
	// StartRun enqueues a run and returns its id. An error wrapping
	// ErrBadRequest (e.g. an unknown tenant) is answered 400 with its
	// message; any other error is a 500.
	StartRun(ctx context.Context, req SyncRequest) (runID string, err error)
	// GetRun returns the stored run record (state while running, the
	// Returned Data report once done) as JSON; ok=false gives 404.
	GetRun(ctx context.Context, id string) (record json.RawMessage, ok bool, err error)
	// ListRuns returns the most recent runs, newest first, at most limit.
	ListRuns(ctx context.Context, limit int) (json.RawMessage, error)
}
