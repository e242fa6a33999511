package autotask_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/autotask"
	"github.com/psasync/psasync/psa/autotask/atsim"
)

// newExampleSim serves a simulator with one company, as cmd/psasim would.
func newExampleSim() (*atsim.Sim, func()) {
	sim := atsim.New()
	srv := httptest.NewServer(sim)
	sim.URL = srv.URL
	sim.AddCompany(1, "Acme")
	return sim, srv.Close
}

// Example creates, lists and deactivates a contact; the department goes to a
// contact UDF because Autotask contacts have no department field.
func Example() {
	sim, stop := newExampleSim()
	defer stop()
	ctx := context.Background()

	client, err := autotask.New(autotask.Config{
		ZoneURL:         sim.BaseURL(), // default: https://webservices.autotask.net/atservicesrest
		Username:        atsim.DefaultUsername,
		Secret:          atsim.DefaultSecret,
		IntegrationCode: atsim.DefaultIntegrationCode,
		DepartmentUDF:   "Department",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ann, err := client.CreateContact(ctx, psa.Contact{CompanyID: "1", FirstName: "Ann", LastName: "Lee",
		Email: "ann@acme.test", Department: "Finance", ExternalID: "00000000-0000-0000-0000-000000000001"})
	if err != nil {
		fmt.Println(err)
		return
	}
	ann.Inactive = true
	if _, err := client.UpdateContact(ctx, ann, []psa.Field{psa.FieldInactive}); err != nil {
		fmt.Println(err)
		return
	}
	for c, err := range client.ListContacts(ctx, "1") {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.FirstName, c.LastName, c.Email, c.Department, "inactive:", c.Inactive)
	}
	fmt.Println("reads:", sim.Stats().Reads, "writes:", sim.Stats().Writes)
	// Output:
	// Ann Lee ann@acme.test Finance inactive: true
	// reads: 1 writes: 2
}

// ExampleClient_ThresholdInformation reports the database's hourly API usage
// and shows how a refusal past the threshold reads.
func ExampleClient_ThresholdInformation() {
	sim, stop := newExampleSim()
	defer stop()
	ctx := context.Background()
	client, err := autotask.New(autotask.Config{ZoneURL: sim.BaseURL(), Username: atsim.DefaultUsername,
		Secret: atsim.DefaultSecret, IntegrationCode: atsim.DefaultIntegrationCode})
	if err != nil {
		fmt.Println(err)
		return
	}
	th, err := client.ThresholdInformation(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d of %d requests in %s, %d left\n", th.Used, th.Limit, th.Timeframe, th.Remaining())

	sim.InjectFault(atsim.Fault{Status: 429, Count: 1})
	_, err = client.GetCompany(ctx, "1")
	if d, ok := psa.RetryAfter(err); ok && errors.Is(err, psa.ErrRateLimited) {
		fmt.Println("rate limited, retry after", d)
	}
	// Output:
	// 1 of 10000 requests in 1h0m0s, 9999 left
	// rate limited, retry after 1s
}
