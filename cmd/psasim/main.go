// Command psasim runs the Graph simulator and one PSA simulator standalone,
// for demos, benchmarks and manual tests. Its state lives as long as the
// process.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/psasync/psasync/simkit/simenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("psasim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o simenv.Options
	var writeConfig string
	fs.IntVar(&o.Users, "users", 150, "users in each generated tenant")
	fs.Int64Var(&o.Seed, "seed", 1, "seed of the generated tenants (same seed, same users)")
	fs.IntVar(&o.Tenants, "tenants", 1, "number of generated tenants (1-10000)")
	fs.StringVar(&o.GraphAddr, "graph-addr", "127.0.0.1:8443", "HOST:PORT of the Graph simulator (TLS)")
	fs.StringVar(&o.PSAAddr, "psa-addr", "127.0.0.1:8081", "HOST:PORT of the PSA simulator")
	fs.StringVar(&o.PSA, "psa", "connectwise", "PSA to simulate: connectwise, autotask or halopsa")
	fs.BoolVar(&o.SeedPSA, "seed-psa", true, "seed the PSA with matching, stale, duplicated and orphaned contacts")
	fs.BoolVar(&o.Unlimited, "unlimited", false, "turn off the simulated vendor quotas")
	fs.IntVar(&o.Customers, "customers", 0, "simulate an MSP: a partner tenant with N customer tenants and matching PSA companies (0-100000)")
	fs.IntVar(&o.CustomerUsers, "customer-users", 5, "with --customers: users in each customer tenant")
	fs.StringVar(&writeConfig, "write-config", "", "write a psasync config that points at these simulators to FILE")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if o.Users < 1 || o.Users > 100000 {
		fmt.Fprintf(stderr, "psasim: --users %d is not between 1 and 100000\n", o.Users)
		return 2
	}
	if o.Customers < 0 || o.Customers > 100000 {
		fmt.Fprintf(stderr, "psasim: --customers %d is not between 0 and 100000\n", o.Customers)
		return 2
	}
	env, err := simenv.Start(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "psasim: %v\n", err)
		return 2
	}
	defer env.Close()
	if writeConfig != "" {
		if err := env.WriteConfig(writeConfig); err != nil {
			fmt.Fprintf(stderr, "psasim: %v\n", err)
			return 1
		}
		fmt.Fprintf(stdout, "psasim: wrote %s; run: psasync sync --config %s --mode full\n", writeConfig, writeConfig)
	}
	fmt.Fprintf(stdout, "psasim: Graph simulator at %s (tenants %v)\n", env.Graph.BaseURL(), env.Tenants)
	fmt.Fprintf(stdout, "psasim: %s simulator at %s (stats: %s/_sim/stats)\n", env.PSA.Name(), env.PSA.BaseURL(), env.PSA.Root())
	if o.Customers > 0 {
		m := env.Mix
		fmt.Fprintf(stdout, "psasim: partner tenant %s with %d customers: by tenant_id %d, domain %d, contact_domain %d, name %d; %d to review; %d without consent\n",
			simenv.PartnerTenantID, len(env.Customers), m.ByRule["tenant_id"], m.ByRule["domain"], m.ByRule["contact_domain"], m.ByRule["name"], m.NeedsReview, m.NoConsent)
		fmt.Fprintln(stdout, "psasim: try: psasync tenants discover --config FILE")
	}
	fmt.Fprintln(stdout, "psasim: Ctrl-C stops it")
	<-ctx.Done()
	return 0
}
