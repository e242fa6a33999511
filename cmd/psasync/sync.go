package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

// newSyncCmd is `psasync sync`.
func newSyncCmd() *cobra.Command {
	var (
		o        app.SyncOptions
		progress string
	)
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Run one sync and print its JSON report",
		Long: `Run one sync of a tenant and print its JSON report on stdout; logs and
progress go to stderr. Exit status 1 when the run ran and its report says
success false.`,
		Example: "  psasync sync --config psasync.yaml --tenant contoso --mode full --dry-run\n  psasync sync --demo --mode full",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			mode, err := app.ParseProgressMode(progress)
			if err != nil {
				return ran(cmd, flagError("--progress", err))
			}
			o.Progress = mode
			o.Departments, o.OfficeLocations, o.UPNs = trimmed(o.Departments), trimmed(o.OfficeLocations), trimmed(o.UPNs)
			o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return ran(cmd, flagNames(app.Sync(cmd.Context(), o)))
		},
	}
	sourceFlags(cmd, &o.Source)
	f := cmd.Flags()
	f.StringVar(&o.Mode, "mode", "incremental", "full or incremental (sync_mode)")
	f.StringVar(&o.CompanyID, "company-id", "", "PSA company for every user of this run (company_id; overrides the tenant's mapping)")
	f.StringSliceVar(&o.Departments, "department", nil, "only users of this department (department_filter; repeatable)")
	f.StringSliceVar(&o.OfficeLocations, "office-location", nil, "only users of this office location (office_location_filter; repeatable)")
	f.StringSliceVar(&o.UPNs, "upn", nil, "only this user principal name (user_principal_names; repeatable)")
	f.BoolVar(&o.IncludeDisabled, "include-disabled", false, "sync disabled users too (skip_disabled_users=false)")
	f.BoolVar(&o.NoUpdate, "no-update", false, "create missing contacts but do not update existing ones (update_existing=false)")
	f.BoolVar(&o.DryRun, "dry-run", false, "plan only: make no PSA write and report what a real run would do")
	f.BoolVar(&o.ListSkipped, "list-skipped", false, "list every skipped user in the report, not only those that need attention")
	f.StringVar(&o.Tenant, "tenant", "", "tenant id or name (default: the only tenant; required when the config has several)")
	f.StringVar(&progress, "progress", string(app.ProgressAuto), "progress on stderr: auto (a live line on a terminal, a log line every few seconds otherwise), always (the live line), never")
	return cmd
}

func trimmed(v []string) []string {
	var out []string
	for _, s := range v {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// namedError keeps an error's class (errors.Is) under a rewritten message.
type namedError struct {
	msg string
	err error
}

func (e *namedError) Error() string { return e.msg }
func (e *namedError) Unwrap() error { return e.err }

// flagNames rewrites run-input field names in err as the flags that set
// them, so the message names what the user typed.
func flagNames(err error) error {
	if err == nil {
		return nil
	}
	r := strings.NewReplacer("sync_mode:", "--mode:", "user_principal_names", "--upn", "company_id:", "--company-id:", "tenant:", "--tenant:")
	return &namedError{msg: r.Replace(err.Error()), err: err}
}

// flagError names the flag a bad value came from.
func flagError(flag string, err error) error {
	return &namedError{msg: flag + ": " + err.Error(), err: err}
}
