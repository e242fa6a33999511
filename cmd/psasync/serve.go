package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

var roleShort = map[app.Role]string{
	app.RoleServe:     "Run the webhook, workers and scheduler in one process",
	app.RoleWebhook:   "Run only the HTTP side: Graph notifications, API, health, metrics, UI",
	app.RoleWorker:    "Run only job processing",
	app.RoleScheduler: "Run only subscription upkeep and the scheduled runs",
}

// newRoleCmd is `psasync serve|webhook|worker|scheduler`.
func newRoleCmd(r app.Role) *cobra.Command {
	o := app.ServeOptions{Roles: r}
	cmd := &cobra.Command{
		Use:   r.String(),
		Short: roleShort[r],
		Long:  roleShort[r] + ", until SIGTERM or Ctrl-C (then in-flight requests and jobs finish).",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Stdout, o.Stderr = cmd.OutOrStdout(), cmd.ErrOrStderr()
			return ran(cmd, app.Serve(cmd.Context(), o))
		},
	}
	sourceFlags(cmd, &o.Source)
	f := cmd.Flags()
	if r&app.RoleWebhook != 0 {
		f.StringVar(&o.Listen, "listen", "", "HOST:PORT to listen on (default server.listen, else 127.0.0.1:8080)")
	}
	if r&app.RoleWorker != 0 {
		f.IntVar(&o.Concurrency, "concurrency", 0, "jobs run at once by this process (default worker.concurrency, else 20)")
	}
	if r&app.RoleWebhook == 0 {
		f.StringVar(&o.MetricsListen, "metrics-listen", "", "HOST:PORT to serve /metrics, /healthz and /readyz on (default worker.metrics_listen; none when empty)")
	}
	if r == app.RoleServe {
		f.IntVar(&o.Source.DemoUsers, "demo-users", 150, "with --demo: users in the simulated tenant")
		f.DurationVar(&o.DemoChangeEvery, "demo-change-every", 15*time.Second, "with --demo: how often the simulated tenant changes a user (0 = never)")
	}
	return cmd
}
