package graph_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/graph"
	"github.com/psasync/psasync/graph/directory"
	"github.com/psasync/psasync/graph/graphsim"
)

// testBundle is a simulator with one tenant and a client for it.
type testBundle struct {
	sim    *graphsim.Sim
	client *graph.Client
	cfg    graph.Config
	tenant string
}

func setup(t *testing.T, users int, simOpts []graphsim.Option, opts ...graph.Option) *testBundle {
	t.Helper()
	const tenant = "contoso"
	simOpts = append([]graphsim.Option{graphsim.WithGeneratedTenant(tenant, users, 11)}, simOpts...)
	sim := graphsim.NewServer(t, simOpts...)
	b := &testBundle{sim: sim, tenant: tenant, cfg: simConfig(sim, tenant)}
	b.client = b.newClient(t, b.cfg, opts...)
	return b
}

// simConfig is the graph.Config that reaches a tenant of the simulator.
func simConfig(sim *graphsim.Sim, tenant string) graph.Config {
	authority, base, id, secret := sim.GraphConfig(tenant)
	return graph.Config{TenantID: tenant, ClientID: id, ClientSecret: secret, AuthorityHost: authority, BaseURL: base}
}

func (b *testBundle) newClient(t *testing.T, cfg graph.Config, opts ...graph.Option) *graph.Client {
	t.Helper()
	opts = append([]graph.Option{graph.WithHTTPClient(b.sim.HTTPClient())}, opts...)
	c, err := graph.New(context.Background(), cfg, opts...)
	require.NoError(t, err)
	return c
}

