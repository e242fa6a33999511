package main

import (
	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

// The decisions that wait for a person: list them, and act on them. Every
// action names its operator in the change log as the command line's user.

// decisionKind is one kind of decision, `psasync <use> list|<actions>`.
type decisionKind struct {
	use, short string
	// list is the list command's help; withStatus gives it --status.
	list       string
	withStatus bool
	actions    []decisionAction
}

// decisionAction is one operator's command on a kind of decision, with the
// flags newActionCmd gives it.
type decisionAction struct {
	use, short, example, action string
	flags                       []string
}

// decisionKinds are the conflicts, the held deactivations and the
// quarantine.
var decisionKinds = []decisionKind{
	{use: "conflicts", short: "List and resolve users that several PSA contacts could be (DuplicateContact)",
		list: "List the conflicts (open by default), each user with its candidate contacts side by side", withStatus: true,
		actions: []decisionAction{
			{use: "resolve", short: "Link the user of an open conflict to one of its candidate contacts, and sync it now",
				example: "  psasync conflicts resolve --tenant T --user 2f0c...e1 --contact 4711",
				action:  app.ActionResolveConflict, flags: []string{"tenant", "user", "contact"}},
			{use: "ignore", short: "Ignore a conflicting user: syncs skip it until the conflict reopens",
				action: app.ActionIgnoreConflict, flags: []string{"tenant", "user"}},
		}},
	{use: "held", short: "List and decide the deactivations the guard held back",
		list: "List the pending batches of held deactivations, each contact with its reason",
		actions: []decisionAction{
			{use: "approve BATCH", short: "Approve a held batch (or --contact C ... of it) and deactivate those contacts now",
				example: "  psasync held approve 01JD... --contact 4711 --contact 4712",
				action:  app.ActionApproveHeld, flags: []string{"batch", "contacts"}},
			{use: "reject BATCH", short: "Reject a held batch (or --contact C ... of it): those contacts stay active and are not proposed again while their reason stands",
				action: app.ActionRejectHeld, flags: []string{"batch", "contacts"}},
		}},
	{use: "quarantine", short: "List and release quarantined users and tenants",
		list: "List the quarantined users and tenants with their last error",
		actions: []decisionAction{
			{use: "release", short: "Release a user (--user) or, without --user, the tenant itself from quarantine",
				action: app.ActionReleaseTenant, flags: []string{"tenant", "user"}},
		}},
}

// newDecisionCmd is `psasync <kind> list|<actions>`.
func newDecisionCmd(k decisionKind) *cobra.Command {
	cmd := &cobra.Command{Use: k.use, Short: k.short}
	cmd.AddCommand(newListCmd(k.use, k.list, k.withStatus))
	for _, a := range k.actions {
		cmd.AddCommand(newActionCmd(&cobra.Command{Use: a.use, Short: a.short, Example: a.example}, a.action, a.flags...))
	}
	return cmd
}

// newSyncUserCmd is `psasync sync-user`.
func newSyncUserCmd() *cobra.Command {
	return newActionCmd(&cobra.Command{
		Use:   "sync-user",
		Short: "Sync one user now and print every step: the user as read, scope, match, diff, the PSA's answer",
		Example: "  psasync sync-user --tenant T --upn alice@contoso.com --dry-run\n" +
			"  psasync sync-user --tenant T --user 2f0c...e1",
	}, app.ActionSyncUser, "tenant", "user", "upn", "dry-run")
}

// newListCmd lists one kind of decision as JSON.
func newListCmd(what, short string, withStatus bool) *cobra.Command {
	o := app.DecisionListOptions{What: what}
	cmd := &cobra.Command{Use: "list", Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return ran(cmd, app.ListDecisions(cmd.Context(), o))
		}}
	sourceFlags(cmd, &o.Source)
	cmd.Flags().StringVar(&o.Tenant, "tenant", "", "only this tenant (its directory id)")
	if withStatus {
		cmd.Flags().StringVar(&o.Status, "status", "", "open (default), resolved, ignored, closed or all")
	}
	return cmd
}

// newActionCmd completes an operator's command with the flags it takes.
func newActionCmd(cmd *cobra.Command, action string, flags ...string) *cobra.Command {
	o := app.OperateOptions{Action: action}
	cmd.Args = cobra.NoArgs
	for _, f := range flags {
		switch f {
		case "tenant":
			cmd.Flags().StringVar(&o.Tenant, "tenant", "", "the tenant (id or name; may be left out when one is configured)")
		case "user":
			cmd.Flags().StringVar(&o.User, "user", "", "the user's Microsoft 365 object id")
		case "upn":
			cmd.Flags().StringVar(&o.UPN, "upn", "", "the user's principal name (instead of --user)")
		case "contact":
			cmd.Flags().StringVar(&o.Contact, "contact", "", "the PSA contact id to link the user to")
		case "contacts":
			cmd.Flags().StringSliceVar(&o.Contacts, "contact", nil, "only these contact ids of the batch (repeatable; default all)")
		case "dry-run":
			cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "plan only: write nothing, show what would be written")
		case "batch":
			cmd.Args = cobra.ExactArgs(1)
		}
	}
	sourceFlags(cmd, &o.Source)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 1 {
			o.Batch = args[0]
		}
		if action == app.ActionReleaseTenant && o.User != "" {
			o.Action = app.ActionReleaseUser
		}
		o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
		return ran(cmd, app.Operate(cmd.Context(), o))
	}
	return cmd
}
