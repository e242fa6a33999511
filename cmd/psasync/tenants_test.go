package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/psasync/psasync/config"
	"github.com/psasync/psasync/simkit/simenv"
)

// mspConfig starts a simulated MSP of n customers and writes its config,
// with a Redis the psasync processes share.
func mspConfig(t *testing.T, n int) (string, *simenv.Env) {
	t.Helper()
	env, err := simenv.Start(context.Background(), simenv.Options{Users: 5, Unlimited: true, Customers: n, CustomerUsers: 3})
	require.NoError(t, err)
	t.Cleanup(env.Close)
	path := filepath.Join(t.TempDir(), "psasync.yaml")
	require.NoError(t, env.WriteConfig(path))
	c, err := config.Load(path)
	require.NoError(t, err)
	testRedis(t, c)
	c.Server.PublicURL = "https://psasync.example.com" // subscriptions list needs one; nothing is subscribed here
	b, err := yaml.Marshal(c)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
	return path, env
}

func customer(t *testing.T, env *simenv.Env, kind simenv.CustomerKind) simenv.GeneratedCustomer {
	t.Helper()
	for _, g := range env.Customers {
		if g.Kind == kind {
			return g
		}
	}
	t.Fatalf("no customer of kind %s", kind)
	return simenv.GeneratedCustomer{}
}

func TestTenantsCommand(t *testing.T) {
	t.Parallel()
	path, env := mspConfig(t, 20)

	r := run(t, "tenants", "discover", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "20 tenants: proposed by tenant_id 4, domain 4, contact_domain 2, name 6; needs review 4; accepted 0; rejected 0; without consent 2")
	require.Contains(t, r.stdout, "needs review")
	require.Contains(t, r.stdout, "candidates: ")
	require.Contains(t, r.stdout, "/v2.0/adminconsent?client_id=", "consent-less tenants get their URL")

	r = run(t, "tenants", "list", "--config", path, "--status", "needs_review", "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	var review []struct {
		TenantID   string `json:"tenant_id"`
		Candidates []struct {
			CompanyID string `json:"company_id"`
		} `json:"candidates"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &review), r.stdout)
	require.Len(t, review, 4)

	web := customer(t, env, simenv.KindWebsite)
	r = run(t, "tenants", "accept", web.TenantID, "--config", path, "--write-back")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "accepted: tenant "+web.TenantID)
	require.Contains(t, r.stdout, "wrote the tenant id to company "+strconv.Itoa(web.CompanyIDs[0]))
	require.Contains(t, r.stdout, "first dry run: run-")
	co, ok := env.PSA.Company(web.CompanyIDs[0])
	require.True(t, ok)
	require.Equal(t, web.TenantID, co.TenantID)

	// Accepted tenants are listed with the config's by psasync subscriptions.
	r = run(t, "subscriptions", "list", "--json", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, web.TenantID)
	require.Contains(t, r.stdout, simenv.DefaultTenantID)
	// And named alone by --tenant, as a configured one is.
	r = run(t, "subscriptions", "list", "--json", "--tenant", web.TenantID, "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, web.TenantID)
	require.NotContains(t, r.stdout, simenv.DefaultTenantID)
	r = run(t, "subscriptions", "list", "--tenant", "0badc0de-0000-4000-8000-000000000000", "--config", path)
	require.Equal(t, exitBadArgs, r.code, r.stdout)
	require.Contains(t, r.stderr, "nor an accepted tenant")

	// An accepted tenant is a tenant for psasync sync too.
	r = run(t, "sync", "--tenant", web.TenantID, "--mode", "full", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	var rep struct {
		Success    bool `json:"success"`
		Statistics struct {
			Created int `json:"contacts_created"`
		} `json:"statistics"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), r.stdout)
	require.True(t, rep.Success)
	require.Positive(t, rep.Statistics.Created)
	require.Len(t, env.PSA.Contacts(web.CompanyIDs[0]), rep.Statistics.Created)
	r = run(t, "sync", "--tenant", "0badc0de-0000-4000-8000-000000000000", "--config", path)
	require.Equal(t, exitBadArgs, r.code)
	require.Contains(t, r.stderr, "nor an accepted tenant")

	two := customer(t, env, simenv.KindTwoCompanies)
	contacts := customer(t, env, simenv.KindContacts)
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"accept", web.TenantID}, "is already accepted"},
		{[]string{"accept", "not-a-guid"}, "is not a tenant id (a GUID)"},
		{[]string{"accept", "0badc0de-0000-4000-8000-000000000000"}, "is not a discovered tenant"},
		{[]string{"accept", two.TenantID}, "has no proposed company: name one"},
		{[]string{"accept", contacts.TenantID, "--company", "999999"}, `company "999999" is not an active PSA company`},
		{[]string{"accept", contacts.TenantID, "--company", strconv.Itoa(web.CompanyIDs[0])}, "is already mapped to another tenant"},
		{[]string{"list", "--status", "pending"}, `status "pending" is not needs_review, proposed, accepted or rejected`},
		{[]string{"export", "--format", "xml"}, `--format "xml" is not yaml, json or csv`},
		{[]string{"accept"}, "accepts 1 arg"},
	} {
		r := run(t, append(append([]string{"tenants"}, tc.args...), "--config", path)...)
		require.Equal(t, exitBadArgs, r.code, "%v: %s", tc.args, r.stdout)
		require.Contains(t, r.stderr, tc.msg, tc.args)
	}

	r = run(t, "tenants")
	require.Equal(t, exitBadArgs, r.code)
	require.Contains(t, r.stderr, "an action is required")

	// An operator's choice among the candidates.
	var pick string
	for _, rv := range review {
		if rv.TenantID == two.TenantID {
			require.Len(t, rv.Candidates, 2)
			pick = rv.Candidates[1].CompanyID
		}
	}
	r = run(t, "tenants", "accept", two.TenantID, "--company", pick, "--config", path, "--json")
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, `"status": "accepted"`)
	r = run(t, "tenants", "reject", customer(t, env, simenv.KindNoMatch).TenantID, "--reason", "not a managed customer", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	require.Contains(t, r.stdout, "not a managed customer")

	r = run(t, "tenants", "export", "--config", path)
	require.Equal(t, exitOK, r.code, r.stderr)
	var frag struct{ Tenants []config.Tenant }
	require.NoError(t, yaml.Unmarshal([]byte(r.stdout), &frag), r.stdout)
	got := map[string]string{}
	for _, tn := range frag.Tenants {
		got[tn.ID] = tn.PSADefaultCompanyID
	}
	require.Equal(t, map[string]string{web.TenantID: strconv.Itoa(web.CompanyIDs[0]), two.TenantID: pick}, got)
	require.True(t, strings.HasPrefix(r.stdout, "# Accepted tenants"))
}
