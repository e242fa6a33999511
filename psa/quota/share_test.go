package quota

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
)

// contend runs workers[t] goroutines per tenant against one budget until
// total calls passed, each goroutine waiting out the RetryAfter it is
// given, as the engine and the queue do, and returns the calls passed per
// tenant.
func contend(t *testing.T, rdb *redis.Client, cfg Config, workers map[string]int, total int64) map[string]int64 {
	t.Helper()
	c := Wrap(&fakePSA{}, rdb, cfg)
	var passed atomic.Int64
	counts := map[string]*atomic.Int64{}
	for tenant := range workers {
		counts[tenant] = &atomic.Int64{}
	}
	var wg sync.WaitGroup
	for tenant, n := range workers {
		ctx := psa.WithTenant(context.Background(), tenant)
		for range n {
			wg.Go(func() {
				for passed.Load() < total {
					_, err := c.GetContact(ctx, "1")
					var pe *psa.Error
					switch {
					case err == nil:
						passed.Add(1)
						counts[tenant].Add(1)
					case errors.As(err, &pe) && errors.Is(err, psa.ErrRateLimited):
						time.Sleep(min(pe.RetryAfter, 50*time.Millisecond))
					default:
						t.Errorf("call for %s: %v", tenant, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	out := map[string]int64{}
	for tenant, n := range counts {
		out[tenant] = n.Load()
	}
	return out
}

func TestBudgetIsSharedFairlyBetweenTenants(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	rdb := r.client(t)
	// One tenant has eight jobs waiting, two have one each.
	workers := map[string]int{"greedy": 8, "small-a": 1, "small-b": 1}
	const total = 150
	fair := contend(t, rdb, r.config(Config{Requests: 200, Period: 2 * time.Second}), workers, total)
	t.Logf("fair shares: %v", fair)
	for tenant, n := range fair {
		require.InDelta(t, total/3, n, total/3*0.35, "%s got %d of %d calls", tenant, n, total)
	}

	// The same load first-come, first-served: the tenant with most jobs
	// takes most of the budget.
	r2 := newTestRedis(t)
	fcfs := contend(t, rdb, r2.config(Config{Requests: 200, Period: 2 * time.Second, ShareWindow: -1}), workers, total)
	t.Logf("first come: %v", fcfs)
	require.Greater(t, fcfs["greedy"], int64(total/2), "without shares the busiest tenant takes most")
}

func TestTenantAloneGetsTheWholeBudget(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	c := Wrap(&fakePSA{}, r.client(t), r.config(Config{Requests: 10, Period: time.Hour, Burst: 10}))
	ctx := psa.WithTenant(context.Background(), "only")
	for i := range 10 {
		_, err := c.GetContact(ctx, "1")
		require.NoError(t, err, "call %d", i)
	}
	_, err := c.GetContact(ctx, "1")
	require.ErrorIs(t, err, psa.ErrRateLimited, "then the budget is spent")
}

func TestShareRefusalNamesTheTenant(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	c := Wrap(&fakePSA{}, r.client(t), r.config(Config{Requests: 10, Period: time.Hour, Burst: 10}))
	_, err := c.GetContact(psa.WithTenant(context.Background(), "other"), "1")
	require.NoError(t, err)
	ctx := psa.WithTenant(context.Background(), "busy")
	var last error
	for range 10 {
		if _, last = c.GetContact(ctx, "1"); last != nil {
			break
		}
	}
	var pe *psa.Error
	require.ErrorAs(t, last, &pe)
	require.ErrorIs(t, last, psa.ErrRateLimited)
	require.Contains(t, pe.Message, "tenant busy has spent its share")
	require.Contains(t, pe.Message, "1/2 of 10 requests")
	require.Positive(t, pe.RetryAfter)
	require.EqualValues(t, 1, c.Stats().ShareLimited)
	require.Equal(t, "busy", psa.TenantOf(ctx))
}
