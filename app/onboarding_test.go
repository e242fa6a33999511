package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/app"
	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/graph/graphsim"
	"github.com/psasync/psasync/ledger"
	"github.com/psasync/psasync/onboarding"
	"github.com/psasync/psasync/psa/quota"
	"github.com/psasync/psasync/simkit/simenv"
	"github.com/psasync/psasync/subscription"
	"github.com/psasync/psasync/worker"
)

// startMSP starts a simulated MSP of n customers and a node on it.
func startMSP(t *testing.T, n int, clock *weekClock) (*simenv.Env, *config.Config, *nodeBundle) {
	t.Helper()
	env, err := simenv.Start(context.Background(), simenv.Options{PSA: config.PSAConnectWise, Users: 5, Unlimited: true,
		Customers: n, CustomerUsers: 4, GraphOptions: []graphsim.Option{graphsim.WithClock(clock.Now)}})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	testRedis(t, cfg)
	cfg.PSA.Quota = &quota.Config{Requests: 100000, Period: time.Hour, MaxConcurrent: 4}
	cfg.Server.APIToken = testAPIToken
	return env, cfg, startNodeWith(t, env, cfg, nodeOpts{clock: clock.Now})
}

// apiJSON calls the node's API, expects 200 and decodes the answer.
func apiJSON[T any](t *testing.T, nb *nodeBundle, method, path string, body any) T {
	t.Helper()
	code, b := nb.api(t, method, path, body)
	require.Equal(t, http.StatusOK, code, string(b))
	return decodeJSON[T](t, b)
}

func decodeJSON[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(body, &v), string(body))
	return v
}

// errorCode reads the error envelope's code and message.
func errorCode(t *testing.T, body []byte) (string, string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &e), string(body))
	return e.Error.Code, e.Error.Message
}

