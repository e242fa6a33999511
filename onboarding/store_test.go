package onboarding_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/onboarding"
)

// newStore is a store on a fresh miniredis, or on TEST_REDIS_ADDR under a
// key prefix of the test's own.
func newStore(t *testing.T) *onboarding.Store {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "psasync-test-" + hex.EncodeToString(b[:]) + ":"
	addr := os.Getenv("TEST_REDIS_ADDR")
	if addr == "" {
		addr = miniredis.RunT(t).Addr()
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			rdb.Del(ctx, keys...)
		}
		_ = rdb.Close()
	})
	return onboarding.NewStore(rdb, prefix)
}

func accepted(tenant, company string) onboarding.Proposal {
	return onboarding.Proposal{TenantID: tenant, Status: onboarding.StatusAccepted, Company: &onboarding.Candidate{CompanyID: company}}
}

func TestStoreAcceptIsAtomic(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	// Two tenants race for one company: exactly one wins.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, tenant := range []string{tenantA, tenantB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.SaveAccepted(ctx, accepted(tenant, "7"))
		}()
	}
	wg.Wait()
	var won, lost int
	for _, err := range errs {
		if err == nil {
			won++
		} else {
			require.ErrorIs(t, err, onboarding.ErrCompanyTaken)
			lost++
		}
	}
	require.Equal(t, 1, won)
	require.Equal(t, 1, lost)
	owners, err := s.CompanyOwners(ctx)
	require.NoError(t, err)
	require.Len(t, owners, 1)

	winner := owners["7"]
	require.ErrorIs(t, s.SaveAccepted(ctx, accepted(winner, "8")), onboarding.ErrAlreadyAccepted)
	all, err := s.AcceptedAll(ctx)
	require.NoError(t, err)
	require.Len(t, all, 1)
	require.Equal(t, "7", all[0].Company.CompanyID, "a refused accept changes nothing")
}

func TestStoreKeepsDecisionsOverDiscoveries(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newStore(t)
	require.NoError(t, s.ReplaceProposals(ctx, []onboarding.Proposal{
		{TenantID: tenantA, Status: onboarding.StatusProposed},
		{TenantID: tenantB, Status: onboarding.StatusNeedsReview},
	}))
	require.NoError(t, s.SaveRejected(ctx, onboarding.Proposal{TenantID: tenantB, Status: onboarding.StatusRejected}))
	require.NoError(t, s.SaveAccepted(ctx, accepted(tenantA, "1")))
	// The next discovery leaves nothing open: the decisions stay.
	require.NoError(t, s.ReplaceProposals(ctx, nil))
	for status, want := range map[onboarding.Status]int{"": 2, onboarding.StatusAccepted: 1, onboarding.StatusRejected: 1, onboarding.StatusProposed: 0} {
		ps, err := s.List(ctx, status)
		require.NoError(t, err)
		require.Len(t, ps, want, "status %q", status)
	}
	p, ok, err := s.Get(ctx, "11111111-1111-4111-8111-111111111111")
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, onboarding.StatusAccepted, p.Status)
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"", "needs_review", "proposed", "accepted", "rejected"} {
		_, err := onboarding.ParseStatus(ok)
		require.NoError(t, err, ok)
	}
	_, err := onboarding.ParseStatus("pending")
	require.EqualError(t, err, `status "pending" is not needs_review, proposed, accepted or rejected`)
}
