package autotask_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/simkit"
)

// BenchmarkDirectory1000 lists 1,000 companies and reads the contact
// domains of all of them (5 contacts each) at the default page size, and
// reports the PSA requests one onboarding pass costs.
func BenchmarkDirectory1000(b *testing.B) {
	sim, client := directoryBench(b)
	ids := make([]string, 0, 1000)
	for i := range 1000 {
		var contacts []simkit.Contact
		for j := range 5 {
			contacts = append(contacts, simkit.Contact{FirstName: "U", LastName: strconv.Itoa(j), Email: fmt.Sprintf("u%d@customer%d.example", j, i)})
		}
		ids = append(ids, strconv.Itoa(sim.SeedCompany(simkit.Company{Name: fmt.Sprintf("Customer %d", i),
			Website: fmt.Sprintf("customer%d.example", i), Contacts: contacts})))
	}
	reads := sim.Stats().Reads
	for b.Loop() {
		list, err := client.ListCompanies(b.Context())
		require.NoError(b, err)
		require.GreaterOrEqual(b, len(list), 1000)
		d, err := client.ContactDomains(b.Context(), ids)
		require.NoError(b, err)
		require.Len(b, d, 1000)
	}
	b.ReportMetric(float64(sim.Stats().Reads-reads)/float64(b.N), "requests/op")
}

func directoryBench(b *testing.B) (*atsim.Sim, *autotask.Client) {
	sim := atsim.NewServer(b, atsim.WithHourlyLimit(0))
	cfg := simConfig(sim)
	cfg.TenantIDUDF = atsim.DefaultTenantIDUDF
	client, err := autotask.New(cfg)
	require.NoError(b, err)
	return sim, client
}
