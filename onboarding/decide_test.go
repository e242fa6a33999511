package onboarding_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/onboarding"
)

// consentDirectory answers every consent check with granted and counts
// the checks; onCheck runs first.
type consentDirectory struct {
	checks  atomic.Int32
	onCheck func()
}

func (d *consentDirectory) Customers(context.Context) ([]directory.Customer, error) {
	return nil, nil
}

func (d *consentDirectory) CheckConsent(_ context.Context, tenantID string) (directory.Consent, error) {
	d.checks.Add(1)
	d.onCheck()
	return directory.Consent{TenantID: tenantID, Granted: true}, nil
}

func (d *consentDirectory) Organization(context.Context, string) (directory.Organization, error) {
	return directory.Organization{}, nil
}

func TestRecheckConsentStopsWhenContextIsDone(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	for i := range 5 {
		tenant := fmt.Sprintf("%08d-1111-4111-8111-111111111111", i)
		require.NoError(t, store.SaveAccepted(context.Background(), accepted(tenant, fmt.Sprint(i))))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := &consentDirectory{onCheck: cancel}
	s := onboarding.New(dir, nil, store, onboarding.Config{Concurrency: 1})
	_, err := s.RecheckConsent(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.LessOrEqual(t, dir.checks.Load(), int32(2), "no check starts once the context is done")
}
