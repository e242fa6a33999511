package quota

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/simkit"
)

// directoryFixture is a ConnectWise client on cwsim, with five companies
// and pages of two, wrapped with budget requests per hour.
func directoryFixture(t *testing.T, requests int) (*Client, *cwsim.Sim) {
	t.Helper()
	sim := cwsim.NewServer(t)
	for i := 1; i <= 5; i++ {
		sim.SeedCompany(simkit.Company{ID: i, Name: fmt.Sprintf("Customer %d", i), Website: fmt.Sprintf("customer%d.example", i),
			Contacts: []simkit.Contact{{FirstName: "Ann", LastName: "Lee", Email: fmt.Sprintf("ann@customer%d.example", i)}}})
	}
	inner, err := connectwise.New(connectwise.Config{SiteURL: sim.BaseURL(), CompanyID: cwsim.DefaultCompanyID,
		PublicKey: cwsim.DefaultPublicKey, PrivateKey: cwsim.DefaultPrivateKey, ClientID: cwsim.DefaultClientID,
		TenantIDFieldID: cwsim.TenantIDFieldID, PageSize: 2})
	require.NoError(t, err)
	r := newTestRedis(t)
	return Wrap(inner, r.client(t), r.config(Config{Requests: requests, Burst: requests, Period: time.Hour, MaxConcurrent: 1}),
		WithPageSize(2)), sim
}

func TestDirectoryIsForwardedAndCharged(t *testing.T) {
	t.Parallel()
	c, sim := directoryFixture(t, 100)
	ctx := t.Context()

	list, err := c.ListCompanies(ctx)
	require.NoError(t, err)
	require.Len(t, list, 5)
	require.Equal(t, []string{"customer3.example"}, list[2].Domains)
	require.Equal(t, int64(3), c.Stats().Calls, "five companies in pages of two: three units")
	require.Equal(t, 3, sim.Stats().Reads)

	domains, err := c.ContactDomains(ctx, []string{"1", "4"})
	require.NoError(t, err)
	require.Equal(t, map[string][]string{"1": {"customer1.example"}, "4": {"customer4.example"}}, domains)
	require.Equal(t, int64(4), c.Stats().Calls)

	const tenant = "0b1e0000-0000-4000-8000-000000000001"
	co, err := c.SetCompanyTenantID(ctx, "2", tenant)
	require.NoError(t, err)
	require.Equal(t, tenant, co.TenantID)
	stored, _ := sim.Company(2)
	require.Equal(t, tenant, stored.TenantID)
	require.Equal(t, int64(6), c.Stats().Calls, "a tenant id write costs its read and its write")

	_, err = c.SetCompanyTenantID(ctx, "99", tenant)
	require.ErrorIs(t, err, psa.ErrNotFound, "the vendor's answer passes through")
}

func TestDirectoryOverBudgetSendsNothing(t *testing.T) {
	t.Parallel()
	c, sim := directoryFixture(t, 1)
	ctx := t.Context()
	_, err := c.ContactDomains(ctx, []string{"1"})
	require.NoError(t, err)
	reads := sim.Stats().Reads

	_, err = c.ListCompanies(ctx)
	requireRateLimited(t, err, time.Minute, time.Hour)
	_, err = c.SetCompanyTenantID(ctx, "1", "0b1e0000-0000-4000-8000-000000000001")
	requireRateLimited(t, err, time.Minute, time.Hour)
	_, err = c.ContactDomains(ctx, []string{"1"})
	require.True(t, errors.Is(err, psa.ErrOwnQuota), "%v", err)
	require.Equal(t, reads, sim.Stats().Reads, "nothing reached the PSA")
	stored, _ := sim.Company(1)
	require.Empty(t, stored.TenantID)
}

func TestDirectoryOfAClientWithoutOne(t *testing.T) {
	t.Parallel()
	r := newTestRedis(t)
	fake := &fakePSA{}
	c := Wrap(fake, r.client(t), r.config(Config{Requests: 10, Burst: 10, Period: time.Hour}))
	_, err := c.ListCompanies(t.Context())
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = c.ContactDomains(t.Context(), []string{"1"})
	require.ErrorIs(t, err, psa.ErrInvalid)
	_, err = c.SetCompanyTenantID(t.Context(), "1", "0b1e0000-0000-4000-8000-000000000001")
	require.ErrorIs(t, err, psa.ErrInvalid)
	require.Zero(t, fake.callCount())
	require.Zero(t, c.Stats().Calls)
}
