package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/sirupsen/logrus"
)

// TenantSyncHandler runs tenant:sync jobs and keeps their run records.
// (user:sync jobs are handled by UserSyncHandler, in user.go.)
type TenantSyncHandler struct {
	Engine *Engine
	Log    logrus.FieldLogger
	// Observe, when set, sees every finished report (metrics).
	Observe func(*Report)
}

// ProcessTask performs the run and stores its record for the runs API.
func (h *TenantSyncHandler) ProcessTask(ctx context.Context, t *asynq.Task) error {
	var p TenantSyncPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil || p.RunID == "" {
		return fmt.Errorf("tenant:sync payload: want run_id and inputs: %w", asynq.SkipRetry)
	}
	s := h.Engine.store
	// A cheap check before marking the run "running": a run that has to
	// wait for another goes back to the queue as "queued".
	if busy, err := s.tenantBusy(ctx, p.Inputs.Tenant); err != nil {
		return err
	} else if busy {
		return ErrTenantBusy
	}
	rec, ok, err := s.Run(ctx, p.RunID)
	if err != nil {
		return err
	}
	if !ok {
		rec = RunRecord{ID: p.RunID, Inputs: p.Inputs, CreatedAt: h.Engine.cfg.Now().UTC()}
	}
	started := h.Engine.cfg.Now().UTC()
	rec.State, rec.StartedAt = RunRunning, &started
	if err := s.SaveRun(ctx, rec); err != nil {
		return err
	}
	rep, err := h.Engine.Run(ctx, p.RunID, p.Inputs)
	if errors.Is(err, ErrTenantBusy) {
		rec.State, rec.StartedAt = RunQueued, nil
		_ = s.SaveRun(context.WithoutCancel(ctx), rec)
		return err
	}
	finished := h.Engine.cfg.Now().UTC()
	rec.FinishedAt = &finished
	if err != nil {
		rec.State, rec.Error = RunFailed, err.Error()
		if serr := s.SaveRun(context.WithoutCancel(ctx), rec); serr != nil {
			return serr
		}
		return fmt.Errorf("run %s: %w: %w", p.RunID, err, asynq.SkipRetry)
	}
	rec.Report = rep
	rec.State = RunSucceeded
	if !rep.Success {
		rec.State = RunFailed
	}
	if h.Observe != nil {
		h.Observe(rep)
	}
	if err := s.SaveRun(context.WithoutCancel(ctx), rec); err != nil {
		return err
	}
	// A run's failures are per user and in its report; re-running the whole
	// run would not fix them, and the next scheduled run retries them.
	return nil
}
