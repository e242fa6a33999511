package main

import (
	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

// runsFlags are the filters of `psasync runs`.
var runsFlags = []queryFlag{
	{"tenant", "only this tenant (its directory id)"},
	{"mode", "only this sync mode (full, incremental)"},
	{"state", "only runs in this state (queued, running, succeeded, failed)"},
	{"since", "created from this time on: RFC 3339, a date (2006-01-02) or a duration back from now (24h)"},
	{"until", "created up to this time (as --since)"},
	{"cursor", "continue after this run (the cursor a previous page printed)"},
	{"limit", "runs per page (default 20, at most 100)"},
}

// newRunsCmd is `psasync runs`.
func newRunsCmd() *cobra.Command {
	return newLedgerQueryCmd(&cobra.Command{
		Use:   "runs",
		Short: "List the run history: the last runs per tenant with their results",
		Long: `List the run history, newest first: the last runs of each tenant (ledger.runs_per_tenant)
with their state and counts; --format json prints the full records with their reports.`,
		Example: "  psasync runs --config psasync.yaml --tenant T --state failed\n  psasync runs --since 24h --format json",
	}, runsFlags, "table or json", app.Runs)
}