// TestOnboardSimulatedMSP onboards a simulated MSP of 50 customers: the
// proposals per rule equal the generator's mix, reviews list their
// candidates, consent-less tenants have their URL; accepting one starts
// it (a dry run, then its own schedule) without a restart; bad decisions
// change nothing; a tenant that gains consent starts syncing; and after
// Redis is flushed, rediscovery finds every written-back mapping again.
func TestOnboardSimulatedMSP(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated MSP: skipped with -short")
	}
	t.Parallel()
	ctx := context.Background()
	clock := &weekClock{now: time.Now().UTC()}
	env, cfg, nb := startMSP(t, 50, clock)

	res := apiJSON[onboarding.Result](t, nb, http.MethodPost, "/api/v1/tenants/discover", nil)
	require.Len(t, res.Proposals, 50)
	for _, rule := range onboarding.Rules {
		require.Equal(t, env.Mix.ByRule[string(rule)], res.ByRule[rule], "proposals by %s", rule)
	}
	require.Equal(t, env.Mix.NeedsReview, res.NeedsReview)
	require.Equal(t, env.Mix.NoConsent, res.NoConsent)
	t.Logf("50 customers: by rule %v, needs review %d, without consent %d", res.ByRule, res.NeedsReview, res.NoConsent)

	byTenant := map[string]onboarding.Proposal{}
	for _, p := range res.Proposals {
		byTenant[p.TenantID] = p
	}
	for _, g := range env.Customers {
		p := byTenant[g.TenantID]
		switch g.Kind {
		case simenv.KindTwoCompanies, simenv.KindNoMatch:
			require.Equal(t, onboarding.StatusNeedsReview, p.Status, g.Name)
			require.Len(t, p.Candidates, len(g.CompanyIDs), "%s: the candidates are the companies made for it", g.Name)
			for i, c := range p.Candidates {
				require.Equal(t, strconv.Itoa(g.CompanyIDs[i]), c.CompanyID)
				require.Equal(t, onboarding.RuleDomain, c.Rule)
			}
			require.NotEmpty(t, p.Reason)
		default:
			require.Equal(t, onboarding.StatusProposed, p.Status, "%s: %s", g.Name, p.Reason)
			require.Equal(t, strconv.Itoa(g.CompanyIDs[0]), p.Company.CompanyID, g.Name)
			require.NotEmpty(t, p.Company.Evidence)
		}
		if g.Kind == simenv.KindNoConsent {
			require.False(t, p.Consent)
			require.Contains(t, p.ConsentURL, "/"+g.TenantID+"/v2.0/adminconsent?client_id=")
			require.Contains(t, p.ConsentError, "AADSTS65001")
		} else {
			require.True(t, p.Consent, "%s: %s", g.Name, p.ConsentError)
		}
	}
	review := apiJSON[struct{ Tenants []onboarding.Proposal }](t, nb, http.MethodGet, "/api/v1/tenants/discovered?status=needs_review", nil)
	require.Len(t, review.Tenants, env.Mix.NeedsReview)

	// Accept one (rule 2, by website) with write-back: it starts at once
	// with a dry run the operator can read.
	web := customerOf(t, env, simenv.KindWebsite, 0)
	acc := apiJSON[struct {
		onboarding.Proposal
		DryRunID string `json:"dry_run_id"`
	}](t, nb, http.MethodPost, "/api/v1/tenants/"+web.TenantID+"/accept", map[string]any{"write_back": true})
	require.Equal(t, onboarding.StatusAccepted, acc.Status)
	require.True(t, acc.WrittenBack)
	require.NotEmpty(t, acc.DryRunID)
	nb.waitIdle(t)
	run := apiJSON[worker.RunRecord](t, nb, http.MethodGet, "/api/v1/runs/"+acc.DryRunID, nil)
	require.NotNil(t, run.Report, "the dry run finished: %+v", run)
	require.True(t, run.Inputs.DryRun)
	require.Positive(t, run.Report.Statistics.TotalOffice365Users)
	company := web.CompanyIDs[0]
	require.Empty(t, env.PSA.Contacts(company), "a dry run writes nothing")
	if co, ok := env.PSA.Company(company); assert.True(t, ok) {
		require.Equal(t, web.TenantID, co.TenantID, "written back to the company's tenant-id field")
	}
	page, err := nb.n.Engine().Ledger().Changes(ctx, ledger.Query{Tenant: web.TenantID})
	require.NoError(t, err)
	require.Len(t, page.Entries, 1, "the write-back is in the change log")
	require.Equal(t, onboarding.ActionCompanyTenantID, page.Entries[0].Action)
	require.Equal(t, ledger.ResultWritten, page.Entries[0].Result)

	// Bad decisions: each named, nothing changed.
	other := customerOf(t, env, simenv.KindWebsite, 1)
	for _, tc := range []struct {
		path   string
		body   any
		status int
		code   string
		msg    string
	}{
		{"/api/v1/tenants/" + web.TenantID + "/accept", nil, http.StatusConflict, "conflict", "already accepted"},
		{"/api/v1/tenants/not-a-guid/accept", nil, http.StatusBadRequest, "invalid_request", "not a tenant id"},
		{"/api/v1/tenants/0badc0de-0000-4000-8000-000000000000/accept", nil, http.StatusNotFound, "not_found", "not a discovered tenant"},
		{"/api/v1/tenants/" + other.TenantID + "/accept", map[string]any{"company_id": "999999"}, http.StatusBadRequest, "invalid_request", `company "999999" is not an active PSA company`},
		{"/api/v1/tenants/" + other.TenantID + "/accept", map[string]any{"company_id": strconv.Itoa(company)}, http.StatusConflict, "conflict", "already mapped to another tenant"},
		{"/api/v1/tenants/" + other.TenantID + "/accept", map[string]any{"company": "1"}, http.StatusBadRequest, "invalid_request", `unknown field "company"`},
		{"/api/v1/tenants/" + web.TenantID + "/reject", nil, http.StatusConflict, "conflict", "already accepted"},
	} {
		code, body := nb.api(t, http.MethodPost, tc.path, tc.body)
		require.Equal(t, tc.status, code, "%s: %s", tc.path, body)
		gotCode, msg := errorCode(t, body)
		require.Equal(t, tc.code, gotCode)
		require.Contains(t, msg, tc.msg)
	}
	accepted := apiJSON[struct{ Tenants []onboarding.Proposal }](t, nb, http.MethodGet, "/api/v1/tenants/discovered?status=accepted", nil)
	require.Len(t, accepted.Tenants, 1, "the refused decisions changed nothing")

	// Its own schedule: the scheduler reads the accepted tenant on its next
	// tick (no restart) and its incremental sync writes its contacts.
	sched, err := nb.n.NewScheduler(subscription.SchedulerConfig{Clock: clock.Now, Logger: quietLogger()})
	require.NoError(t, err)
	require.NoError(t, sched.Tick(ctx, clock.Now()))
	nb.waitIdle(t)
	want := 0
	for _, u := range env.Graph.Users(web.TenantID) {
		if syncable(u) {
			want++
		}
	}
	require.Positive(t, want)
	require.Len(t, env.PSA.Contacts(company), want, "the accepted tenant synced on its schedule")
	_, found, err := nb.n.Engine().Store().Run(ctx, subscription.IncrementalRunID(web.TenantID, periodStart(clock.Now(), 15*time.Minute)))
	require.NoError(t, err)
	require.True(t, found, "its scheduled incremental run exists")
	require.Len(t, env.Graph.Subscriptions(web.TenantID), 1, "the schedule's subscription check subscribed it")

	// Accept every other proposal, with write-back.
	mappings := map[string]string{}
	for _, p := range res.Proposals {
		if p.Status != onboarding.StatusProposed || p.TenantID == web.TenantID {
			continue
		}
		a, err := nb.n.App().Onboarding().Accept(ctx, p.TenantID, onboarding.AcceptOptions{WriteBack: true})
		require.NoError(t, err, p.TenantID)
		mappings[p.TenantID] = a.Company.CompanyID
	}
	mappings[web.TenantID] = strconv.Itoa(company)

	// A tenant that gains consent starts syncing without a restart.
	late := customerOf(t, env, simenv.KindNoConsent, 0)
	require.NoError(t, env.Graph.GrantConsent(late.TenantID))
	require.Equal(t, []string{late.TenantID}, nb.n.RecheckConsent(ctx))
	nb.waitIdle(t)
	require.NotEmpty(t, env.PSA.Contacts(late.CompanyIDs[0]), "the tenant that gained consent synced")

	// Redis lost: rediscovery finds every mapping again by rule 1.
	nb.stop()
	cleanTestRedis(t, cfg.Redis.Addr, cfg.Redis.DB, cfg.Redis.Prefix(), worker.PrefixedQueues(cfg.Redis.QueuePrefix))
	cfg.Partner.AutoAcceptTenantID = true
	nb2 := startNodeWith(t, env, cfg, nodeOpts{clock: clock.Now})
	again := apiJSON[onboarding.Result](t, nb2, http.MethodPost, "/api/v1/tenants/discover", nil)
	require.Len(t, again.AutoAccepted, len(mappings))
	got := map[string]string{}
	for _, p := range again.Proposals {
		if p.Status == onboarding.StatusAccepted {
			require.Equal(t, onboarding.RuleTenantID, p.Company.Rule, p.TenantID)
			got[p.TenantID] = p.Company.CompanyID
		}
	}
	require.Equal(t, mappings, got, "the same mappings, found by the tenant ids written back")

	// A missing partner permission is named, with what to grant.
	require.NoError(t, env.Graph.RevokePermission(simenv.PartnerTenantID, "DelegatedAdminRelationship.Read.All"))
	code, body := nb2.api(t, http.MethodPost, "/api/v1/tenants/discover", nil)
	require.Equal(t, http.StatusFailedDependency, code, string(body))
	errCode, msg := errorCode(t, body)
	require.Equal(t, "failed_dependency", errCode)
	require.Contains(t, msg, "application permission DelegatedAdminRelationship.Read.All in tenant "+simenv.PartnerTenantID)
	require.NoError(t, env.Graph.GrantPermission(simenv.PartnerTenantID, "DelegatedAdminRelationship.Read.All"))

	code, body = nb2.api(t, http.MethodGet, "/api/v1/tenants/export?format=csv", nil)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, strings.Split(strings.TrimSpace(string(body)), "\n"), len(mappings)+1, "a header and one line per accepted tenant")
	code, body = nb2.api(t, http.MethodGet, "/api/v1/tenants/export?format=yaml", nil)
	require.Equal(t, http.StatusOK, code)
	var frag struct{ Tenants []config.Tenant }
	require.NoError(t, yaml.Unmarshal(body, &frag))
	require.Len(t, frag.Tenants, len(mappings))
	for _, tn := range frag.Tenants {
		require.Equal(t, mappings[tn.ID], tn.PSADefaultCompanyID)
	}
}

