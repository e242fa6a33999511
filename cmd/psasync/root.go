package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/psasync/psasync/app"
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFailed  = 1 // the work ran and failed, or Redis, Graph or the PSA was unavailable
	exitBadArgs = 2 // bad flags or config: nothing was written
)

// configEnv names the config file when --config is not given.
const configEnv = "PSASYNC_CONFIG"

// Execute runs the psasync command line args and returns its exit code.
func Execute(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	var ran *ranError
	if !errors.As(err, &ran) {
		// cobra's own errors: unknown command or flag, bad argument.
		fmt.Fprintf(stderr, "psasync: %v\nRun 'psasync --help' for usage.\n", err)
		return exitBadArgs
	}
	fmt.Fprintf(stderr, "psasync %s: %v\n", ran.cmd, ran.err)
	if errors.Is(ran.err, app.ErrBadConfig) {
		return exitBadArgs
	}
	return exitFailed
}

// ranError is an error of a command's own work (as opposed to parsing).
type ranError struct {
	cmd string
	err error
}

func (e *ranError) Error() string { return e.err.Error() }
func (e *ranError) Unwrap() error { return e.err }

// ran marks err as the result of cmd's work.
func ran(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	return &ranError{cmd: cmd.CommandPath()[len("psasync "):], err: err}
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "psasync",
		Short: "psasync keeps PSA contacts in sync with Microsoft 365 users",
		Long: `psasync keeps the contacts of a PSA (ConnectWise Manage, Autotask, HaloPSA)
in sync with the users of one or many Microsoft 365 tenants.

Every command that reads a config takes --config FILE (default $` + configEnv + `,
else psasync.yaml), or --demo to run against built-in simulators.

Exit status: 0 success; 1 the work ran and failed, or Redis, Graph or the
PSA was unavailable; 2 bad flags or config (nothing was written).`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(newSyncCmd(), newSubscriptionsCmd(), newChangesCmd(), newRunsCmd(), newSyncUserCmd(), newTenantsCmd(), newVersionCmd())
	for _, k := range decisionKinds {
		root.AddCommand(newDecisionCmd(k))
	}
	for _, r := range []app.Role{app.RoleServe, app.RoleWebhook, app.RoleWorker, app.RoleScheduler} {
		root.AddCommand(newRoleCmd(r))
	}
	return root
}

// sourceFlags are --config and --demo, which every config-reading command
// takes.
func sourceFlags(cmd *cobra.Command, s *app.Source) {
	def := os.Getenv(configEnv)
	if def == "" {
		def = "psasync.yaml"
	}
	cmd.Flags().StringVar(&s.ConfigPath, "config", def, "config file (default $"+configEnv+", else psasync.yaml)")
	cmd.Flags().BoolVar(&s.Demo, "demo", false, "run against in-process simulators and an embedded Redis")
	cmd.Flags().StringVar(&s.DemoPSA, "psa", "connectwise", "with --demo: the PSA to simulate (connectwise, autotask, halopsa)")
}

// newActionGroup is a command that only groups its actions: run alone, it
// names them (actions, as "list, ensure or delete").
func newActionGroup(use, short, long, actions string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Long: long, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return errors.New("an action is required: " + actions)
		}}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the module version, VCS revision and Go version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprint(cmd.OutOrStdout(), app.Version())
		},
	}
}
