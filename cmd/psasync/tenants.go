package main

import (
	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

// newTenantsCmd is `psasync tenants discover|list|accept|reject|export`.
func newTenantsCmd() *cobra.Command {
	parent := newActionGroup("tenants", "Discover the MSP's customer tenants and map each to its PSA company",
		`Onboarding: discover the customer tenants of the partner tenant (partner:
in the config), check the app's consent in each, and propose a PSA company
by rule: tenant id stored on the company, then website/domain, then the
contacts' email domains, then the normalized name. Accept or reject each;
accepted tenants sync beside the config file's tenants (which win).`,
		"discover, list, accept, reject or export")
	add := func(action, use, short string, args cobra.PositionalArgs, flags func(*cobra.Command, *app.TenantsOptions)) {
		o := app.TenantsOptions{Action: action}
		cmd := &cobra.Command{
			Use: use, Short: short, Args: args,
			RunE: func(cmd *cobra.Command, args []string) error {
				if len(args) > 0 {
					o.Tenant = args[0]
				}
				o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
				return ran(cmd, app.Tenants(cmd.Context(), o))
			},
		}
		sourceFlags(cmd, &o.Source)
		if flags != nil {
			flags(cmd, &o)
		}
		parent.AddCommand(cmd)
	}
	jsonFlag := func(cmd *cobra.Command, o *app.TenantsOptions) {
		cmd.Flags().BoolVar(&o.JSON, "json", false, "print JSON instead of a table")
	}
	add(app.TenantsDiscover, "discover", "List the customers, check consent, propose a company for each (stored unless --dry-run)", cobra.NoArgs,
		func(cmd *cobra.Command, o *app.TenantsOptions) {
			jsonFlag(cmd, o)
			cmd.Flags().BoolVar(&o.DryRun, "dry-run", false, "show the proposals without storing them")
		})
	add(app.TenantsList, "list", "List the discovered tenants and their status", cobra.NoArgs,
		func(cmd *cobra.Command, o *app.TenantsOptions) {
			jsonFlag(cmd, o)
			cmd.Flags().StringVar(&o.Status, "status", "", "only this status: needs_review, proposed, accepted or rejected")
		})
	add(app.TenantsAccept, "accept TENANT_ID", "Accept a tenant's mapping: it starts syncing (subscription, schedules, a first dry run)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, o *app.TenantsOptions) {
			jsonFlag(cmd, o)
			cmd.Flags().StringVar(&o.CompanyID, "company", "", "PSA company id (default: the proposed one)")
			cmd.Flags().BoolVar(&o.WriteBack, "write-back", false, "write the tenant id to the PSA company's tenant-id field")
		})
	add(app.TenantsReject, "reject TENANT_ID", "Reject a tenant: it is not synced, and discovery keeps the decision", cobra.ExactArgs(1),
		func(cmd *cobra.Command, o *app.TenantsOptions) {
			jsonFlag(cmd, o)
			cmd.Flags().StringVar(&o.Reason, "reason", "", "why (kept with the decision)")
		})
	add(app.TenantsExport, "export", "Write the accepted tenants as a tenants: YAML fragment (or --format json|csv)", cobra.NoArgs,
		func(cmd *cobra.Command, o *app.TenantsOptions) {
			cmd.Flags().StringVar(&o.Format, "format", "yaml", "yaml, json or csv")
		})
	return parent
}
