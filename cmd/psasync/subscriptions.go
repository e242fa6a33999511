package main

import (
	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

// newSubscriptionsCmd is `psasync subscriptions list|ensure|delete`.
func newSubscriptionsCmd() *cobra.Command {
	parent := newActionGroup("subscriptions", "List, ensure or delete the tenants' Graph subscriptions", "", "list, ensure or delete")
	for _, a := range []struct{ action, short string }{
		{app.SubscriptionsList, "Show every tenant's subscription, expiry, last notification and health"},
		{app.SubscriptionsEnsure, "Create, adopt or renew the subscription of every enabled tenant (or --tenant)"},
		{app.SubscriptionsDelete, "Delete the subscription of every tenant (or --tenant)"},
	} {
		o := app.SubscriptionsOptions{Action: a.action}
		cmd := &cobra.Command{
			Use:   a.action,
			Short: a.short,
			Long:  a.short + ", then list the statuses. Exit status 1 when a tenant failed.",
			Args:  cobra.NoArgs,
			RunE: func(cmd *cobra.Command, _ []string) error {
				o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
				return ran(cmd, app.Subscriptions(cmd.Context(), o))
			},
		}
		sourceFlags(cmd, &o.Source)
		cmd.Flags().StringVar(&o.Tenant, "tenant", "", "only this tenant (id or name)")
		cmd.Flags().BoolVar(&o.JSON, "json", false, "list as JSON")
		parent.AddCommand(cmd)
	}
	return parent
}
