package autotask_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
	"github.com/psasync/psasync/psa/psatest"
)

// TestConformance runs the psa.Client conformance suite against atsim.
func TestConformance(t *testing.T) {
	t.Parallel()
	const pageSize, maxAnswer = 2, 64 << 10
	psatest.Run(t, psatest.Harness{PageSize: pageSize, MaxAnswer: maxAnswer,
		Setup: func(t *testing.T, front *psatest.Front) (psa.Client, psatest.Sim) {
			sim := atsim.New()
			sim.URL = front.Serve(t, sim)
			sim.AddCompany(1, "Acme")
			sim.AddCompany(2, "Globex")
			cfg := simConfig(sim)
			cfg.PageSize = pageSize
			withUDFs(&cfg)
			client, err := autotask.New(cfg, autotask.WithMaxAnswer(maxAnswer))
			require.NoError(t, err)
			return client, psatest.Sim{
				Company:      "1",
				OtherCompany: "2",
				Seed:         func(c psa.Contact) string { return strconv.Itoa(sim.SeedContact(psatest.SeedContact(c))) },
				Stored: func(id string) (psa.Contact, bool) {
					n, _ := strconv.Atoi(id)
					s, ok := sim.Contact(n)
					return psatest.StoredContact(s), ok
				},
				Fail:   func(f psatest.Fault) { sim.InjectFault(atFault(f)) },
				Reads:  func() int { return sim.Stats().Reads },
				Writes: func() int { return sim.Stats().Writes },
			}
		}})
}

// atFault is Autotask's answer for each failure the suite asks for; a
// refused write arrives as HTTP 500 with an errors array, as Autotask
// sends it.
func atFault(f psatest.Fault) atsim.Fault {
	fault := atsim.Fault{PathContains: "Contacts", Count: 1}
	switch f.Kind {
	case psatest.FaultPermission:
		fault.Status = http.StatusUnauthorized
	case psatest.FaultRateLimited:
		fault.Status, fault.RetryAfter = http.StatusTooManyRequests, strconv.Itoa(int(f.RetryAfter.Seconds()))
	case psatest.FaultUnavailable:
		fault.Status = http.StatusServiceUnavailable
	case psatest.FaultInvalid:
		fault.Status, fault.Body = http.StatusInternalServerError, `{"errors":["The value for field title is too long."]}`
	}
	return fault
}

// TestDirectoryConformance runs the psa.CompanyDirectory suite against
// atsim, with the tenant id in atsim's company UDF.
func TestDirectoryConformance(t *testing.T) {
	t.Parallel()
	const pageSize = 2
	psatest.RunDirectory(t, psatest.DirectoryHarness{PageSize: pageSize,
		Setup: func(t *testing.T, front *psatest.Front) (psa.CompanyDirectory, psatest.DirectorySim) {
			sim := atsim.New()
			sim.URL = front.Serve(t, sim)
			cfg := simConfig(sim)
			cfg.PageSize, cfg.TenantIDUDF = pageSize, atsim.DefaultTenantIDUDF
			client, err := autotask.New(cfg)
			require.NoError(t, err)
			return client, psatest.SimDirectory(sim, func() (int, int) { st := sim.Stats(); return st.Reads, st.Writes }, func(f psatest.Fault) {
				fault := atFault(f)
				fault.PathContains = "V1.0/"
				sim.InjectFault(fault)
			})
		}})
}
