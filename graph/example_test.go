package graph_test

import (
	"context"
	"fmt"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/graphsim"
)

// Example reads a tenant through the real token flow, against the
// simulator, then asks Graph what changed since.
func Example() {
	sim := graphsim.New(graphsim.WithGeneratedTenant("contoso", 25, 1))
	if err := sim.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer sim.Close()
	authority, base, clientID, secret := sim.GraphConfig("contoso")
	ctx := context.Background()
	client, err := graph.New(ctx, graph.Config{
		TenantID: "contoso", ClientID: clientID, ClientSecret: secret,
		AuthorityHost: authority, BaseURL: base,
	}, graph.WithHTTPClient(sim.HTTPClient()))
	if err != nil {
		panic(err)
	}

	guests := 0
	for u, err := range client.ListUsers(ctx) {
		if err != nil {
			panic(err)
		}
		if u.UserType == "Guest" {
			guests++
		}
	}
	fmt.Println("guests:", guests)

	full, err := client.Delta(ctx, "")
	if err != nil {
		panic(err)
	}
	first := sim.Users("contoso")[0]
	if _, err := sim.UpdateUser("contoso", first.ID, map[string]any{"jobTitle": "Director"}); err != nil {
		panic(err)
	}
	changes, err := client.Delta(ctx, full.DeltaLink)
	if err != nil {
		panic(err)
	}
	fmt.Println("users:", len(full.Users), "changed:", len(changes.Users), changes.Users[0].JobTitle)
	// Output:
	// guests: 2
	// users: 25 changed: 1 Director
}