func collect(t *testing.T, c *graph.Client) ([]directory.User, error) {
	t.Helper()
	var out []directory.User
	for u, err := range c.ListUsers(context.Background()) {
		if err != nil {
			return out, err
		}
		out = append(out, u)
	}
	return out, nil
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	valid := graph.Config{TenantID: "t", ClientID: "c", ClientSecret: "s"}
	tests := []struct {
		name    string
		change  func(*graph.Config)
		badKeys []string
	}{
		{name: "valid secret", change: func(*graph.Config) {}},
		{name: "valid certificate", change: func(c *graph.Config) { c.ClientSecret, c.CertificatePath = "", "/x.pem" }},
		{name: "valid hosts", change: func(c *graph.Config) {
			c.AuthorityHost, c.BaseURL = "https://login.microsoftonline.us/", "http://127.0.0.1:8080/v1.0"
		}},
		{name: "empty", change: func(c *graph.Config) { *c = graph.Config{} }, badKeys: []string{"tenant_id", "client_id", "client_secret"}},
		{name: "both credentials", change: func(c *graph.Config) { c.CertificatePath = "/x.pem" }, badKeys: []string{"certificate_path"}},
		{name: "password without certificate", change: func(c *graph.Config) { c.CertificatePassword = "p" }, badKeys: []string{"certificate_password"}},
		{name: "bad tenant", change: func(c *graph.Config) { c.TenantID = "a/b" }, badKeys: []string{"tenant_id"}},
		{name: "bad hosts", change: func(c *graph.Config) {
			c.AuthorityHost, c.BaseURL = "login.microsoftonline.com", "http://graph.example.com/v1.0"
		}, badKeys: []string{"authority_host", "base_url"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			tc.change(&cfg)
			err := cfg.Validate()
			if len(tc.badKeys) == 0 {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, k := range tc.badKeys {
				require.Contains(t, err.Error(), k+":")
			}
			require.Len(t, strings.Split(err.Error(), "\n"), len(tc.badKeys), "one line per bad key: %v", err)
			_, nerr := graph.New(context.Background(), cfg)
			require.Error(t, nerr)
		})
	}
}

func TestConfigHidesSecrets(t *testing.T) {
	t.Parallel()
	cfg := graph.Config{TenantID: "t", ClientID: "c", ClientSecret: "very-secret", CertificatePassword: "pw"}
	for _, s := range []string{cfg.String(), fmtAll(cfg)} {
		require.NotContains(t, s, "very-secret")
		require.NotContains(t, s, `"pw"`)
		require.Contains(t, s, "[redacted]")
	}
	d := cfg.WithDefaults()
	require.Equal(t, graph.DefaultAuthorityHost, d.AuthorityHost)
	require.Equal(t, graph.DefaultBaseURL, d.BaseURL)
}

func TestListUsersPagesThroughTheTenant(t *testing.T) {
	t.Parallel()
	b := setup(t, 250, nil, graph.WithPageSize(100))
	users, err := collect(t, b.client)
	require.NoError(t, err)
	require.Len(t, users, 250)
	require.EqualValues(t, 3, b.client.Requests(), "three pages, token requests not counted")

	want := b.sim.Users(b.tenant)
	byID := map[string]directory.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	var sawLicense, sawAlias, sawGuest, sawDisabled bool
	for _, w := range want {
		got, ok := byID[w.ID]
		require.True(t, ok, w.ID)
		require.Equal(t, w.UserPrincipalName, got.UserPrincipalName)
		require.Equal(t, w.DisplayName, got.DisplayName)
		require.Equal(t, w.GivenName, got.GivenName)
		require.Equal(t, w.Mail, got.Mail)
		require.Equal(t, w.JobTitle, got.JobTitle)
		require.Equal(t, w.Department, got.Department)
		require.Equal(t, w.OfficeLocation, got.OfficeLocation)
		require.Equal(t, w.MobilePhone, got.MobilePhone)
		require.Equal(t, w.UserType, got.UserType)
		require.Equal(t, w.EmployeeID, got.EmployeeID)
		require.Equal(t, w.Country, got.Country)
		require.Equal(t, w.CompanyName, got.CompanyName)
		require.Equal(t, len(w.BusinessPhones), len(got.BusinessPhones))
		require.Equal(t, len(w.ProxyAddresses), len(got.ProxyAddresses))
		require.NotNil(t, got.AccountEnabled)
		require.Equal(t, *w.AccountEnabled, *got.AccountEnabled)
		require.Nil(t, got.Removed)
		require.Len(t, got.AssignedLicenses, len(w.AssignedLicenses))
		if len(w.AssignedLicenses) > 0 {
			sawLicense = true
			require.Equal(t, w.AssignedLicenses[0].SkuID, got.AssignedLicenses[0])
		}
		sawAlias = sawAlias || len(got.ProxyAddresses) > 1
		sawGuest = sawGuest || got.UserType == "Guest"
		sawDisabled = sawDisabled || !got.Enabled()
	}
	require.True(t, sawLicense && sawAlias && sawGuest && sawDisabled)

	// Every read carried the $select list.
	for _, r := range b.sim.Requests() {
		if strings.HasPrefix(r.Path, "/v1.0/users") {
			require.Contains(t, r.RawQuery, "assignedLicenses", r.RawQuery)
		}
	}
}

func TestListUsersStopsWhenTheCallerDoes(t *testing.T) {
	t.Parallel()
	b := setup(t, 250, nil, graph.WithPageSize(100))
	n := 0
	for _, err := range b.client.ListUsers(context.Background()) {
		require.NoError(t, err)
		n++
		if n == 5 {
			break
		}
	}
	require.EqualValues(t, 1, b.client.Requests())
}

func TestListUsersMaxPagesGuard(t *testing.T) {
	t.Parallel()
	b := setup(t, 250, nil, graph.WithPageSize(100), graph.WithMaxPages(2))
	users, err := collect(t, b.client)
	require.Error(t, err)
	require.Contains(t, err.Error(), "max pages")
	require.Len(t, users, 200)
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	b := setup(t, 40, nil)
	var guest graphsim.User
	for _, u := range b.sim.Users(b.tenant) {
		if u.UserType == "Guest" {
			guest = u
		}
	}
	got, err := b.client.GetUser(context.Background(), guest.ID)
	require.NoError(t, err)
	require.Equal(t, guest.UserPrincipalName, got.UserPrincipalName)

	got, err = b.client.GetUser(context.Background(), guest.UserPrincipalName)
	require.NoError(t, err, "a #EXT# UPN is escaped in the path")
	require.Equal(t, guest.ID, got.ID)

	require.NoError(t, b.sim.DeleteUser(b.tenant, guest.ID))
	_, err = b.client.GetUser(context.Background(), guest.ID)
	require.ErrorIs(t, err, directory.ErrNotFound)
	var gerr *graph.Error
	require.ErrorAs(t, err, &gerr)
	require.Equal(t, http.StatusNotFound, gerr.StatusCode)
	require.Equal(t, "Request_ResourceNotFound", gerr.Code)

	_, err = b.client.GetUser(context.Background(), "")
	require.ErrorIs(t, err, graph.ErrRequest)
}

func TestDelta(t *testing.T) {
	t.Parallel()
	clock := &simClock{now: time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)}
	b := setup(t, 120, []graphsim.Option{graphsim.WithPageSize(50), graphsim.WithClock(clock.Now)})
	ctx := context.Background()
	users := b.sim.Users(b.tenant)

	full, err := b.client.Delta(ctx, "")
	require.NoError(t, err)
	require.Len(t, full.Users, 120)
	require.NotEmpty(t, full.DeltaLink)
	require.EqualValues(t, 3, b.client.Requests(), "nextLink followed to the deltaLink")

	next, err := b.client.Delta(ctx, full.DeltaLink)
	require.NoError(t, err)
	require.Empty(t, next.Users)

	_, err = b.sim.UpdateUser(b.tenant, users[0].ID, map[string]any{"jobTitle": "Head of Tests", "businessPhones": []string{"+1 555 0111"}})
	require.NoError(t, err)
	changed, err := b.client.Delta(ctx, next.DeltaLink)
	require.NoError(t, err)
	require.Len(t, changed.Users, 1)
	require.Equal(t, users[0].ID, changed.Users[0].ID)
	require.Equal(t, "Head of Tests", changed.Users[0].JobTitle)
	require.Equal(t, []string{"+1 555 0111"}, changed.Users[0].BusinessPhones)
	require.False(t, changed.Users[0].Deleted())

	require.NoError(t, b.sim.DeleteUser(b.tenant, users[1].UserPrincipalName))
	require.NoError(t, b.sim.PurgeUser(b.tenant, users[2].ID))
	removed, err := b.client.Delta(ctx, changed.DeltaLink)
	require.NoError(t, err)
	require.Len(t, removed.Users, 2)
	reasons := map[string]string{}
	for _, u := range removed.Users {
		require.True(t, u.Deleted())
		reasons[u.ID] = u.Removed.Reason
	}
	require.Equal(t, map[string]string{users[1].ID: "changed", users[2].ID: "deleted"}, reasons)

	// Expired on demand: 410 Gone.
	require.NoError(t, b.sim.ExpireDeltaTokens(b.tenant))
	_, err = b.client.Delta(ctx, removed.DeltaLink)
	require.ErrorIs(t, err, directory.ErrDeltaExpired)
	var gerr *graph.Error
	require.ErrorAs(t, err, &gerr)
	require.Equal(t, http.StatusGone, gerr.StatusCode)

	// Too old: 400 syncStateNotFound, as Microsoft documents for directory objects.
	fresh, err := b.client.Delta(ctx, "")
	require.NoError(t, err)
	require.Len(t, fresh.Users, 118)
	clock.Advance(8 * 24 * time.Hour)
	_, err = b.client.Delta(ctx, fresh.DeltaLink)
	require.ErrorIs(t, err, directory.ErrDeltaExpired)
	require.ErrorAs(t, err, &gerr)
	require.Equal(t, http.StatusBadRequest, gerr.StatusCode)
	require.Equal(t, "syncStateNotFound", gerr.Code)

	// A link for another Graph (config moved) starts over too.
	_, err = b.client.Delta(ctx, "https://graph.microsoft.com/v1.0/users/delta?$deltatoken=x")
	require.ErrorIs(t, err, directory.ErrDeltaExpired)
}

