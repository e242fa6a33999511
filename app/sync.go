package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/worker"
)

// SyncOptions are the inputs of one `psasync sync` run: where the config
// comes from, the tenant, the workflow's run inputs, and where the report,
// logs and progress go.
type SyncOptions struct {
	Source Source
	// Tenant is an id or name; empty means the only configured tenant.
	Tenant string
	// Mode is worker.ModeFull or worker.ModeIncremental.
	Mode                               string
	CompanyID                          string
	Departments, OfficeLocations, UPNs []string
	IncludeDisabled, NoUpdate, DryRun  bool
	// ListSkipped lists every skipped user in the report.
	ListSkipped bool
	// Progress says when to show the run's progress on Stderr.
	Progress ProgressMode
	// Stdout gets the JSON report; Stderr the logs and progress.
	Stdout, Stderr io.Writer
}

// Sync runs one sync and writes its report to Stdout. It returns nil when
// the run succeeded, an error wrapping ErrRunFailed when it ran and its
// report says success false, ErrBadConfig for bad inputs or config
// (nothing written to the PSA), and ErrUnavailable when Redis does not
// answer. It is a process entry point (see Serve).
func Sync(ctx context.Context, o SyncOptions) error {
	var (
		in        worker.RunInputs
		selErr    error
		onboarded bool
		prog      *progressPrinter
	)
	a, closeApp, err := o.Source.openApp(ctx, o.Stderr, func(cfg *config.Config, log *logrus.Logger, ao *Options) error {
		in, selErr = runInputs(cfg, o)
		onboarded = errors.Is(selErr, config.ErrUnknownTenant)
		if selErr != nil && !onboarded {
			return badConfig(selErr)
		}
		prog = newProgressPrinter(o.Stderr, o.Progress, isTerminal(o.Stderr), log)
		ao.Progress = prog.Update
		return nil
	})
	if err != nil {
		return err
	}
	defer closeApp()
	if onboarded {
		// Not in the config: an accepted (onboarded) tenant, or unknown.
		t, err := a.selectTenant(ctx, o.Tenant)
		if errors.Is(err, config.ErrUnknownTenant) {
			return badConfig(fmt.Errorf("--tenant: %w", err))
		}
		if err != nil {
			return unavailable(err)
		}
		if in, err = runInputs(&config.Config{Tenants: []config.Tenant{t}}, o); err != nil {
			return badConfig(err)
		}
	}
	runID := fmt.Sprintf("cli-%d-%d", os.Getpid(), time.Now().Unix())
	started := time.Now().UTC()
	rep, err := a.engine.Run(ctx, runID, in)
	prog.Done()
	if err == nil {
		keepCLIRun(ctx, a, runID, in, started, rep)
	}
	if errors.Is(err, worker.ErrTenantBusy) {
		return classify(fmt.Errorf("%w; try again when it has finished", err), ErrRunFailed)
	}
	if err != nil {
		return classify(err, ErrRunFailed)
	}
	enc := json.NewEncoder(o.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return classify(fmt.Errorf("write report: %w", err), ErrRunFailed)
	}
	if !rep.Success {
		return fmt.Errorf("%w: %d errors (see the report's errors)", ErrRunFailed, len(rep.Errors))
	}
	return nil
}

// runInputs turns the options into the run's inputs for the selected
// tenant, validated.
func runInputs(cfg *config.Config, o SyncOptions) (worker.RunInputs, error) {
	t, err := cfg.SelectTenant(o.Tenant)
	if err != nil {
		return worker.RunInputs{}, fmt.Errorf("tenant: %w", err)
	}
	in := worker.DefaultRunInputs(t.ID)
	if o.Mode != "" {
		in.SyncMode = o.Mode
	}
	in.CompanyID = o.CompanyID
	in.DepartmentFilter, in.OfficeLocationFilter, in.UserPrincipalNames = o.Departments, o.OfficeLocations, o.UPNs
	in.SkipDisabledUsers, in.UpdateExisting, in.DryRun = !o.IncludeDisabled, !o.NoUpdate, o.DryRun
	in.ListSkipped = o.ListSkipped
	if err := in.Validate(); err != nil {
		return worker.RunInputs{}, err
	}
	return in, nil
}

// keepCLIRun files a command-line run in the run history beside the
// scheduled and API runs; a history that cannot be written costs the
// record, not the run.
func keepCLIRun(ctx context.Context, a *App, id string, in worker.RunInputs, started time.Time, rep *worker.Report) {
	finished := time.Now().UTC()
	state := worker.RunSucceeded
	if !rep.Success {
		state = worker.RunFailed
	}
	rec := worker.RunRecord{ID: id, State: state, Inputs: in, CreatedAt: started, StartedAt: &started, FinishedAt: &finished, Report: rep}
	if err := a.engine.Store().SaveRun(ctx, rec); err != nil {
		a.log.WithError(err).Warn("could not keep the run in the run history")
	}
}
