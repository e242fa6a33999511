package graph_test

import (
	"context"
	"fmt"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/graphsim"
)

// ExampleClient_DiscoverCustomers lists an MSP's customers from its partner
// tenant, checks consent in each and reads the organization where the app
// may.
func ExampleClient_DiscoverCustomers() {
	sim := graphsim.New(graphsim.WithTenant(graphsim.TenantSpec{ID: "msp"}))
	if err := sim.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer sim.Close()
	for _, c := range []graphsim.Customer{
		{TenantID: "a1b2c3d4-0000-4000-8000-000000000001", DisplayName: "Fabrikam Group", Relationship: graphsim.RelationshipBoth,
			ContractName: "Fabrikam Ltd", Consented: true},
		{TenantID: "a1b2c3d4-0000-4000-8000-000000000002", DisplayName: "Northwind Traders"},
	} {
		if err := sim.AddCustomer(c); err != nil {
			panic(err)
		}
	}
	authority, base, clientID, secret := sim.GraphConfig("msp")
	ctx := context.Background()
	partner, err := graph.New(ctx, graph.Config{
		TenantID: "msp", ClientID: clientID, ClientSecret: secret, AuthorityHost: authority, BaseURL: base,
	}, graph.WithHTTPClient(sim.HTTPClient()))
	if err != nil {
		panic(err)
	}
	customers, err := partner.DiscoverCustomers(ctx)
	if err != nil {
		panic(err)
	}
	for _, cu := range customers {
		client, err := partner.ForTenant(ctx, cu.TenantID)
		if err != nil {
			panic(err)
		}
		consent, err := client.CheckConsent(ctx, "https://psasync.example.com/consent")
		if err != nil {
			panic(err)
		}
		if !consent.Granted {
			fmt.Printf("%s (%s): %s\n", cu.DisplayName, cu.Source, consent.Code)
			continue
		}
		org, err := client.Organization(ctx)
		if err != nil {
			panic(err)
		}
		fmt.Printf("%s (%s, contract name %q): %s\n", org.DisplayName, cu.Source, cu.ContractDisplayName, org.DefaultDomain())
	}
	// Output:
	// Fabrikam Group (gdap, contract name "Fabrikam Ltd"): fabrikam-group.com
	// Northwind Traders (gdap): AADSTS65001
}
