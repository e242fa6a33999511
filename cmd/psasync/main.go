// Command psasync keeps PSA contacts in sync with Microsoft 365 users.
//
//	psasync sync          one run, report JSON on stdout
//	psasync serve         webhook, workers and scheduler in one process
//	psasync webhook       the webhook role alone
//	psasync worker        the worker role alone
//	psasync scheduler     the scheduler role alone
//	psasync subscriptions list|ensure|delete
//	psasync version | completion SHELL | help [COMMAND]
//
// This package only parses the command line; package app does the work.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // tenant time zones load on hosts without zoneinfo (distroless)
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := Execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
