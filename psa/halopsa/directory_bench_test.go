package halopsa_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
	"github.com/psasync/psasync/psa/psatest"
)

// BenchmarkDirectory1000 is psatest.BenchDirectory on halosim: one
// onboarding pass over 1,000 companies at the default page size.
func BenchmarkDirectory1000(b *testing.B) {
	sim := halosim.NewServer(b, halosim.WithRateLimit(0, 0))
	client, err := halopsa.New(simConfig(sim))
	require.NoError(b, err)
	psatest.BenchDirectory(b, client, psatest.SimDirectory(sim, func() (int, int) { st := sim.Stats(); return st.Reads, st.Writes }, nil))
}
