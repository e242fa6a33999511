package connectwise_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/connectwise"
	"github.com/psasync/psasync/psa/connectwise/cwsim"
)

// A client for a simulated site: list a company's contacts, create one and
// update its title with a one-operation JSON Patch.
func Example() {
	sim := cwsim.New()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	sim.URL = srv.URL
	sim.AddCompany(250, "Contoso Ltd")
	sim.SeedContact(cwsim.SeedContact{CompanyID: 250, FirstName: "Ann", LastName: "Lee", Email: "ann@contoso.com"})

	client, err := connectwise.New(connectwise.Config{
		SiteURL:         sim.BaseURL(), // e.g. https://na.myconnectwise.net
		CompanyID:       cwsim.DefaultCompanyID,
		PublicKey:       cwsim.DefaultPublicKey,
		PrivateKey:      cwsim.DefaultPrivateKey,
		ClientID:        cwsim.DefaultClientID,
		ObjectIDFieldID: cwsim.ExternalIDFieldID,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for c, err := range client.ListContacts(ctx, "250") {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("listed:", c.FirstName, c.LastName, c.Email)
	}

	created, err := client.CreateContact(ctx, psa.Contact{CompanyID: "250", FirstName: "Bo", LastName: "Ek", Email: "bo@contoso.com", ExternalID: "obj-bo"})
	if err != nil {
		fmt.Println(err)
		return
	}
	created.JobTitle = "Engineer"
	updated, err := client.UpdateContact(ctx, created, []psa.Field{psa.FieldJobTitle})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("updated:", updated.FirstName, updated.JobTitle, updated.ExternalID)

	_, err = client.CreateContact(ctx, psa.Contact{CompanyID: "250", FirstName: "Bo", Email: "BO@contoso.com"})
	fmt.Println("duplicate:", errors.Is(err, psa.ErrDuplicate))
	fmt.Printf("reads=%d writes=%d\n", sim.Stats().Reads, sim.Stats().Writes)
	// Output:
	// listed: Ann Lee ann@contoso.com
	// updated: Bo Engineer obj-bo
	// duplicate: true
	// reads=2 writes=3
}