// customerOf is the n-th generated customer of a kind.
func customerOf(t *testing.T, env *simenv.Env, kind simenv.CustomerKind, n int) simenv.GeneratedCustomer {
	t.Helper()
	for _, g := range env.Customers {
		if g.Kind == kind {
			if n == 0 {
				return g
			}
			n--
		}
	}
	t.Fatalf("no customer of kind %s", kind)
	return simenv.GeneratedCustomer{}
}

// periodStart is the start of the incremental period holding now.
func periodStart(now time.Time, every time.Duration) time.Time {
	return now.UTC().Truncate(every)
}

// TestDiscoveryEveryPSA checks the generator's mix against each PSA's
// company directory: tenant-id fields, websites and contacts' domains are
// read the way each vendor keeps them.
func TestDiscoveryEveryPSA(t *testing.T) {
	t.Parallel()
	for _, p := range psaTypes() {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			env, err := simenv.Start(context.Background(), simenv.Options{PSA: p, Users: 1, Unlimited: true, Customers: 20})
			require.NoError(t, err)
			t.Cleanup(env.Close)
			cfg := env.Config
			testRedis(t, cfg)
			cfg.PSA.Quota = &quota.Config{}
			a, err := app.New(context.Background(), cfg, app.Options{Logger: quietLogger(), HTTPClient: env.HTTPClient})
			require.NoError(t, err)
			t.Cleanup(a.Close)
			res, err := a.Onboarding().Discover(context.Background(), onboarding.DiscoverOptions{DryRun: true})
			require.NoError(t, err)
			for _, rule := range onboarding.Rules {
				require.Equal(t, env.Mix.ByRule[string(rule)], res.ByRule[rule], "%s: by %s", p, rule)
			}
			require.Equal(t, env.Mix.NeedsReview, res.NeedsReview)
			stored, err := a.Onboarding().List(context.Background(), "")
			require.NoError(t, err)
			require.Empty(t, stored, "a dry run stores nothing")
		})
	}
}

