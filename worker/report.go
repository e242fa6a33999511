package worker

import (
	"errors"
	"strings"
	"time"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/psa"
)

// Error codes of the run report (DESIGN.md contracts). A user sees these, so
// they never change.
const (
	CodeContactCreationFailed = "ContactCreationFailed"
	CodeContactUpdateFailed   = "ContactUpdateFailed"
	CodeDuplicateContact      = "DuplicateContact"
	CodeMissingCompanyID      = "MissingCompanyID"
	CodeInvalidFieldMapping   = "InvalidFieldMapping"
	CodePermissionDenied      = "PermissionDenied"
	CodeUserDataIncomplete    = "UserDataIncomplete"
	CodePSAConnectionError    = "PSAConnectionError"
	// CodeUnknownTenant is an extra code for a job whose tenant is no
	// longer configured (it is not retried).
	CodeUnknownTenant = "UnknownTenant"
	// CodeGraphError is an extra code for Graph failures that are not a
	// permission problem (throttled past the wait budget, unavailable).
	CodeGraphError = "GraphError"
)

// Warning codes of the run report.
const (
	WarnMissingPhoneNumber = "MissingPhoneNumber"
	// WarnDeactivationGuard: a run would have deactivated too many of a
	// company's contacts, so it deactivated none.
	WarnDeactivationGuard = "DeactivationGuard"
	// WarnDeltaReset: the incremental run had no usable delta link and
	// enumerated the whole tenant instead.
	WarnDeltaReset = "DeltaReset"
	// WarnCompanyChanged: the user now maps to another company than the
	// contact psasync linked; the contact is left where it is.
	WarnCompanyChanged = "CompanyChanged"
	// WarnThrottled: the PSA or Graph asked the run to wait.
	WarnThrottled = "Throttled"
	// WarnUserCountUnavailable: Graph could not count the tenant's enabled
	// users, so total_office365_users is 0.
	WarnUserCountUnavailable = "UserCountUnavailable"
	// WarnChangeLogIncomplete: the change log could not take some of the
	// run's entries (the writes went through).
	WarnChangeLogIncomplete = "ChangeLogIncomplete"
)

// Report is a run's Returned Data, field for field as the workflow defines
// it (DESIGN.md); fields after Warnings are psasync's additions.
type Report struct {
	Success         bool            `json:"success"`
	SyncMode        string          `json:"sync_mode"`
	SyncTimestamp   time.Time       `json:"sync_timestamp"`
	Statistics      Statistics      `json:"statistics"`
	CreatedContacts []ContactResult `json:"created_contacts"`
	UpdatedContacts []ContactResult `json:"updated_contacts"`
	Errors          []ErrorItem     `json:"errors"`
	Warnings        []WarningItem   `json:"warnings"`

	RunID    string    `json:"run_id,omitempty"`
	TenantID string    `json:"tenant_id"`
	DryRun   bool      `json:"dry_run"`
	Inputs   RunInputs `json:"inputs"`
	// SkippedContacts says why each processed user caused no write.
	SkippedContacts []SkipItem `json:"skipped_contacts"`
	// Throttling sums up how long the run waited on PSA or Graph limits.
	Throttling Throttling `json:"throttling"`
	DurationMS int64      `json:"duration_ms"`
}

// Statistics are the report's counters.
type Statistics struct {
	// TotalOffice365Users is the number of enabled users in the tenant.
	TotalOffice365Users int `json:"total_office365_users"`
	// UsersProcessed counts the users the run evaluated (never contacts).
	UsersProcessed  int `json:"users_processed"`
	ContactsCreated int `json:"contacts_created"`
	ContactsUpdated int `json:"contacts_updated"`
	ContactsSkipped int `json:"contacts_skipped"`
	Errors          int `json:"errors"`
	// ContactsDeactivated counts the updates that deactivated a contact
	// (they are in ContactsUpdated too).
	ContactsDeactivated int `json:"contacts_deactivated"`
	// ContactsReactivated counts updates that reactivated a contact.
	ContactsReactivated int `json:"contacts_reactivated"`
	// OrphanedContacts counts the contacts a full run evaluated because the
	// user they are linked to no longer exists in the tenant; they are not
	// users, so UsersProcessed does not count them.
	OrphanedContacts int `json:"orphaned_contacts"`
	// SkippedByReason counts the skipped users per reason; the report lists
	// them one by one only for reasons that need attention.
	SkippedByReason map[string]int `json:"skipped_by_reason,omitempty"`
	// QuietWarnings counts, per code, the warnings about users skipped as
	// unchanged or out of scope; they are listed in Warnings only with
	// list_skipped, as they come back on every run.
	QuietWarnings map[string]int `json:"warnings_of_skipped_users,omitempty"`
}

