package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/worker"
)

// newLedger builds the change log, run history and operator decisions on
// the App's Redis, with the ledger settings of the config.
func newLedger(rdb redis.UniversalClient, cfg *config.Config) *ledger.Ledger {
	return ledger.New(rdb, cfg.Redis.Prefix(), ledger.Options{
		Retention: cfg.Ledger.Retention, MaxEntries: cfg.Ledger.MaxEntries, RunsPerTenant: cfg.Ledger.RunsPerTenant,
	})
}

// Ledger is the change log, run history and operator decisions every role
// of this App shares.
func (a *App) Ledger() *ledger.Ledger { return a.ledger }

// Output formats of `psasync changes` and `psasync runs`.
const (
	FormatTable = "table"
	FormatJSON  = "json"
	FormatCSV   = "csv"
)

// LedgerQueryOptions are the inputs of `psasync changes` and `psasync runs`:
// the query as parameters named like the flags (tenant, company, user,
// contact, field, action, trigger, mode, state, since, until, cursor,
// limit), the output format and where it goes.
type LedgerQueryOptions struct {
	Source Source
	// Params holds the flags that were given, by name without "--".
	Params url.Values
	// Format is FormatTable, FormatJSON or (changes only) FormatCSV.
	Format string
	// Stdout gets the result; Stderr the logs and the next page's cursor.
	Stdout, Stderr io.Writer
}

// Changes prints one page of the change log, newest first. Bad parameters
// or format are ErrBadConfig naming the flag.
func Changes(ctx context.Context, o LedgerQueryOptions) error {
	if err := checkFormat(o.Format, FormatTable, FormatJSON, FormatCSV); err != nil {
		return err
	}
	q, err := ledger.ParseQuery(o.Params)
	if err != nil {
		return flagParamError(err)
	}
	return withLedger(ctx, o, func(l *ledger.Ledger) error {
		page, err := l.Changes(ctx, q)
		if err != nil {
			return unavailable(err)
		}
		switch o.Format {
		case FormatJSON:
			err = writeJSON(o.Stdout, page)
		case FormatCSV:
			err = ledger.WriteCSV(o.Stdout, page.Entries)
		default:
			err = ledger.WriteTable(o.Stdout, page.Entries)
		}
		if err != nil {
			return classify(err, ErrRunFailed)
		}
		if page.Next != "" && o.Format != FormatJSON {
			fmt.Fprintf(o.Stderr, "more: --cursor %s\n", page.Next)
		}
		return nil
	})
}

// Runs prints one page of the run history, newest first (JSON: the records
// as the API gives them; table: one line per run).
func Runs(ctx context.Context, o LedgerQueryOptions) error {
	if err := checkFormat(o.Format, FormatTable, FormatJSON); err != nil {
		return err
	}
	q, err := ledger.ParseRunQuery(o.Params)
	if err != nil {
		return flagParamError(err)
	}
	return withLedger(ctx, o, func(l *ledger.Ledger) error {
		recs, next, err := l.Runs(ctx, q)
		if err != nil {
			return unavailable(err)
		}
		if o.Format == FormatJSON {
			return writeJSON(o.Stdout, struct {
				Runs []json.RawMessage `json:"runs"`
				Next string            `json:"next,omitempty"`
			}{recs, next})
		}
		if err := writeRunsTable(o.Stdout, recs); err != nil {
			return classify(err, ErrRunFailed)
		}
		if next != "" {
			fmt.Fprintf(o.Stderr, "more: --cursor %s\n", next)
		}
		return nil
	})
}

// withLedger opens the configured Redis (nothing else) and runs fn on the
// ledger.
func withLedger(ctx context.Context, o LedgerQueryOptions, fn func(*ledger.Ledger) error) error {
	cfg, env, err := o.Source.open(ctx)
	if err != nil {
		return err
	}
	if env != nil {
		defer env.Close()
	}
	a := &App{cfg: cfg, log: NewLogger(cfg.Log, o.Stderr)}
	defer a.Close()
	if err := a.openRedis(ctx); err != nil {
		return err
	}
	return fn(newLedger(a.rdb, cfg))
}

func checkFormat(f string, allowed ...string) error {
	for _, a := range allowed {
		if f == a {
			return nil
		}
	}
	return badConfig(fmt.Errorf("--format: %q is not one of %s", f, strings.Join(allowed, ", ")))
}

// flagParamError names the flag of a bad query parameter.
func flagParamError(err error) error {
	var pe *ledger.ParamError
	if errors.As(err, &pe) {
		return badConfig(fmt.Errorf("--%s: %s", pe.Param, pe.Reason))
	}
	return badConfig(err)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return classify(fmt.Errorf("write json: %w", err), ErrRunFailed)
	}
	return nil
}

// writeRunsTable shows the worker's run records one per line.
func writeRunsTable(w io.Writer, recs []json.RawMessage) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTENANT\tMODE\tDRY RUN\tSTATE\tCREATED\tFINISHED\tCREATED#\tUPDATED#\tERRORS")
	for _, raw := range recs {
		var r worker.RunRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return fmt.Errorf("decode run record: %w", err)
		}
		fin, created, updated, errs := "-", "-", "-", "-"
		if r.FinishedAt != nil {
			fin = r.FinishedAt.UTC().Format(time.RFC3339)
		}
		if r.Report != nil {
			s := r.Report.Statistics
			created, updated, errs = fmt.Sprint(s.ContactsCreated), fmt.Sprint(s.ContactsUpdated), fmt.Sprint(s.Errors)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%t\t%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Inputs.Tenant, r.Inputs.SyncMode,
			r.Inputs.DryRun, r.State, r.CreatedAt.UTC().Format(time.RFC3339), fin, created, updated, errs)
	}
	return tw.Flush()
}
