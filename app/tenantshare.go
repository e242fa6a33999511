package app

import (
	"context"
	"encoding/json"

	"github.com/hibiken/asynq"

	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/worker"
)

// shareByTenant marks each job's context with the tenant it is for, so
// that its PSA calls count against that tenant's fair share of the budget
// (psa/quota, share.go) and many tenants' jobs and runs share it evenly
// instead of first-come.
func shareByTenant(next asynq.Handler) asynq.Handler {
	return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) error {
		if tenant := taskTenant(t); tenant != "" {
			ctx = quota.WithTenant(ctx, tenant)
		}
		return next.ProcessTask(ctx, t)
	})
}

// taskTenant reads the tenant from a user:sync or tenant:sync payload; ""
// for other jobs (they make no PSA call) or a payload the handler will
// refuse itself.
func taskTenant(t *asynq.Task) string {
	switch t.Type() {
	case worker.TypeUserSync:
		var p worker.UserSyncPayload
		if json.Unmarshal(t.Payload(), &p) == nil {
			return p.Tenant
		}
	case worker.TypeTenantSync:
		var p worker.TenantSyncPayload
		if json.Unmarshal(t.Payload(), &p) == nil {
			return p.Inputs.Tenant
		}
	}
	return ""
}
