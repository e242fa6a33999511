package connectwise_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/psa/psatest"
)

// BenchmarkDirectory1000 is psatest.BenchDirectory on cwsim: one
// onboarding pass over 1,000 companies at the default page size.
func BenchmarkDirectory1000(b *testing.B) {
	sim := cwsim.NewServer(b)
	cfg := simConfig(sim)
	cfg.TenantIDFieldID = cwsim.TenantIDFieldID
	client, err := connectwise.New(cfg)
	require.NoError(b, err)
	psatest.BenchDirectory(b, client, psatest.SimDirectory(sim, func() (int, int) { st := sim.Stats(); return st.Reads, st.Writes }, nil))
}
