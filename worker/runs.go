package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/psasync/psasync/ledger"
)

// Run states.
const (
	RunQueued    = "queued"
	RunRunning   = "running"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// RunRecord is what the runs API shows: the run's state and, once done, its
// report.
type RunRecord struct {
	ID         string     `json:"id"`
	State      string     `json:"state"`
	Inputs     RunInputs  `json:"inputs"`
	CreatedAt  time.Time  `json:"created_at"`
	StartedAt  *time.Time `json:"started_at,omitempty"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
	// Error is set when the run could not produce a report at all.
	Error  string  `json:"error,omitempty"`
	Report *Report `json:"report,omitempty"`
}

// ledgerRun is the record as the ledger files it: the fields it filters
// on, and the record itself.
func (r RunRecord) ledgerRun() (ledger.Run, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return ledger.Run{}, fmt.Errorf("encode run %s: %w", r.ID, err)
	}
	lr := ledger.Run{ID: r.ID, Tenant: r.Inputs.Tenant, Mode: r.Inputs.SyncMode, DryRun: r.Inputs.DryRun, State: r.State, CreatedAt: r.CreatedAt, Record: b}
	if r.Report != nil {
		lr.Mode = r.Report.SyncMode
	}
	if r.FinishedAt != nil {
		lr.FinishedAt = *r.FinishedAt
	}
	return lr, nil
}

// SaveRun writes a run record; the ledger keeps the newest runs of each
// tenant (ledger.Options.RunsPerTenant).
func (s *Store) SaveRun(ctx context.Context, r RunRecord) error {
	lr, err := r.ledgerRun()
	if err != nil {
		return err
	}
	return s.ledger.SaveRun(ctx, lr)
}

// createRun stores a new run record; false when the id exists already.
func (s *Store) createRun(ctx context.Context, r RunRecord) (bool, error) {
	lr, err := r.ledgerRun()
	if err != nil {
		return false, err
	}
	return s.ledger.CreateRun(ctx, lr)
}

// deleteRun removes a run record that never got its task.
func (s *Store) deleteRun(ctx context.Context, id string) {
	_ = s.ledger.DeleteRun(ctx, id)
}

// Run reads one run record.
func (s *Store) Run(ctx context.Context, id string) (RunRecord, bool, error) {
	raw, ok, err := s.ledger.Run(ctx, id)
	if err != nil || !ok {
		return RunRecord{}, ok, err
	}
	var r RunRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return RunRecord{}, false, fmt.Errorf("decode run %s: %w", id, err)
	}
	return r, true, nil
}

// Runs returns up to limit runs matching q, newest first, paging through
// the ledger.
func (s *Store) Runs(ctx context.Context, q ledger.RunQuery, limit int) ([]RunRecord, error) {
	out := []RunRecord{}
	for {
		q.Limit = min(limit-len(out), ledger.MaxRunsLimit)
		raws, next, err := s.ledger.Runs(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		for _, raw := range raws {
			var r RunRecord
			if err := json.Unmarshal(raw, &r); err != nil {
				return nil, fmt.Errorf("decode a listed run: %w", err)
			}
			out = append(out, r)
		}
		if next == "" || len(out) >= limit {
			return out, nil
		}
		q.Cursor = next
	}
}

// LastRuns returns each tenant's newest run record; a tenant without a run
// is absent.
func (s *Store) LastRuns(ctx context.Context, tenants []string) (map[string]RunRecord, error) {
	raws, err := s.ledger.LastRuns(ctx, tenants)
	if err != nil {
		return nil, err
	}
	out := make(map[string]RunRecord, len(raws))
	for t, raw := range raws {
		var r RunRecord
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, fmt.Errorf("decode the newest run of tenant %s: %w", t, err)
		}
		out[t] = r
	}
	return out, nil
}
