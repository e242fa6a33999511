package worker

import (
	"errors"
	"fmt"
	"strings"
)

// Sync modes of a run.
const (
	ModeFull        = "full"
	ModeIncremental = "incremental"
)

// RunInputs are the workflow's run inputs (DESIGN.md), plus the tenant the
// run is for. Use DefaultRunInputs for the workflow's defaults.
type RunInputs struct {
	Tenant               string   `json:"tenant"`
	SyncMode             string   `json:"sync_mode"`
	CompanyID            string   `json:"company_id,omitempty"`
	DepartmentFilter     []string `json:"department_filter,omitempty"`
	OfficeLocationFilter []string `json:"office_location_filter,omitempty"`
	UserPrincipalNames   []string `json:"user_principal_names,omitempty"`
	SkipDisabledUsers    bool     `json:"skip_disabled_users"`
	UpdateExisting       bool     `json:"update_existing"`
	DryRun               bool     `json:"dry_run"`
	// ListSkipped lists every skipped user in the report; without it users
	// skipped as unchanged or out of scope are only counted, so a run that
	// changed nothing stays small.
	ListSkipped bool `json:"list_skipped,omitempty"`
}

// DefaultRunInputs returns the workflow's defaults: incremental, skip
// disabled users, update existing contacts, write for real.
func DefaultRunInputs(tenant string) RunInputs {
	return RunInputs{Tenant: tenant, SyncMode: ModeIncremental, SkipDisabledUsers: true, UpdateExisting: true}
}

// Validate reports every bad input at once, each naming its field.
func (in RunInputs) Validate() error {
	var errs []error
	if strings.TrimSpace(in.Tenant) == "" {
		errs = append(errs, errors.New("tenant: required"))
	}
	if in.SyncMode != ModeFull && in.SyncMode != ModeIncremental {
		errs = append(errs, fmt.Errorf("sync_mode: %q is not full or incremental", in.SyncMode))
	}
	for i, v := range in.UserPrincipalNames {
		if !strings.Contains(v, "@") {
			errs = append(errs, fmt.Errorf("user_principal_names[%d]: %q is not a user principal name", i, v))
		}
	}
	if strings.ContainsAny(in.CompanyID, " \t\n") {
		errs = append(errs, fmt.Errorf("company_id: %q contains white space", in.CompanyID))
	}
	return errors.Join(errs...)
}

// narrowed reports whether the run looks at only part of the tenant; such a
// run must not store a delta link or deactivate users it did not look at.
func (in RunInputs) narrowed() bool {
	return len(in.DepartmentFilter) > 0 || len(in.OfficeLocationFilter) > 0 || len(in.UserPrincipalNames) > 0
}