func TestErrorsMapToClasses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault graphsim.Fault
		want  error
	}{
		{"missing consent", graphsim.Fault{Status: 403, Code: "Authorization_RequestDenied"}, directory.ErrPermissionDenied},
		{"unauthorized", graphsim.Fault{Status: 401}, directory.ErrPermissionDenied},
		{"server error", graphsim.Fault{Status: 500}, directory.ErrUnavailable},
		{"bad gateway", graphsim.Fault{Status: 502}, directory.ErrUnavailable},
		{"bad request", graphsim.Fault{Status: 400}, graph.ErrRequest},
		{"resync", graphsim.Fault{Status: 400, Code: "resyncRequired"}, directory.ErrDeltaExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, 3, nil, graph.WithThrottleRetry(0, 0))
			tc.fault.PathContains = "/v1.0/"
			b.sim.InjectFault(tc.fault)
			_, err := collect(t, b.client)
			require.ErrorIs(t, err, tc.want)
			var gerr *graph.Error
			require.ErrorAs(t, err, &gerr)
			require.Equal(t, tc.fault.Status, gerr.StatusCode)
			require.Contains(t, err.Error(), "graph: list users")
		})
	}
}

func TestRevokedConsentIsPermissionDenied(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, nil)
	require.NoError(t, b.sim.RevokeConsent(b.tenant))
	_, err := b.client.GetUser(context.Background(), b.sim.Users(b.tenant)[0].ID)
	require.ErrorIs(t, err, directory.ErrPermissionDenied)
}

