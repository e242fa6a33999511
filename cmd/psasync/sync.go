package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/worker"
)

// multiFlag is a repeatable string flag; "a,b" also splits.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*m = append(*m, p)
		}
	}
	return nil
}

func cmdSync(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("psasync sync", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfgPath, mode, company, tenant, psaType string
		depts, offices, upns                    multiFlag
		includeDisabled, noUpdate, dryRun, demo bool
	)
	fs.StringVar(&cfgPath, "config", "psasync.yaml", "config file")
	fs.StringVar(&mode, "mode", worker.ModeIncremental, "full or incremental")
	fs.StringVar(&company, "company-id", "", "PSA company for every user of this run (overrides the tenant's mapping)")
	fs.Var(&depts, "department", "only users of this department (repeatable)")
	fs.Var(&offices, "office-location", "only users of this office location (repeatable)")
	fs.Var(&upns, "upn", "only this user principal name (repeatable)")
	fs.BoolVar(&includeDisabled, "include-disabled", false, "sync disabled users too (skip_disabled_users=false)")
	fs.BoolVar(&noUpdate, "no-update", false, "create missing contacts but do not update existing ones (update_existing=false)")
	fs.BoolVar(&dryRun, "dry-run", false, "plan only: make no PSA writes and report what a real run would do")
	fs.StringVar(&tenant, "tenant", "", "tenant id or name (default: the only tenant; required when the config has several)")
	fs.BoolVar(&demo, "demo", false, "run against in-process simulators (150-user tenant, seeded PSA) and an embedded Redis")
	fs.StringVar(&psaType, "psa", config.PSAConnectWise, "with --demo: which PSA to simulate (connectwise, autotask, halopsa)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitBadArgs
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "psasync sync: unexpected argument %q\n", fs.Arg(0))
		return exitBadArgs
	}

	var (
		cfg *config.Config
		env *demoEnv
		err error
	)
	if demo {
		env, err = startDemo(ctx, psaType, demoOptions{})
		if err != nil {
			fmt.Fprintf(stderr, "psasync sync --demo: %v\n", err)
			return exitBadArgs
		}
		defer env.Close()
		cfg = env.cfg
	} else if cfg, err = config.Load(cfgPath); err != nil {
		fmt.Fprintf(stderr, "psasync sync: %v\n", err)
		return exitBadArgs
	}
	if tenant == "" {
		if len(cfg.Tenants) != 1 {
			fmt.Fprintf(stderr, "psasync sync: --tenant is required: the config has %d tenants\n", len(cfg.Tenants))
			return exitBadArgs
		}
		tenant = cfg.Tenants[0].ID
	}
	t, ok := cfg.Tenant(tenant)
	if !ok {
		fmt.Fprintf(stderr, "psasync sync: --tenant: %q is not a tenant in the config\n", tenant)
		return exitBadArgs
	}
	in := worker.DefaultRunInputs(t.ID)
	in.SyncMode, in.CompanyID = mode, company
	in.DepartmentFilter, in.OfficeLocationFilter, in.UserPrincipalNames = depts, offices, upns
	in.SkipDisabledUsers, in.UpdateExisting, in.DryRun = !includeDisabled, !noUpdate, dryRun
	if err := in.Validate(); err != nil {
		fmt.Fprintf(stderr, "psasync sync: %v\n", flagNames(err))
		return exitBadArgs
	}

	log := newLogger(cfg.Log, os.Stderr)
	if w, ok := stderr.(*os.File); ok {
		log.Out = w
	} else {
		log.Out = stderr
	}
	a, err := build(ctx, cfg, log, env.httpClient())
	if err != nil {
		fmt.Fprintf(stderr, "psasync sync: %v\n", err)
		return exitBadArgs
	}
	defer a.Close()
	runID := fmt.Sprintf("cli-%d-%d", os.Getpid(), time.Now().Unix())
	rep, err := a.engine.Run(ctx, runID, in)
	if errors.Is(err, worker.ErrTenantBusy) {
		fmt.Fprintf(stderr, "psasync sync: %v; try again when it has finished\n", err)
		return exitFailed
	}
	if err != nil {
		fmt.Fprintf(stderr, "psasync sync: %v\n", err)
		return exitBadArgs
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		fmt.Fprintf(stderr, "psasync sync: write report: %v\n", err)
		return exitFailed
	}
	if !rep.Success {
		return exitFailed
	}
	return exitOK
}

// flagNames rewrites run-input field names as the CLI's flag names.
func flagNames(err error) string {
	r := strings.NewReplacer("sync_mode:", "--mode:", "user_principal_names", "--upn", "company_id:", "--company-id:", "tenant:", "--tenant:")
	return r.Replace(err.Error())
}