// Status values of a created or updated item (the workflow's contract).
const (
	StatusCreated = "created"
	StatusUpdated = "updated"
)

// Actions say in more detail what an item's write did; every action but
// ActionCreated has status "updated".
const (
	ActionCreated     = "created"
	ActionUpdated     = "updated"
	ActionDeactivated = "deactivated"
	ActionReactivated = "reactivated"
	ActionLinked      = "linked"
)

// ContactResult is one item of created_contacts or updated_contacts: the
// workflow's six fields (and changed_fields on updates) with its names and
// types, plus Action, psasync's detail of what the write did.
type ContactResult struct {
	Office365ID       string `json:"office365_id"`
	UserPrincipalName string `json:"user_principal_name"`
	DisplayName       string `json:"display_name"`
	PSAContactID      string `json:"psa_contact_id"`
	PSACompanyID      string `json:"psa_company_id"`
	Status            string `json:"status"`
	// ChangedFields names what an update wrote (canonical field names);
	// absent on created items.
	ChangedFields []string `json:"changed_fields,omitempty"`
	// Action is one of the Action* constants.
	Action string `json:"action"`
	// Changes gives each written field's old and new value (planned, in a
	// dry run), as the change log records them.
	Changes []FieldChange `json:"changes,omitempty"`
}

// ErrorItem is one failure, in the report's error shape.
type ErrorItem struct {
	UserPrincipalName string    `json:"user_principal_name"`
	Code              string    `json:"code"`
	Message           string    `json:"message"`
	Timestamp         time.Time `json:"timestamp"`
	PSAError          string    `json:"psa_error,omitempty"`
}

// WarningItem is one warning; it does not fail the run.
type WarningItem struct {
	UserPrincipalName string    `json:"user_principal_name,omitempty"`
	Code              string    `json:"code"`
	Message           string    `json:"message"`
	Timestamp         time.Time `json:"timestamp"`
}

// Skip reasons the report counts without listing (unless list_skipped).
const (
	// SkipUnchanged: the contact already holds what the user maps to.
	SkipUnchanged = "unchanged"
	// skipOutOfScope prefixes the reasons of users the sync does not cover.
	skipOutOfScope = "out of scope: "
)

// SkipItem says why a processed user caused no write.
type SkipItem struct {
	UserPrincipalName string `json:"user_principal_name"`
	Reason            string `json:"reason"`
}

// Throttling records the waits a run spent on vendor limits.
type Throttling struct {
	Events   int   `json:"events"`
	WaitedMS int64 `json:"waited_ms"`
}

// contactResult builds a report item for the contact c written (or, in a
// dry run, planned) for user u. upn is the plan's user principal name: for
// an orphan, whose user is gone, it is the contact's email.
func contactResult(u directory.User, upn string, c psa.Contact, changed []psa.Field, action string, changes []FieldChange) ContactResult {
	r := ContactResult{
		Office365ID: u.ID, UserPrincipalName: upn, DisplayName: u.DisplayName,
		PSAContactID: c.ID, PSACompanyID: c.CompanyID, Status: StatusUpdated, Action: action, Changes: changes,
	}
	if action == ActionCreated {
		r.Status = StatusCreated
	}
	if r.DisplayName == "" {
		r.DisplayName = strings.TrimSpace(c.FirstName + " " + c.LastName)
	}
	for _, f := range changed {
		r.ChangedFields = append(r.ChangedFields, string(f))
	}
	return r
}

// errorCode turns an error from a PSA or Graph call into the report's code;
// fallback is the code for a PSA refusal of this kind of write.
func errorCode(err error, fallback string) string {
	switch {
	case errors.Is(err, psa.ErrPermission), errors.Is(err, directory.ErrPermissionDenied):
		return CodePermissionDenied
	case errors.Is(err, psa.ErrDuplicate):
		return CodeDuplicateContact
	case errors.Is(err, psa.ErrConnection), errors.Is(err, psa.ErrRateLimited):
		return CodePSAConnectionError
	case errors.Is(err, directory.ErrThrottled), errors.Is(err, directory.ErrUnavailable):
		return CodeGraphError
	}
	if fallback == "" {
		return CodePSAConnectionError
	}
	return fallback
}

func psaErrorText(err error) string {
	var pe *psa.Error
	if errors.As(err, &pe) {
		return pe.VendorText()
	}
	return ""
}
