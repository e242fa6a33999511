package console

import (
	"time"

	"github.com/psasync/psasync/worker"
)

// RunSummary is a run as lists show it: its inputs, state and counters,
// without the report's items.
type RunSummary struct {
	ID, State, Tenant, SyncMode string
	DryRun                      bool
	CreatedAt                   time.Time
	// Error is the record's error (no report could be made).
	Error string
	// Report is false until the run produced a report; Success,
	// Statistics and DurationMS are the report's then.
	Report     bool
	Success    bool
	Statistics worker.Statistics
	DurationMS int64
}

// Summarize is the list form of a run record.
func Summarize(r worker.RunRecord) RunSummary {
	s := RunSummary{ID: r.ID, State: r.State, Tenant: r.Inputs.Tenant, SyncMode: r.Inputs.SyncMode, DryRun: r.Inputs.DryRun,
		CreatedAt: r.CreatedAt, Error: r.Error}
	if r.Report != nil {
		s.Report, s.Success, s.Statistics, s.DurationMS = true, r.Report.Success, r.Report.Statistics, r.Report.DurationMS
		if r.Report.SyncMode != "" {
			s.SyncMode = r.Report.SyncMode
		}
	}
	return s
}
