package graph_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/graphsim"
)

// BenchmarkListUsers10k lists a 10,000-user tenant; the Graph requests per
// listing are reported (⌈10000/999⌉ = 11 pages).
func BenchmarkListUsers10k(b *testing.B) {
	sim := graphsim.NewServer(b, graphsim.WithGeneratedTenant("big", 10000, 1), graphsim.WithRecordLimit(0))
	c, err := graph.New(context.Background(), simConfig(sim, "big"), graph.WithHTTPClient(sim.HTTPClient()))
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		n := 0
		for _, err := range c.ListUsers(context.Background()) {
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != 10000 {
			b.Fatalf("listed %d users", n)
		}
	}
	b.ReportMetric(float64(c.Requests())/float64(b.N), "graph-requests/op")
}
