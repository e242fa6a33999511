package main

import (
	"context"
	"net/url"

	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

// queryFlag is one filter flag of `psasync changes` or `psasync runs`; its
// name is the API's query parameter.
type queryFlag struct{ name, usage string }

// changesFlags are the filters of `psasync changes`.
var changesFlags = []queryFlag{
	{"tenant", "only this tenant (its directory id)"},
	{"company", "only this PSA company id"},
	{"user", "only this user (object id or user principal name, any case)"},
	{"contact", "only this PSA contact id"},
	{"field", "only entries that changed this field (e.g. job_title)"},
	{"action", "only this action (created, updated, deactivated, reactivated, linked)"},
	{"trigger", "only this trigger (notification, run, operator)"},
	{"since", "from this time on: RFC 3339, a date (2006-01-02) or a duration back from now (24h)"},
	{"until", "up to this time (as --since)"},
	{"cursor", "continue after this entry (the cursor a previous page printed)"},
	{"limit", "entries per page (default 100, at most 1000)"},
}

// newChangesCmd is `psasync changes`.
func newChangesCmd() *cobra.Command {
	return newLedgerQueryCmd(&cobra.Command{
		Use:   "changes",
		Short: "Show the change log: every PSA write with old and new values, its trigger and result",
		Long: `Show one page of the change log, newest first: every write psasync made to
the PSA (or tried to), per field old -> new, what triggered it and the result.
Filters combine; the next page's cursor is printed on stderr (table, csv) or
as "next" (json). --format csv writes one row per field change, for auditors.`,
		Example: "  psasync changes --config psasync.yaml --user alice@contoso.com\n  psasync changes --tenant T --since 2026-11-01 --format csv > changes.csv",
	}, changesFlags, "table, json or csv", app.Changes)
}

// newLedgerQueryCmd completes a query command of the ledger: the source
// flags, one flag per query parameter, --format, and a run that hands the
// given flags to query.
func newLedgerQueryCmd(cmd *cobra.Command, flags []queryFlag, formats string,
	query func(context.Context, app.LedgerQueryOptions) error) *cobra.Command {
	o := app.LedgerQueryOptions{}
	vals := map[string]*string{}
	cmd.Args = cobra.NoArgs
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		o.Params = givenParams(cmd, vals)
		o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
		return ran(cmd, query(cmd.Context(), o))
	}
	sourceFlags(cmd, &o.Source)
	addQueryFlags(cmd, flags, vals)
	cmd.Flags().StringVar(&o.Format, "format", app.FormatTable, formats)
	return cmd
}

// addQueryFlags adds one string flag per query parameter.
func addQueryFlags(cmd *cobra.Command, flags []queryFlag, vals map[string]*string) {
	for _, f := range flags {
		vals[f.name] = cmd.Flags().String(f.name, "", f.usage)
	}
}

// givenParams is the flags that were set, as query parameters.
func givenParams(cmd *cobra.Command, vals map[string]*string) url.Values {
	v := url.Values{}
	for name, p := range vals {
		if cmd.Flags().Changed(name) {
			v.Set(name, *p)
		}
	}
	return v
}
