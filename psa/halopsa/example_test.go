package halopsa_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
)

// Example syncs one contact into a Halo client: create it, then change only
// its job title. A simulated instance stands in for https://mymsp.halopsa.com.
func Example() {
	sim := halosim.New()
	srv := httptest.NewServer(sim)
	defer srv.Close()
	sim.URL = srv.URL
	sim.AddCompany(12, "Contoso")

	client, err := halopsa.New(halopsa.Config{
		InstanceURL:  sim.BaseURL(),
		ClientID:     halosim.DefaultClientID,
		ClientSecret: halosim.DefaultClientSecret,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()

	ada, err := client.CreateContact(ctx, psa.Contact{
		CompanyID: "12", FirstName: "Ada", LastName: "Lovelace",
		Email: "ada@contoso.example", JobTitle: "Analyst", ExternalID: "5f1c0c1e-m365-oid",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	ada.JobTitle = "Countess"
	if _, err := client.UpdateContact(ctx, ada, []psa.Field{psa.FieldJobTitle}); err != nil {
		fmt.Println(err)
		return
	}
	for c, err := range client.ListContacts(ctx, "12") {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(c.ID, c.FirstName, c.LastName, c.Email, c.JobTitle, c.ExternalID)
	}
	fmt.Printf("%+v\n", sim.Stats())
	// Output:
	// 1 Ada Lovelace ada@contoso.example Countess 5f1c0c1e-m365-oid
	// {Reads:1 Writes:2 Requests:5 Throttled:0 Errors:0}
}