func TestBadCredentialsArePermissionDenied(t *testing.T) {
	t.Parallel()
	b := setup(t, 3, nil)
	tests := []struct {
		name   string
		change func(*graph.Config)
	}{
		{"wrong secret", func(c *graph.Config) { c.ClientSecret = "wrong" }},
		{"unknown app", func(c *graph.Config) { c.ClientID = "00000000-0000-0000-0000-000000000001" }},
		{"unknown tenant", func(c *graph.Config) { c.TenantID = "fabrikam" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := b.cfg
			tc.change(&cfg)
			c := b.newClient(t, cfg)
			_, err := collect(t, c)
			require.ErrorIs(t, err, directory.ErrPermissionDenied)
			require.NotContains(t, err.Error(), "wrong", "the secret is not echoed")
			require.Zero(t, c.Requests(), "no Graph call without a token")
		})
	}
}

func TestUnreachableGraphIsUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t, 1, nil)
	cfg := b.cfg
	cfg.BaseURL = "https://127.0.0.1:1/v1.0"
	c := b.newClient(t, cfg)
	_, err := c.GetUser(context.Background(), "x")
	require.ErrorIs(t, err, directory.ErrUnavailable)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = b.client.GetUser(ctx, "x")
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, directory.ErrUnavailable))
}

func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	b := setup(t, 120, nil, graph.WithPageSize(50))
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			users, err := collect(t, b.client)
			if err == nil && len(users) != 120 {
				err = errors.New("short listing")
			}
			errs <- err
		}()
	}
	for i := 0; i < 4; i++ {
		require.NoError(t, <-errs)
	}
	require.EqualValues(t, 12, b.client.Requests())
}

// TestCountEnabledUsers: one $count request with ConsistencyLevel:
// eventual, counting enabled users only, and following changes.
func TestCountEnabledUsers(t *testing.T) {
	t.Parallel()
	b := setup(t, 40, nil)
	want := 0
	var someone graphsim.User
	for _, u := range b.sim.Users(b.tenant) {
		if u.AccountEnabled == nil || *u.AccountEnabled {
			want++
			someone = u
		}
	}
	require.Less(t, want, 40, "the generated tenant has disabled users")
	n, err := b.client.CountEnabledUsers(context.Background())
	require.NoError(t, err)
	require.Equal(t, want, n)

	_, err = b.sim.UpdateUser(b.tenant, someone.ID, map[string]any{"accountEnabled": false})
	require.NoError(t, err)
	n, err = b.client.CountEnabledUsers(context.Background())
	require.NoError(t, err)
	require.Equal(t, want-1, n)
}

// TestLeanPagesMatchTheSDKModels: the bulk pages decoded straight from JSON
// give the same users as the SDK's models for single reads, field for field.
func TestLeanPagesMatchTheSDKModels(t *testing.T) {
	t.Parallel()
	b := setup(t, 60, nil)
	ctx := context.Background()
	listed, err := collect(t, b.client)
	require.NoError(t, err)
	require.Len(t, listed, 60)
	delta, err := b.client.Delta(ctx, "")
	require.NoError(t, err)
	require.Len(t, delta.Users, 60)
	byID := map[string]directory.User{}
	for _, u := range delta.Users {
		byID[u.ID] = u
	}
	licensed := 0
	for _, u := range listed {
		one, err := b.client.GetUser(ctx, u.ID)
		require.NoError(t, err)
		require.Equal(t, one, u, "list page vs single read of %s", u.UserPrincipalName)
		require.Equal(t, one, byID[u.ID], "delta page vs single read of %s", u.UserPrincipalName)
		if len(u.AssignedLicenses) > 0 {
			licensed++
		}
	}
	require.Positive(t, licensed, "licenses (objects on the wire) are decoded too")
}

// TestLatestDeltaLinkStartsNow: $deltatoken=latest enumerates nobody in one
// request, and the link it gives returns exactly the changes made after.
func TestLatestDeltaLinkStartsNow(t *testing.T) {
	t.Parallel()
	b := setup(t, 30, nil)
	ctx := context.Background()
	before := b.client.Requests()
	link, err := b.client.LatestDeltaLink(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, link)
	require.EqualValues(t, 1, b.client.Requests()-before, "one request, no user enumerated")

	someone := b.sim.Users(b.tenant)[3]
	_, err = b.sim.UpdateUser(b.tenant, someone.ID, map[string]any{"jobTitle": "Changed after the link"})
	require.NoError(t, err)
	res, err := b.client.Delta(ctx, link)
	require.NoError(t, err)
	require.Len(t, res.Users, 1, "only the change made after the link")
	require.Equal(t, someone.ID, res.Users[0].ID)
	require.Equal(t, "Changed after the link", res.Users[0].JobTitle)
	require.NotEmpty(t, res.DeltaLink)
}
