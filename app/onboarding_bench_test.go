package app_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
)

// BenchmarkOnboardingDiscover1000 is one stored discovery of a simulated
// MSP of 1,000 customers (one in ten without consent) through the wiring:
// the partner listings, a consent check per customer (eight at a time),
// the organization of each consented one, the PSA's companies and their
// contacts' domains once, matching, and the proposals written to Redis.
// It reports Graph requests per discovery and fails past the target of
// customers + pages + one per consented tenant, or past 60 s.
func BenchmarkOnboardingDiscover1000(b *testing.B) {
	const n = 1000
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: 1, Unlimited: true, Customers: n})
	require.NoError(b, err)
	b.Cleanup(env.Close)
	cfg := env.Config
	testRedis(b, cfg)
	cfg.PSA.Quota = &quota.Config{}
	a, err := app.New(context.Background(), cfg, app.Options{Logger: quietLogger(), HTTPClient: env.HTTPClient})
	require.NoError(b, err)
	b.Cleanup(a.Close)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	var graphReqs, tokenReqs, psaReads int
	var res onboarding.Result
	for b.Loop() {
		gs, ps := env.Graph.Stats(), env.PSA.Stats()
		start := time.Now()
		res, err = a.Onboarding().Discover(ctx, onboarding.DiscoverOptions{})
		wall := time.Since(start)
		require.NoError(b, err)
		// Graph's own requests: the token endpoint's (Entra ID) are
		// counted apart, as graph's BenchmarkDiscover1000 counts them.
		ge := env.Graph.Stats()
		tokenReqs = ge.Tokens - gs.Tokens
		graphReqs, psaReads = ge.Requests-gs.Requests-tokenReqs, env.PSA.Stats().Reads-ps.Reads
		require.Less(b, wall, 60*time.Second, "discovery of %d customers", n)
	}
	require.Len(b, res.Proposals, n)
	consented := n - res.NoConsent
	pages := (n+299)/300 + (n+998)/999 // delegatedAdminCustomers ($top=300) and contracts ($top=999)
	require.LessOrEqual(b, graphReqs, n+pages+consented, "Graph requests: at most customers + pages + consented")
	b.ReportMetric(float64(graphReqs), "graph-requests/op")
	b.ReportMetric(float64(tokenReqs), "token-requests/op")
	b.ReportMetric(float64(psaReads), "psa-reads/op")
	b.ReportMetric(float64(consented), "consented")
}
