package halopsa_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/psasync/psasync/psa"
	"github.com/psasync/psasync/psa/halopsa"
	"github.com/psasync/psasync/psa/halopsa/halosim"
)

// getOne makes one cheap API call.
func getOne(t *testing.T, b testBundle, id int) error {
	t.Helper()
	_, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
	return err
}

func TestTokenIsFetchedOnceAndCached(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})
	for range 5 {
		require.NoError(t, getOne(t, b, id))
	}
	require.Equal(t, 1, tokenRequests(b.sim))

	tok := apiRequests(b.sim, http.MethodPost, "/auth/token")[0]
	form := string(tok.Body)
	for _, want := range []string{"grant_type=client_credentials", "client_id=" + halosim.DefaultClientID, "client_secret=" + halosim.DefaultClientSecret, "scope=all"} {
		require.Contains(t, form, want)
	}
	require.Equal(t, "application/x-www-form-urlencoded", tok.Header.Get("Content-Type"))
}

func TestTokenIsFetchedOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := b.client.GetContact(context.Background(), strconv.Itoa(id))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, tokenRequests(b.sim))
}

func TestTokenIsRefreshedBeforeItExpires(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{sim: []halosim.Option{halosim.WithTokenTTL(10 * time.Minute)}})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})

	require.NoError(t, getOne(t, b, id))
	b.clock.Advance(8 * time.Minute)
	require.NoError(t, getOne(t, b, id))
	require.Equal(t, 1, tokenRequests(b.sim), "8 of 10 minutes: still good")

	b.clock.Advance(90 * time.Second) // 30 s left: inside the one-minute margin
	require.NoError(t, getOne(t, b, id))
	require.Equal(t, 2, tokenRequests(b.sim))

	for _, r := range b.sim.Requests() {
		require.NotEqual(t, http.StatusUnauthorized, r.Status, "the refresh came before Halo refused the old token")
	}
}

func TestTokenIsRefreshedOnceAfter401(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})
	require.NoError(t, getOne(t, b, id))

	b.sim.RevokeTokens()
	b.sim.ResetStats()
	require.NoError(t, getOne(t, b, id))

	var statuses []string
	for _, r := range b.sim.Requests() {
		statuses = append(statuses, r.Method+" "+r.Path+" "+strconv.Itoa(r.Status))
	}
	require.Equal(t, []string{
		"GET /api/Users/" + strconv.Itoa(id) + " 401",
		"POST /auth/token 200",
		"GET /api/Users/" + strconv.Itoa(id) + " 200",
	}, statuses)
}

func TestPersistent401IsRetriedOnlyOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})
	require.NoError(t, getOne(t, b, id)) // a cached token now exists

	b.sim.InjectFault(halosim.Fault{PathContains: "/api/users", Status: http.StatusUnauthorized})
	b.sim.ResetStats()
	err := getOne(t, b, id)
	require.ErrorIs(t, err, psa.ErrPermission)
	require.Len(t, apiRequests(b.sim, http.MethodGet, "/api/Users"), 2)
	require.Equal(t, 1, tokenRequests(b.sim))
}

func TestFreshTokenRefusedIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t, setupOpts{})
	b.sim.InjectFault(halosim.Fault{PathContains: "/api/users", Status: http.StatusUnauthorized})
	err := getOne(t, b, 1)
	require.ErrorIs(t, err, psa.ErrPermission)
	require.Len(t, apiRequests(b.sim, http.MethodGet, "/api/Users"), 1)
	require.Equal(t, 1, tokenRequests(b.sim))
}

func TestWrongCredentials(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t-value-that-must-not-leak"
	b := setup(t, setupOpts{config: func(c *halopsa.Config) { c.ClientSecret = secret }})
	err := getOne(t, b, 1)
	require.ErrorIs(t, err, psa.ErrPermission)
	var pe *psa.Error
	require.ErrorAs(t, err, &pe)
	require.Equal(t, http.StatusUnauthorized, pe.StatusCode)
	require.Equal(t, "invalid_client", pe.VendorCode)
	require.NotContains(t, err.Error(), secret)
	require.Empty(t, apiRequests(b.sim, "", "/api/Users"), "no API call without a token")
}

func TestAuthServerDiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sim      []halosim.Option
		config   func(*halopsa.Config)
		wantErr  error
		wantPath string
	}{
		{name: "authinfo points elsewhere", sim: []halosim.Option{halosim.WithAuthPath("/identity")}, wantPath: "/identity/token"},
		{name: "no authinfo: default /auth", sim: []halosim.Option{halosim.WithoutAuthInfo()}, wantPath: "/auth/token"},
		{name: "no authinfo, auth elsewhere: guess fails", sim: []halosim.Option{halosim.WithoutAuthInfo(), halosim.WithAuthPath("/identity")}, wantErr: psa.ErrConnection},
		{
			name:     "configured auth URL wins",
			sim:      []halosim.Option{halosim.WithoutAuthInfo(), halosim.WithAuthPath("/identity")},
			config:   func(c *halopsa.Config) { c.AuthURL = c.InstanceURL + "/identity/" },
			wantPath: "/identity/token",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{sim: tt.sim, config: tt.config})
			id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})
			err := getOne(t, b, id)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, apiRequests(b.sim, http.MethodPost, tt.wantPath), 1)
			require.NoError(t, getOne(t, b, id))
			require.LessOrEqual(t, len(apiRequests(b.sim, http.MethodGet, "/api/authinfo")), 1, "discovered once")
		})
	}
}

func TestHostedTenant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  func(*halopsa.Config)
		wantErr error
	}{
		{name: "configured tenant", config: func(c *halopsa.Config) { c.Tenant = "acme" }},
		{name: "tenant from authinfo", config: func(c *halopsa.Config) {}},
		{name: "auth URL configured, tenant forgotten", config: func(c *halopsa.Config) { c.AuthURL = c.InstanceURL + "/auth" }, wantErr: psa.ErrPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, setupOpts{sim: []halosim.Option{halosim.WithTenant("acme")}, config: tt.config})
			id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann"})
			err := getOne(t, b, id)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			tok := apiRequests(b.sim, http.MethodPost, "/auth/token")
			require.Len(t, tok, 1)
			require.Equal(t, "tenant=acme", tok[0].RawQuery)
		})
	}
}

func TestSecretAndTokenNeverLogged(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	var mu sync.Mutex
	b := setup(t, setupOpts{client: []halopsa.Option{halopsa.WithLogger(newTestLogger(&logs, &mu).WithField("tenant", "acme"))}})
	id := b.sim.SeedContact(halosim.SeedContact{CompanyID: testCompany, FirstName: "Ann", Email: "ann@contoso.example"})
	require.NoError(t, getOne(t, b, id))
	b.sim.RevokeTokens()
	require.NoError(t, getOne(t, b, id))
	_ = getOne(t, b, 4242)

	var tokens []string
	for _, r := range b.sim.Requests() {
		if h := r.Header.Get("Authorization"); h != "" {
			tokens = append(tokens, strings.TrimPrefix(h, "Bearer "))
		}
	}
	require.NotEmpty(t, tokens)
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	require.Contains(t, out, "halopsa request", "the logger is used")
	require.Contains(t, out, "halopsa token obtained")
	require.Contains(t, out, "tenant=acme", "the caller's fields are kept")
	require.NotContains(t, out, halosim.DefaultClientSecret)
	for _, tok := range tokens {
		require.NotContains(t, out, tok)
	}
	require.NotContains(t, b.cfg.String(), halosim.DefaultClientSecret)
}
