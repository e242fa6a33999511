package graph_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph/directory"
)

// BenchmarkDiscover1000 discovers 1,000 customers (one in three consented),
// checks consent in each and reads the organization of the consented ones,
// eight tenants at a time. It reports Graph requests per discovery (target:
// at most customers + pages + one per consented tenant) and token-endpoint
// requests.
func BenchmarkDiscover1000(b *testing.B) {
	const n = 1000
	pb := setupPartner(b, manyCustomers(n), nil)
	ctx := context.Background()
	b.ReportAllocs()
	var consented int
	b.ResetTimer()
	pb.sim.ResetStats()
	for b.Loop() {
		customers, err := pb.client.DiscoverCustomers(ctx)
		require.NoError(b, err)
		require.Len(b, customers, n)
		orgs := make([]directory.Organization, len(customers))
		granted := make([]bool, len(customers))
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		errs := make(chan error, len(customers))
		for i, cu := range customers {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				cc, err := pb.client.ForTenant(ctx, cu.TenantID)
				if err != nil {
					errs <- err
					return
				}
				c, err := cc.CheckConsent(ctx, redirectURI)
				if err != nil {
					errs <- err
					return
				}
				if !c.Granted {
					return
				}
				granted[i] = true
				if orgs[i], err = cc.Organization(ctx); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			b.Fatal(err)
		}
		consented = 0
		for _, g := range granted {
			if g {
				consented++
			}
		}
	}
	st := pb.sim.Stats()
	b.ReportMetric(float64(st.Reads)/float64(b.N), "graph-requests/op")
	b.ReportMetric(float64(st.Tokens)/float64(b.N), "token-requests/op")
	b.ReportMetric(float64(consented), "consented")
	pages := (n+299)/300 + 1
	if limit := n + pages + consented; st.Reads/b.N > limit {
		b.Fatalf("%d Graph requests per discovery, over customers+pages+consented = %d", st.Reads/b.N, limit)
	}
}
