// Command psasync keeps PSA contacts in sync with Microsoft 365 users.
//
//	psasync sync          one run, report JSON on stdout
//	psasync serve         webhook, workers and scheduler in one process
//	psasync webhook       the webhook role alone
//	psasync worker        the worker role alone
//	psasync scheduler     the scheduler role alone
//	psasync subscriptions list|ensure|delete
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // tenant time zones load on hosts without zoneinfo (distroless)
)

// Exit codes shared by every command.
const (
	exitOK      = 0
	exitFailed  = 1 // the run or command ran and failed
	exitBadArgs = 2 // bad flags or config: nothing was written
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `psasync keeps PSA contacts in sync with Microsoft 365 users.

Usage:
  psasync sync [flags]            run one sync and print its JSON report
  psasync serve [flags]           webhook + workers + scheduler in one process
  psasync webhook [flags]         only the webhook and API role
  psasync worker [flags]          only the worker role
  psasync scheduler [flags]       only the scheduler role
  psasync subscriptions list|ensure|delete [flags]

Run "psasync COMMAND -h" for a command's flags. Every command takes
--config FILE (default psasync.yaml) or --demo (built-in simulators).
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitBadArgs
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "sync":
		return cmdSync(ctx, rest, stdout, stderr)
	case "serve":
		return roleCommand(roleWebhook|roleWorker|roleScheduler)(ctx, rest, stdout, stderr)
	case "webhook":
		return roleCommand(roleWebhook)(ctx, rest, stdout, stderr)
	case "worker":
		return roleCommand(roleWorker)(ctx, rest, stdout, stderr)
	case "scheduler":
		return roleCommand(roleScheduler)(ctx, rest, stdout, stderr)
	case "subscriptions":
		return cmdSubscriptions(ctx, rest, stdout, stderr)
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return exitOK
	}
	fmt.Fprintf(stderr, "psasync: unknown command %q\n\n%s", cmd, usage)
	return exitBadArgs
}