// TestConsentGainedOnSchedule: a tenant accepted before its admin consented
// is live but disabled; once consent arrives, the scheduled consent check
// alone (no API call, no restart) starts its first full sync.
func TestConsentGainedOnSchedule(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, err := simenv.Start(ctx, simenv.Options{PSA: config.PSAConnectWise, Users: 5, Unlimited: true, Customers: 10, CustomerUsers: 4})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	cfg := env.Config
	testRedis(t, cfg)
	nb := startNodeWith(t, env, cfg, nodeOpts{consentEvery: 200 * time.Millisecond})

	late := customerOf(t, env, simenv.KindNoConsent, 0)
	_, err = nb.n.App().Onboarding().Discover(ctx, onboarding.DiscoverOptions{})
	require.NoError(t, err)
	acc, err := nb.n.App().Onboarding().Accept(ctx, late.TenantID, onboarding.AcceptOptions{})
	require.NoError(t, err)
	require.False(t, acc.Consent, "accepted before consent")
	company := late.CompanyIDs[0]
	time.Sleep(time.Second) // several checks while consent is missing
	nb.waitIdle(t)
	require.Empty(t, env.PSA.Contacts(company), "no sync without consent")

	require.NoError(t, env.Graph.GrantConsent(late.TenantID))
	require.Eventually(t, func() bool { return len(env.PSA.Contacts(company)) > 0 }, 30*time.Second, 100*time.Millisecond,
		"the scheduled check started the tenant that gained consent")
	p, ok, err := nb.n.App().Onboarding().Store().Accepted(ctx, late.TenantID)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, p.Consent, "the stored mapping records the consent")
}
