package halopsa_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
	"github.com/psasync/psasync/psa/psatest"
)

// TestConformance runs the psa.Client conformance suite against halosim.
func TestConformance(t *testing.T) {
	t.Parallel()
	const pageSize, maxAnswer = 2, 64 << 10
	psatest.Run(t, psatest.Harness{PageSize: pageSize, MaxAnswer: maxAnswer,
		Setup: func(t *testing.T, front *psatest.Front) (psa.Client, psatest.Sim) {
			sim := halosim.New()
			sim.URL = front.Serve(t, sim)
			sim.AddCompany(testCompany, "Contoso")
			sim.AddCompany(testCompany+1, "Fabrikam")
			cfg := simConfig(sim)
			cfg.PageSize = pageSize
			client, err := halopsa.New(cfg, halopsa.WithMaxAnswer(maxAnswer))
			require.NoError(t, err)
			return client, psatest.Sim{
				Company:      strconv.Itoa(testCompany),
				OtherCompany: strconv.Itoa(testCompany + 1),
				Seed:         func(c psa.Contact) string { return strconv.Itoa(sim.SeedContact(psatest.SeedContact(c))) },
				Stored: func(id string) (psa.Contact, bool) {
					n, _ := strconv.Atoi(id)
					s, ok := sim.Contact(n)
					return psatest.StoredContact(s), ok
				},
				Fail:   func(f psatest.Fault) { sim.InjectFault(haloFault(f)) },
				Reads:  func() int { return sim.Stats().Reads },
				Writes: func() int { return sim.Stats().Writes },
			}
		}})
}

// haloFault is Halo's answer for each failure the suite asks for. A
// refused right is a 403: a 401 makes the client fetch a new token and try
// once more, by design.
func haloFault(f psatest.Fault) halosim.Fault {
	fault := halosim.Fault{PathContains: "/api/users", Count: 1}
	switch f.Kind {
	case psatest.FaultPermission:
		fault.Status = http.StatusForbidden
	case psatest.FaultRateLimited:
		fault.Status, fault.RetryAfter = http.StatusTooManyRequests, strconv.Itoa(int(f.RetryAfter.Seconds()))
	case psatest.FaultUnavailable:
		fault.Status = http.StatusServiceUnavailable
	case psatest.FaultInvalid:
		fault.Status, fault.Body = http.StatusBadRequest, "The Job Title field is too long."
	}
	return fault
}

// TestDirectoryConformance runs the psa.CompanyDirectory suite against
// halosim, with the tenant id in the client's Azure tenants.
func TestDirectoryConformance(t *testing.T) {
	t.Parallel()
	const pageSize = 2
	psatest.RunDirectory(t, psatest.DirectoryHarness{PageSize: pageSize,
		Setup: func(t *testing.T, front *psatest.Front) (psa.CompanyDirectory, psatest.DirectorySim) {
			sim := halosim.New()
			sim.URL = front.Serve(t, sim)
			cfg := simConfig(sim)
			cfg.PageSize = pageSize
			client, err := halopsa.New(cfg)
			require.NoError(t, err)
			return client, psatest.SimDirectory(sim, func() (int, int) { st := sim.Stats(); return st.Reads, st.Writes }, func(f psatest.Fault) {
				fault := haloFault(f)
				fault.PathContains = "/api/"
				sim.InjectFault(fault)
			})
		}})
}
