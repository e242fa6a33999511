package autotask_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/psa/psatest"
)

// BenchmarkDirectory1000 is psatest.BenchDirectory on atsim: one
// onboarding pass over 1,000 companies at the default page size.
func BenchmarkDirectory1000(b *testing.B) {
	sim := atsim.NewServer(b, atsim.WithHourlyLimit(0))
	cfg := simConfig(sim)
	cfg.TenantIDUDF = atsim.DefaultTenantIDUDF
	client, err := autotask.New(cfg)
	require.NoError(b, err)
	psatest.BenchDirectory(b, client, psatest.SimDirectory(sim, func() (int, int) { st := sim.Stats(); return st.Reads, st.Writes }, nil))
}
