package connectwise_test

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
	"github.com/psasync/psasync/psa/psatest"
)

// TestConformance runs the psa.Client conformance suite against cwsim.
func TestConformance(t *testing.T) {
	t.Parallel()
	const pageSize, maxAnswer = 2, 64 << 10
	psatest.Run(t, psatest.Harness{PageSize: pageSize, MaxAnswer: maxAnswer,
		Setup: func(t *testing.T, front *psatest.Front) (psa.Client, psatest.Sim) {
			sim := cwsim.New()
			sim.URL = front.Serve(t, sim)
			sim.AddCompany(companyA, "Contoso Ltd")
			sim.AddCompany(companyB, "Fabrikam Inc")
			for _, d := range psatest.Departments() {
				sim.AddDepartment(d)
			}
			cfg := simConfig(sim)
			cfg.PageSize = pageSize
			client, err := connectwise.New(cfg, connectwise.WithMaxAnswer(maxAnswer))
			require.NoError(t, err)
			return client, psatest.Sim{
				Company:      strconv.Itoa(companyA),
				OtherCompany: strconv.Itoa(companyB),
				Seed:         func(c psa.Contact) string { return strconv.Itoa(sim.SeedContact(psatest.SeedContact(c))) },
				Stored: func(id string) (psa.Contact, bool) {
					n, _ := strconv.Atoi(id)
					s, ok := sim.Contact(n)
					return psatest.StoredContact(s), ok
				},
				Fail:   func(f psatest.Fault) { sim.InjectFault(cwFault(f)) },
				Reads:  func() int { return sim.Stats().Reads },
				Writes: func() int { return sim.Stats().Writes },
			}
		}})
}

// cwFault is Manage's answer for each failure the suite asks for.
func cwFault(f psatest.Fault) cwsim.Fault {
	fault := cwsim.Fault{PathContains: "/company/contacts", Count: 1}
	switch f.Kind {
	case psatest.FaultPermission:
		fault.Status = http.StatusForbidden
	case psatest.FaultRateLimited:
		fault.Status, fault.RetryAfter = http.StatusTooManyRequests, strconv.Itoa(int(f.RetryAfter.Seconds()))
	case psatest.FaultUnavailable:
		fault.Status = http.StatusServiceUnavailable
	case psatest.FaultInvalid:
		fault.Status = http.StatusBadRequest
	}
	return fault
}

// TestDirectoryConformance runs the psa.CompanyDirectory suite against
// cwsim, with the tenant id in cwsim's company custom field.
func TestDirectoryConformance(t *testing.T) {
	t.Parallel()
	const pageSize = 2
	psatest.RunDirectory(t, psatest.DirectoryHarness{PageSize: pageSize,
		Setup: func(t *testing.T, front *psatest.Front) (psa.CompanyDirectory, psatest.DirectorySim) {
			sim := cwsim.New()
			sim.URL = front.Serve(t, sim)
			cfg := simConfig(sim)
			cfg.PageSize, cfg.TenantIDFieldID = pageSize, cwsim.TenantIDFieldID
			client, err := connectwise.New(cfg)
			require.NoError(t, err)
			return client, psatest.SimDirectory(sim, func() (int, int) { st := sim.Stats(); return st.Reads, st.Writes }, func(f psatest.Fault) {
				fault := cwFault(f)
				fault.PathContains = cwsim.APIPath
				sim.InjectFault(fault)
			})
		}})
}
